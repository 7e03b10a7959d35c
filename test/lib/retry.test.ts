import { describe, expect, it } from "vitest";
import { backoffDelay, retry, RetryExhausted } from "../../lib/retry.ts";

describe("retry policy", () => {
  it("doubles the pause from the first one up to the cap, within the jitter", () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0.5 };
    for (const [failures, base] of [[0, 100], [1, 200], [3, 800], [4, 1_000], [40, 1_000]] as const) {
      const delays = Array.from({ length: 200 }, () => backoffDelay(failures, policy));
      expect(Math.min(...delays), `after ${failures} failures`).toBeGreaterThanOrEqual(base * 0.75);
      expect(Math.max(...delays), `after ${failures} failures`).toBeLessThanOrEqual(base * 1.25);
    }
  });

  it("returns the first success, after retrying the failures", async () => {
    let calls = 0;
    const seen: number[] = [];
    const result = await retry("flaky", async (attempt) => {
      calls++;
      if (attempt < 3) throw new Error(`failure ${attempt}`);
      return "ok";
    }, { initialDelayMs: 1, maxDelayMs: 2 }, { onRetry: ({ attempt }) => void seen.push(attempt) });
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it("is bounded by attempts and reports the last failure", async () => {
    const error = await retry("always failing", async (attempt) => {
      throw new Error(`failure ${attempt}`);
    }, { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhausted);
    expect((error as RetryExhausted).attempts).toBe(4);
    expect((error as Error).message).toMatch(/always failing: gave up after \d+ s \(4 tries\): failure 4/);
  });

  it("is bounded by time", async () => {
    const started = Date.now();
    const error = await retry("slow", async () => {
      throw new Error("down");
    }, { initialDelayMs: 20, maxDelayMs: 20, maxElapsedMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhausted);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("rethrows a failure that is not retryable at once", async () => {
    let calls = 0;
    const refused = new Error("401 unauthorized");
    const error = await retry("login", async () => {
      calls++;
      throw refused;
    }, { maxDelayMs: 1_000 }, { isRetryable: (e) => e !== refused }).catch((e: unknown) => e);
    expect(error).toBe(refused);
    expect(calls).toBe(1);
  });

  it("stops a long pause as soon as the signal aborts, with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("shutting down");
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    const error = await retry("waiting", async () => {
      throw new Error("down");
    }, { initialDelayMs: 60_000, maxDelayMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
