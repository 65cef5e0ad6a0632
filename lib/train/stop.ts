/**
 * A stop request for the training loop: Ctrl-C (SIGINT) or an AbortSignal asks the loop to stop
 * after the current step (it then saves a checkpoint and resolves as interrupted); a second
 * Ctrl-C exits at once with status 130. A stop at the time limit (`maxMinutes`, agreed by all
 * ranks of a distributed run) ends the run as a finished one instead: validated, checkpointed,
 * exported.
 */
export interface StopOptions {
  signal?: AbortSignal | undefined;
  /** Install a SIGINT handler (default true). */
  handleSigint?: boolean | undefined;
  /** Told when the first Ctrl-C arrives. */
  onMessage?: ((text: string) => void) | undefined;
}

export class StopRequest implements Disposable {
  #requested = false;
  #reason = '';
  #timeLimit = false;
  readonly #signal: AbortSignal | undefined;
  readonly #sigint: boolean;
  readonly #onAbort = (): void => this.request('abort');
  readonly #onSigint = (): void => {
    if (this.#requested) process.exit(130); // a second Ctrl-C exits at once
    this.request('interrupt');
    this.#message?.('interrupt: saving a checkpoint after this step (Ctrl-C again to quit now)');
  };
  readonly #message: ((text: string) => void) | undefined;

  constructor(options: StopOptions = {}) {
    this.#signal = options.signal;
    this.#sigint = options.handleSigint ?? true;
    this.#message = options.onMessage;
    this.#signal?.addEventListener('abort', this.#onAbort);
    if (this.#signal?.aborted) this.request('abort');
    if (this.#sigint) process.on('SIGINT', this.#onSigint);
  }

  /** Whether a stop was asked for. */
  get requested(): boolean {
    return this.#requested;
  }

  /** Why ('interrupt', 'abort', or what {@link request} was given); '' before. */
  get reason(): string {
    return this.#reason;
  }

  /** Whether the stop is the run's time limit (not an interruption). */
  get timeLimit(): boolean {
    return this.#timeLimit;
  }

  /** Asks the loop to stop after the current step; `timeLimit`: as at `maxMinutes`, not interrupted. */
  request(reason: string, options: { timeLimit?: boolean } = {}): void {
    if (this.#requested) return;
    this.#requested = true;
    this.#reason = reason;
    this.#timeLimit = options.timeLimit === true;
  }

  /** Removes the handlers. */
  dispose(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#sigint) process.off('SIGINT', this.#onSigint);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
