import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpoolState } from './spool-file.js';

/** The spool's directory layout: one directory per state, plus tmp/ for writes in progress. */
export class SpoolPaths {
  constructor(readonly root: string) {}

  dir(state: SpoolState | 'tmp' | 'corrupt'): string {
    return join(this.root, state);
  }

  file(state: SpoolState, id: string): string {
    return join(this.root, state, id);
  }

  /** A unique temp name; the suffix keeps writers in other processes (the CLI) apart. */
  tmp(id: string): string {
    return join(this.root, 'tmp', `${id}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
  }

  async create(): Promise<void> {
    for (const name of ['tmp', 'queued', 'sending', 'deferred', 'dead', 'corrupt'] as const) {
      await mkdir(this.dir(name), { recursive: true });
    }
  }
}

/** Spool ids sort by creation time, so a directory listing is FIFO order. */
let counter = 0;
export function newSpoolId(): string {
  counter = (counter + 1) % 1_679_616;
  return `${Date.now().toString(36).padStart(9, '0')}-${process.pid.toString(36)}-${counter.toString(36).padStart(4, '0')}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Names that are spool ids (not temp files, not editor leftovers). */
export const isSpoolId = (name: string): boolean => /^[0-9a-z]{9}-[0-9a-z]+-[0-9a-z]{4}-[0-9a-z]+$/.test(name);
