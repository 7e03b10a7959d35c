import type { Logger } from "pino";

/** Thrown when the service is shutting down and a write could not complete in its grace time. */
export class GaveUp extends Error {
  override name = "GaveUp";
}

export interface RetryOptions {
  /** Longest pause between attempts (ms); pauses double from 100 ms. */
  maxDelayMs: number;
  log: Logger;
  /** Runs during every pause (Kafka heartbeats, so a long engine outage does not cost the partitions). */
  onWait?: () => Promise<void>;
  /** Checked before every retry: true stops retrying with {@link GaveUp}. */
  shouldGiveUp?: () => boolean;
  onRetry?: () => void;
}

/**
 * Runs `attempt` until it succeeds, pausing with capped exponential backoff (and jitter) after every failure
 * that `isRetryable` accepts. Writes are never dropped: an outage only delays them.
 */
export async function retrying<T>(
  what: string,
  attempt: () => Promise<T>,
  isRetryable: (err: unknown) => boolean,
  options: RetryOptions,
): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (options.shouldGiveUp?.()) throw new GaveUp(`gave up ${what} while shutting down: ${(err as Error).message}`);
      const delay = Math.min(options.maxDelayMs, 100 * 2 ** Math.min(failures, 16)) * (0.75 + Math.random() / 2);
      (failures === 0 ? options.log.warn : options.log.error).call(options.log, { err: (err as Error).message, failures: failures + 1, retryInMs: Math.round(delay) }, `${what} failed; retrying`);
      options.onRetry?.();
      await options.onWait?.().catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
