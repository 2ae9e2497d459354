// Types of format.js for the unit tests (the page itself loads the .js directly).
export interface HolderLike { slot: number; token: number; host: string; worker: string; heldForMs: number; expiresInMs: number }
export interface MailboxLike { limit: number; effectiveLimit: number; holders: HolderLike[] }
export interface Tile { slot: number; state: 'free' | 'blocked' | 'over' | 'held' | 'expiring'; holder?: HolderLike; label?: string; heldForMs?: number; expiresInMs?: number }
export const EXPIRING_SHARE: number;
export function formatDuration(ms: number): string;
export function formatCount(value: number): string;
export function slotTiles(mailbox: MailboxLike, fetchedAt: number, now: number, longestExpiry?: Map<number, number>): Tile[];
export function counterTotal(counters: Record<string, number> | undefined, name: string): number;
export function rejections(counters: Record<string, number> | undefined): { code432: number; other: number };
export function messagesPerMinute(samples: Array<{ at: number; sent: number }>, minSpanMs?: number): number | null;
export function share(used: number, total: number): number;
export function ratePressure(rate: { perMinute: number; availableNow: number; nextFreeInMs: number }): number;
export interface HistoryPointLike { at: string; sent: number; deferred: number; failed: number; rejections432: number; slotGrants: number; slotWaitSeconds: number; spoolDepth: number | null }
export interface HistoryColumns { x: number[]; sent: number[]; failed: number[]; deferred: number[]; rejections432: number[]; slotWaitSeconds: number[]; spoolDepth: Array<number | null> }
export function timeAgo(iso: string, now: number): string;
export function historyColumns(points: HistoryPointLike[]): HistoryColumns;
export function groupByMailbox<T extends { mailbox: string; failedAt: string }>(deadLetters: T[]): Array<[string, T[]]>;
export function decodeHeaderWords(text: string): string;
