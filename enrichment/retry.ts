import type { Logger } from "pino";
import { backoffDelay, retry } from "../lib/retry.ts";

/** Thrown when the service is shutting down and a write could not complete in its grace time. */
export class GaveUp extends Error {
  override name = "GaveUp";
}

export interface RetryOptions {
  /** Longest pause between attempts (ms); pauses double from 100 ms, with jitter. */
  maxDelayMs: number;
  log: Logger;
  /** Runs during every pause (Kafka heartbeats, so a long engine outage does not cost the partitions). */
  onWait?: () => Promise<void>;
  /** Checked before every retry: true stops retrying with {@link GaveUp}. */
  shouldGiveUp?: () => boolean;
  /** Every failure that is retried, with its message (retry counters, the pipeline's stall report). */
  onRetry?: (reason: string) => void;
  /** Ends the loop at once, pauses included (start-up on SIGTERM): the signal's reason is thrown. */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, pausing with capped exponential backoff and jitter (lib/retry.ts) after every
 * failure that `isRetryable` accepts. The loop ends with success, a failure it does not accept (the caller
 * handles it: splits, dead-letters), or {@link GaveUp} at shutdown; while it lasts, `onRetry` reports every
 * failure so the service can show a stall and pause consumption.
 */
export async function retrying<T>(
  what: string,
  attempt: () => Promise<T>,
  isRetryable: (err: unknown) => boolean,
  options: RetryOptions,
): Promise<T> {
  return retry(what, attempt, { maxDelayMs: options.maxDelayMs, ...(options.signal ? { signal: options.signal } : {}) }, {
    isRetryable,
    onRetry: ({ error, attempt: failures, delayMs }) => beforePause(what, error, failures, delayMs, options),
  });
}

/**
 * The pause before another round of a loop that is not a plain retry (items of a bulk answer the engine refused
 * for now): the same checks, log, hooks and capped backoff with jitter as {@link retrying}, after `failures`
 * rounds in a row that failed.
 */
export async function pauseBeforeRetry(what: string, error: unknown, failures: number, options: RetryOptions): Promise<void> {
  const delayMs = backoffDelay(failures - 1, { maxDelayMs: options.maxDelayMs });
  await beforePause(what, error, failures, delayMs, options);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
}

async function beforePause(what: string, error: unknown, failures: number, delayMs: number, options: RetryOptions): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  if (options.shouldGiveUp?.()) throw new GaveUp(`gave up ${what} while shutting down: ${message}`);
  (failures === 1 ? options.log.warn : options.log.error).call(options.log, { err: message, failures, retryInMs: Math.round(delayMs) }, `${what} failed; retrying`);
  options.onRetry?.(`${what}: ${message}`);
  await options.onWait?.().catch(() => undefined);
}
