import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Root of the project checkout (the folder holding package.json). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Where the shared data lives: `HELK_DATA_DIR`, else `../shared` beside the checkout.
 * Throws (never skips) when neither holds the ATT&CK bundle, naming both places looked at.
 */
export function dataDir(): string {
  const candidates = [process.env.HELK_DATA_DIR, resolve(projectRoot, "..", "shared")].filter(
    (dir): dir is string => Boolean(dir),
  );
  for (const dir of candidates) {
    if (existsSync(resolve(dir, "attack"))) return dir;
  }
  throw new Error(
    `HELK data not found: looked in ${candidates.join(", ")} for attack/ and datasets/. ` +
      "Set HELK_DATA_DIR to a copy of the shared data (see README, 'Test data').",
  );
}

/** Path of the pinned ATT&CK Enterprise v18.1 STIX bundle. */
export function attackBundlePath(): string {
  return resolve(dataDir(), "attack", "enterprise-attack-v18.1.json.gz");
}

/** Folder of the Security-Datasets recordings (zips of JSON lines). */
export function securityDatasetsDir(): string {
  return resolve(dataDir(), "datasets", "security-datasets");
}
