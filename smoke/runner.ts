import { setTimeout as sleep } from "node:timers/promises";
import { redact } from "../lib/contract/endpoints.ts";

/** How long checks cut off by the deadline get to finish their cleanup before the run reports. */
const cleanupGraceMs = 5_000;

/** The parts of a stack that smoke checks look at; each check belongs to one. */
export type Component = "kafka" | "engine" | "dashboards" | "enrichment" | "jupyter";
export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckContext {
  /** Epoch ms by which the whole run must be over; waits end there. */
  readonly deadline: number;
  /** Aborted at the deadline; pass it on to every network call. */
  readonly signal: AbortSignal;
  /** Tells the progress line what the check is waiting for. */
  progress(detail: string): void;
}

/** What a check reports when it does not throw; a thrown error is a failure with the error's message. */
export interface CheckOutcome {
  status: "pass" | "skip";
  message: string;
}

export interface SmokeCheck {
  /** Stable id, `<component>.<name>`, used in every output format. */
  id: string;
  component: Component;
  /** What it verifies, in a few words. */
  title: string;
  /**
   * Checks of other components this one builds on: when one of them did not pass, this check is
   * skipped with the reason, so a stopped service fails only its own checks.
   */
  needs?: string[];
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

/** A component's checks, run one after another (later ones reuse what earlier ones set up). */
export interface CheckGroup {
  component: Component;
  checks: SmokeCheck[];
}

export interface CheckResult {
  id: string;
  component: Component;
  title: string;
  status: CheckStatus;
  message: string;
  durationMs: number;
}

export interface SmokeReport {
  ok: boolean;
  startedAt: string;
  durationMs: number;
  timeoutSeconds: number;
  summary: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/** Receives check life-cycle events, e.g. to draw a progress line. */
export interface ProgressListener {
  begin(totalChecks: number): void;
  started(check: SmokeCheck): void;
  waiting(check: SmokeCheck, detail: string): void;
  finished(result: CheckResult): void;
}

export interface RunOptions {
  timeoutSeconds: number;
  /** Values to hide in every message (passwords, tokens). */
  secrets: readonly string[];
  listener?: ProgressListener;
}

/**
 * Runs the groups concurrently (checks inside a group one after another) within one overall
 * deadline, and reports every check in the order given, whatever happened to the others.
 */
export async function runChecks(groups: readonly CheckGroup[], options: RunOptions): Promise<SmokeReport> {
  const started = Date.now();
  const deadline = started + options.timeoutSeconds * 1000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("smoke timeout")), deadline - started);

  const known = new Set(groups.flatMap((g) => g.checks.map((c) => c.id)));
  for (const group of groups) {
    group.checks.forEach((check, position) => {
      for (const need of check.needs ?? []) {
        if (!known.has(need)) throw new Error(`smoke check ${check.id} needs ${need}, which is not a check of this run`);
        // Checks of a group run in order: waiting for a later one of the same group would never end.
        const later = group.checks.findIndex((c) => c.id === need) >= position;
        if (later) throw new Error(`smoke check ${check.id} needs ${need}, which runs after it in the same group`);
      }
    });
  }

  const settled = new Map<string, { promise: Promise<CheckResult>; resolve: (r: CheckResult) => void }>();
  for (const id of known) {
    let resolve!: (r: CheckResult) => void;
    const promise = new Promise<CheckResult>((r) => (resolve = r));
    settled.set(id, { promise, resolve });
  }

  options.listener?.begin(known.size);
  const inFlight: Promise<unknown>[] = [];
  const runOne = async (check: SmokeCheck): Promise<CheckResult> => {
    const needed = await Promise.all((check.needs ?? []).map((id) => settled.get(id)!.promise));
    const blockers = needed.filter((r) => r.status !== "pass");
    const blocker = blockers.find((r) => r.status === "fail" && r.component === check.component) ?? blockers[0];
    const t0 = Date.now();
    let status: CheckStatus;
    let message: string;
    if (blocker?.status === "fail" && blocker.component === check.component) {
      // The component already failed a check this one builds on: this one cannot pass either.
      status = "fail";
      message = `not run, ${blocker.id} failed: ${blocker.message}`;
    } else if (blocker) {
      status = "skip";
      message = `needs ${blockers.map((b) => `${b.id} (${b.status === "fail" ? "failed" : "skipped"})`).join(", ")}`;
    } else {
      options.listener?.started(check);
      let lastWait: string | undefined;
      const ctx: CheckContext = {
        deadline,
        signal: controller.signal,
        progress: (detail) => {
          lastWait = detail;
          options.listener?.waiting(check, redact(detail, options.secrets));
        },
      };
      try {
        const work = check.run(ctx);
        inFlight.push(work.catch(() => undefined));
        const outcome = await untilAborted(work, controller.signal);
        ({ status, message } = outcome);
      } catch (err) {
        status = "fail";
        message = controller.signal.aborted
          ? `${check.component}: no result within the smoke timeout of ${options.timeoutSeconds}s${lastWait ? ` (was ${lastWait})` : ""}`
          : errorMessage(err);
      }
    }
    const result: CheckResult = {
      id: check.id,
      component: check.component,
      title: check.title,
      status,
      message: redact(message, options.secrets),
      durationMs: Date.now() - t0,
    };
    options.listener?.finished(result);
    settled.get(check.id)!.resolve(result);
    return result;
  };

  try {
    await Promise.all(
      groups.map(async (group) => {
        for (const check of group.checks) await runOne(check);
      }),
    );
  } finally {
    clearTimeout(timer);
    // Checks cut off by the deadline still clean up (e.g. delete probe documents): give them a moment.
    await Promise.race([Promise.all(inFlight), sleep(cleanupGraceMs, undefined, { ref: false })]);
  }

  const checks = await Promise.all(groups.flatMap((g) => g.checks).map((c) => settled.get(c.id)!.promise));
  const summary = { pass: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status]++;
  return {
    ok: summary.fail === 0,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    timeoutSeconds: options.timeoutSeconds,
    summary,
    checks,
  };
}

/** Settles with `work`, or rejects with the abort reason once `signal` fires, whichever is first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
