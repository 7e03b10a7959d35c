import { mkdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import lockfile from "proper-lockfile";
import { cacheDir } from "./cache-dir.ts";

/**
 * Runs `fn` while holding an inter-process lock named `name` in the cache, so that concurrent test runs on
 * one machine never resolve the same artifacts at once. A lock whose holder died goes stale after 30 s.
 */
export async function withCacheLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = join(cacheDir(), "locks");
  mkdirSync(locks, { recursive: true });
  const release = await lockfile.lock(join(locks, name), {
    realpath: false,
    stale: 30_000,
    retries: { retries: 1_200, minTimeout: 250, maxTimeout: 1_000 },
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * Builds an artifact into `dir` once: `build` runs under the lock only when `dir/.complete` does not hold
 * `fingerprint` (what the artifact was made from), so a changed recipe rebuilds and a half-built one is redone.
 */
export async function ensureBuilt(dir: string, fingerprint: string, build: () => Promise<void>): Promise<void> {
  const marker = join(dir, ".complete");
  const done = () => existsSync(marker) && readFileSync(marker, "utf8") === fingerprint;
  if (done()) return;
  await withCacheLock(basename(dir), async () => {
    if (done()) return;
    mkdirSync(dir, { recursive: true });
    await build();
    writeFileSync(marker, fingerprint);
  });
}
