import type { CheckResult, ProgressListener, SmokeCheck } from "./runner.ts";

interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Shows what the run is waiting for. On a terminal: one line, redrawn in place, cleared at the end.
 * Elsewhere (CI logs): a line per finished check and, at most every 5 s, a line per waiting check.
 */
export class ProgressLine implements ProgressListener {
  private readonly running = new Map<string, { since: number; detail?: string; lastLogged?: number }>();
  private finishedCount = 0;
  private total = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: Stream) {}

  begin(totalChecks: number): void {
    this.total = totalChecks;
    if (this.out.isTTY) {
      this.timer = setInterval(() => this.redraw(), 200);
      this.timer.unref();
    }
  }

  started(check: SmokeCheck): void {
    this.running.set(check.id, { since: Date.now() });
  }

  waiting(check: SmokeCheck, detail: string): void {
    const entry = this.running.get(check.id);
    if (!entry) return;
    entry.detail = detail;
    if (!this.out.isTTY && (entry.lastLogged === undefined || Date.now() - entry.lastLogged >= 5_000)) {
      entry.lastLogged = Date.now();
      this.out.write(`… ${check.id}: ${detail}\n`);
    }
  }

  finished(result: CheckResult): void {
    this.running.delete(result.id);
    this.finishedCount++;
    if (!this.out.isTTY) this.out.write(`[${this.finishedCount}/${this.total}] ${result.id} ${result.status} (${(result.durationMs / 1000).toFixed(1)}s)\n`);
  }

  /** Stops redrawing and removes the line from the terminal. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.out.isTTY) this.out.write("\r\x1b[2K");
  }

  private redraw(): void {
    const now = Date.now();
    const parts = [...this.running].map(([id, r]) => `${id} ${r.detail ? `${r.detail}` : `(${((now - r.since) / 1000).toFixed(0)}s)`}`);
    const line = `smoke ${this.finishedCount}/${this.total} done${parts.length ? ` · ${parts.join(" · ")}` : ""}`;
    const width = (this.out as { columns?: number }).columns || 120;
    this.out.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
  }
}
