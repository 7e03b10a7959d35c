/** What keeps the pipeline from moving, as `/readyz`, the stall metric and the log report it. */
export interface PipelineState {
  /** Why consumption is paused now (a disk block pauses at once; a stall after `stallAfterMs`); none: consuming. */
  paused: string[];
  /** Failures that lasted `stallAfterMs` or more, or work that waited that long with nothing written. */
  stalled: string[];
}

/**
 * Tracks failures by cause (a cause fails until one of its writes succeeds) and the writes' progress, and tells
 * when the pipeline is stuck: a cause failing for `stallAfterMs`, or work in flight with no write done for that
 * long (whatever the reason: a loop that reports no failure is caught too). Blocks (the engine refuses writes,
 * e.g. its disk is full) pause consumption at once. Pure: the caller passes the time.
 */
export class PipelineHealth {
  private readonly failures = new Map<string, { since: number; reason: string }>();
  private readonly blocks = new Map<string, string>();
  private lastProgress: number;
  private lastReason: string | undefined;

  constructor(
    private readonly stallAfterMs: number,
    now = Date.now(),
  ) {
    this.lastProgress = now;
  }

  /** A write of `cause` failed and is retried. */
  failed(cause: string, reason: string, now = Date.now()): void {
    const current = this.failures.get(cause);
    this.failures.set(cause, { since: current?.since ?? now, reason });
    this.lastReason = reason;
  }

  /** A write of `cause` succeeded: its failure, if any, is over. */
  succeeded(cause: string): void {
    this.failures.delete(cause);
  }

  /** Writes of `cause` are refused until `reason` goes away (consumption pauses meanwhile). */
  blocked(cause: string, reason: string): void {
    this.blocks.set(cause, reason);
    this.lastReason = reason;
  }

  unblocked(cause: string): void {
    this.blocks.delete(cause);
  }

  /** Work was written (indexed or dead-lettered), or none waits. */
  progressed(now = Date.now()): void {
    this.lastProgress = now;
  }

  state(workWaiting: boolean, now = Date.now()): PipelineState {
    const seconds = (since: number) => Math.round((now - since) / 1000);
    const stalled: string[] = [];
    for (const [cause, { since, reason }] of this.failures) {
      if (now - since >= this.stallAfterMs) stalled.push(`${cause} failing for ${seconds(since)} s: ${reason}`);
    }
    if (!workWaiting) this.lastProgress = now;
    else if (stalled.length === 0 && now - this.lastProgress >= this.stallAfterMs) {
      stalled.push(`nothing written for ${seconds(this.lastProgress)} s${this.lastReason === undefined ? "" : `; last failure: ${this.lastReason}`}`);
    }
    const paused = [...[...this.blocks].map(([cause, reason]) => `${cause}: ${reason}`), ...stalled];
    return { paused, stalled };
  }
}
