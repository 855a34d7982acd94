/**
 * Re-runs a document on every edit without piling up work: edits are debounced, a newer run
 * aborts the older one (its kernel worker is stopped), and a result that finishes after a newer
 * run has started is dropped, so a stale shape never replaces a newer one.
 * Pure logic (no vscode import) so it is unit-tested in node.
 */

export interface LiveRunOptions<I, R> {
  /** Does the work; must honour `signal` (resolve or reject soon after it aborts). */
  run: (input: I, signal: AbortSignal, version: number) => Promise<R>;
  /** Receives each result that is still the newest when it arrives. */
  onResult: (result: R, version: number) => void;
  /** Receives a run that threw (not one that was cancelled by a newer run). */
  onError?: (error: unknown, version: number) => void;
  /** Called when a run starts (for a "running…" indicator). */
  onStart?: (version: number) => void;
  delayMs?: number;
}

export class LiveRunner<I, R> {
  private readonly options: LiveRunOptions<I, R>;
  private readonly delayMs: number;
  private timer?: ReturnType<typeof setTimeout>;
  private pendingInput?: { input: I };
  private inFlight?: { version: number; controller: AbortController; done: Promise<void> };
  private scheduledVersion = 0;
  private startedVersion = 0;
  private disposed = false;

  constructor(options: LiveRunOptions<I, R>) {
    this.options = options;
    this.delayMs = options.delayMs ?? 150;
  }

  /** The version of the newest scheduled run (0 before the first). */
  get version(): number {
    return this.scheduledVersion;
  }

  get busy(): boolean {
    return this.inFlight !== undefined || this.timer !== undefined;
  }

  /** Queues a run after the debounce delay; an edit within the delay replaces the queued one. */
  schedule(input: I): number {
    if (this.disposed) return this.scheduledVersion;
    this.pendingInput = { input };
    this.scheduledVersion++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.delayMs);
    return this.scheduledVersion;
  }

  /** Runs now, skipping the debounce (first open, explicit refresh). Resolves when it settles. */
  runNow(input: I): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.pendingInput = { input };
    this.scheduledVersion++;
    if (this.timer) clearTimeout(this.timer);
    return this.fire();
  }

  /** Resolves once nothing is scheduled or running (tests and shutdown use it). */
  async idle(): Promise<void> {
    while (this.timer || this.inFlight) {
      if (this.inFlight) await this.inFlight.done;
      else await new Promise((r) => setTimeout(r, this.delayMs));
    }
  }

  /** Drops the queued run and aborts the one in flight (its result is never delivered). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingInput = undefined;
    this.inFlight?.controller.abort();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.controller.abort();
  }

  private fire(): Promise<void> {
    this.timer = undefined;
    const pending = this.pendingInput;
    this.pendingInput = undefined;
    if (!pending || this.disposed) return Promise.resolve();
    this.inFlight?.controller.abort();
    const version = this.scheduledVersion;
    this.startedVersion = version;
    const controller = new AbortController();
    this.options.onStart?.(version);
    const done = this.options
      .run(pending.input, controller.signal, version)
      .then(
        (result) => {
          if (this.isCurrent(version, controller)) this.options.onResult(result, version);
        },
        (error) => {
          if (this.isCurrent(version, controller)) this.options.onError?.(error, version);
        },
      )
      .finally(() => {
        if (this.inFlight?.version === version) this.inFlight = undefined;
      });
    this.inFlight = { version, controller, done };
    return done;
  }

  private isCurrent(version: number, controller: AbortController): boolean {
    return !this.disposed && !controller.signal.aborted && version === this.startedVersion;
  }
}
