/** Placeholder base until @smtp-slots/core exports SlotsError. */
export class SlotsError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
