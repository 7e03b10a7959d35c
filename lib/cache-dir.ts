import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where downloaded and built artifacts live between runs: `$HELK_CACHE_DIR`, else `~/.cache/helk`. */
export function cacheDir(): string {
  const dir = process.env.HELK_CACHE_DIR || join(homedir(), ".cache", "helk");
  mkdirSync(dir, { recursive: true });
  return dir;
}
