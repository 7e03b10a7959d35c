import type { Logger } from "pino";
import { retry } from "../lib/retry.ts";

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
 * Runs `attempt` until it succeeds, pausing with capped exponential backoff (and jitter, lib/retry.ts) after every
 * failure that `isRetryable` accepts. Writes are never dropped: an outage only delays them.
 */
export async function retrying<T>(
  what: string,
  attempt: () => Promise<T>,
  isRetryable: (err: unknown) => boolean,
  options: RetryOptions,
): Promise<T> {
  return retry(what, attempt, { maxDelayMs: options.maxDelayMs }, {
    isRetryable,
    onRetry: async ({ error, attempt: failures, delayMs }) => {
      if (options.shouldGiveUp?.()) throw new GaveUp(`gave up ${what} while shutting down: ${(error as Error).message}`);
      (failures === 1 ? options.log.warn : options.log.error).call(options.log, { err: (error as Error).message, failures, retryInMs: Math.round(delayMs) }, `${what} failed; retrying`);
      options.onRetry?.();
      await options.onWait?.().catch(() => undefined);
    },
  });
}
