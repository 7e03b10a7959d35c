import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { cacheDir } from "../harness/cache.ts";
import { attackBundlePath } from "../lib/data.ts";

/**
 * The official Enterprise ATT&CK 18.1 bundle (STIX 2.0, `mitre/cti` tag `ATT&CK-v18.1`), the default for
 * deployments that have no local copy.
 *
 * `sha256` is deliberately empty: this project is built on machines without GitHub access, and the shared test
 * copy is a re-serialized gzip whose checksum is not the upstream file's. Nothing is downloaded unverified: until
 * someone fetches the file on a trusted machine, checks it (`curl -sL <url> | sha256sum`) and fills the value in
 * here, a download needs the checksum passed explicitly (`--sha256` / `HELK_ATTACK_SHA256`).
 */
export const ENTERPRISE_ATTACK_PIN: { version: string; url: string; sha256: string | undefined } = {
  version: "18.1",
  url: "https://raw.githubusercontent.com/mitre/cti/ATT%26CK-v18.1/enterprise-attack/enterprise-attack.json",
  sha256: undefined,
};

export interface SourceOptions {
  /**
   * Expected sha256 (hex) of the bytes at a URL, as served (gzipped or not). Required for http(s) URLs; defaults
   * to `HELK_ATTACK_SHA256` (the pair of `HELK_ATTACK_BUNDLE`), then to the pin of the official bundle.
   */
  sha256?: string;
  /** Where downloads are kept; default `${HELK_CACHE_DIR:-~/.cache/helk}/attack`. */
  cacheDir?: string;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Reads a bundle's JSON text from a path, `file:` URL or pinned http(s) URL; gzip is detected by its magic bytes. */
export async function readBundleText(source: string | URL, opts: SourceOptions = {}): Promise<{ text: string; name: string }> {
  const url = toUrl(source);
  let bytes: Buffer;
  let name: string;
  if (!url) {
    name = String(source);
    bytes = await readFile(name).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`ATT&CK bundle ${name}: cannot read file: ${err.code ?? err.message}`);
    });
  } else if (url.protocol === "file:") {
    name = fileURLToPath(url);
    bytes = await readFile(name).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`ATT&CK bundle ${url.href}: cannot read file: ${err.code ?? err.message}`);
    });
  } else {
    name = url.href;
    bytes = await downloadPinned(url, opts);
  }
  const isGzip = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  try {
    return { text: (isGzip ? gunzipSync(bytes) : bytes).toString("utf8"), name };
  } catch (err) {
    throw new Error(`ATT&CK bundle ${name}: gzip data is corrupt: ${(err as Error).message}`);
  }
}

function toUrl(source: string | URL): URL | undefined {
  if (source instanceof URL) return source;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return undefined;
  const url = new URL(source);
  if (!["http:", "https:", "file:"].includes(url.protocol)) throw new Error(`ATT&CK bundle ${source}: unsupported URL scheme ${url.protocol}`);
  return url;
}

/** Returns the bytes at `url`, from the cache when a copy with the pinned checksum is there, else downloaded and verified. */
async function downloadPinned(url: URL, opts: SourceOptions): Promise<Buffer> {
  const pinned = url.href === ENTERPRISE_ATTACK_PIN.url ? ENTERPRISE_ATTACK_PIN.sha256 : undefined;
  const expected = (opts.sha256 || process.env.HELK_ATTACK_SHA256 || pinned)?.toLowerCase();
  if (!expected) {
    throw new Error(
      `ATT&CK bundle ${url.href}: refusing to download without a pinned sha256. Verify the file on a trusted machine ` +
        "and pass its checksum (--sha256 or HELK_ATTACK_SHA256).",
    );
  }
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new Error(`ATT&CK bundle ${url.href}: sha256 ${expected} is not 64 hex digits`);
  const folder = opts.cacheDir ?? join(cacheDir(), "attack");
  const cached = join(folder, `${expected}.bundle`);
  if (existsSync(cached)) {
    const bytes = await readFile(cached);
    if (sha256(bytes) === expected) return bytes;
  }
  const res = await (opts.fetch ?? fetch)(url).catch((err: Error) => {
    throw new Error(`ATT&CK bundle ${url.href}: download failed: ${err.message}`);
  });
  if (!res.ok) throw new Error(`ATT&CK bundle ${url.href}: download answered HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const actual = sha256(bytes);
  if (actual !== expected) throw new Error(`ATT&CK bundle ${url.href}: sha256 is ${actual}, pinned ${expected}; not using it`);
  await mkdir(folder, { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, cached);
  return bytes;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Where the ATT&CK bundle comes from when none is named: `HELK_ATTACK_BUNDLE`, else the shared test data
 * (`HELK_DATA_DIR` or `../shared`), else the pinned official bundle (from the cache, or downloaded with the
 * checksum). The answer lists everything tried so a failure says where to look.
 */
export function defaultAttackSource(localBundle: () => string = attackBundlePath): { source: string; tried: string[] } {
  if (process.env.HELK_ATTACK_BUNDLE) return { source: process.env.HELK_ATTACK_BUNDLE, tried: ["HELK_ATTACK_BUNDLE"] };
  const tried: string[] = [];
  try {
    const local = localBundle();
    if (existsSync(local)) return { source: local, tried };
    tried.push(local);
  } catch (err) {
    tried.push((err as Error).message);
  }
  tried.push(ENTERPRISE_ATTACK_PIN.url);
  return { source: ENTERPRISE_ATTACK_PIN.url, tried };
}
