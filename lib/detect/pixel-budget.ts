/**
 * A byte budget for decoded photos in flight: the photos of the batch being detected and those
 * read ahead share it, so that memory is bounded by the budget, not by batch × photo size
 * (16 photos of 49 MP are 2.4 GB of RGB). Requests are granted in order (first come, first
 * served); a request larger than the whole budget is granted when nothing else is held, so one
 * huge photo still goes through (alone).
 */

/**
 * The default budget of decoded RGB bytes in flight (512 MiB: three photos of 50 MP, or 60 of 8 MP,
 * at once).
 */
export const DEFAULT_DECODED_BYTES = 512 * 1024 * 1024;

/** Checks a budget option (a positive safe integer of bytes). */
export function checkDecodedBytes(v: unknown, what = 'maxDecodedBytes'): number {
  if (v === undefined) return DEFAULT_DECODED_BYTES;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`detect: ${what} must be a positive integer (bytes), got ${String(v)}`);
  return v;
}

/** Bytes held under a budget, granted in request order. */
export class PixelBudget {
  #used = 0;
  #peak = 0;
  #closed = false;
  readonly #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** The most bytes held at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Resolves once `bytes` are held (in request order); resolves at once after {@link close}. */
  acquire(bytes: number): Promise<void> {
    return new Promise((grant) => {
      this.#waiting.push({ bytes, grant });
      this.#drain();
    });
  }

  /** Gives back bytes of an earlier {@link acquire}. */
  release(bytes: number): void {
    this.#used -= bytes;
    this.#drain();
  }

  /** Grants every pending and later request (the reader is being stopped). */
  close(): void {
    this.#closed = true;
    this.#drain();
  }

  #drain(): void {
    while (this.#waiting.length > 0) {
      const w = this.#waiting[0]!;
      if (!this.#closed && this.#used > 0 && this.#used + w.bytes > this.limit) return;
      this.#waiting.shift();
      this.#used += w.bytes;
      this.#peak = Math.max(this.#peak, this.#used);
      w.grant();
    }
  }
}
