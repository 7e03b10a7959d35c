import { setTimeout as sleep } from "node:timers/promises";

/** How a loop retries: capped exponential backoff with jitter, bounded by attempts and/or time, cancellable. */
export interface RetryPolicy {
  /** First pause (ms); each further pause doubles it. Default 100. */
  initialDelayMs?: number;
  /** Longest pause (ms). */
  maxDelayMs: number;
  /** Spread of each pause around its value: 0.5 means ±25 %. Default 0.5. */
  jitter?: number;
  /** Give up once this many attempts failed. Default: no limit (bound the loop by time or signal). */
  maxAttempts?: number;
  /** Give up when the next attempt would start this long (ms) after the first. Default: no limit. */
  maxElapsedMs?: number;
  /** Ends the loop: the pause is cut short and the signal's reason is thrown. */
  signal?: AbortSignal;
}

export interface RetryHooks {
  /** Whether a failure is worth another attempt (default: every failure). */
  isRetryable?: (error: unknown) => boolean;
  /** Runs before each pause; may throw to stop retrying with that error. */
  onRetry?: (failure: { error: unknown; attempt: number; delayMs: number }) => void | Promise<void>;
}

/** Thrown when the policy's attempts or time ran out; carries the last failure. */
export class RetryExhausted extends Error {
  override name = "RetryExhausted";
  constructor(
    what: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    readonly lastError: unknown,
  ) {
    super(`${what}: gave up after ${Math.round(elapsedMs / 1000)} s (${attempts} tries): ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }
}

/** The pause after `failures` failed attempts (0 for the first), jitter included. */
export function backoffDelay(failures: number, policy: RetryPolicy): number {
  const base = Math.min(policy.maxDelayMs, (policy.initialDelayMs ?? 100) * 2 ** Math.min(failures, 30));
  const jitter = policy.jitter ?? 0.5;
  return base * (1 - jitter / 2 + Math.random() * jitter);
}

/** Runs `attempt` until it succeeds, a failure is not retryable, the policy's bounds run out, or the signal aborts. */
export async function retry<T>(what: string, attempt: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const started = Date.now();
  for (let attempts = 1; ; attempts++) {
    policy.signal?.throwIfAborted();
    try {
      return await attempt(attempts);
    } catch (error) {
      if (hooks.isRetryable && !hooks.isRetryable(error)) throw error;
      policy.signal?.throwIfAborted();
      const delayMs = backoffDelay(attempts - 1, policy);
      const elapsed = Date.now() - started;
      if ((policy.maxAttempts !== undefined && attempts >= policy.maxAttempts) || (policy.maxElapsedMs !== undefined && elapsed + delayMs > policy.maxElapsedMs))
        throw new RetryExhausted(what, attempts, elapsed, error);
      await hooks.onRetry?.({ error, attempt: attempts, delayMs });
      await sleep(delayMs, undefined, policy.signal ? { signal: policy.signal } : {}).catch((err: unknown) => {
        throw policy.signal?.aborted ? policy.signal.reason : err;
      });
    }
  }
}
