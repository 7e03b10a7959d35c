import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import * as attackEnv from "../lib/contract/attack-env.ts";
import { cacheDir } from "../lib/cache-dir.ts";
import { attackBundlePath } from "../lib/data.ts";
import { checkIntegrity, download, ENTERPRISE_ATTACK_PIN, verifiedPinnedBundle, type DownloadOptions, type Integrity } from "./pin.ts";

export { ENTERPRISE_ATTACK_PIN } from "./pin.ts";

export interface SourceOptions extends DownloadOptions {
  /**
   * Expected sha256 (hex) of the bytes at a URL, as served (gzipped or not). Required for http(s) URLs other than
   * the pinned official one (checked by its git blob id); defaults to `HELK_ATTACK_SHA256` (the pair of
   * `HELK_ATTACK_BUNDLE`).
   */
  sha256?: string;
  /** Where downloads are kept; default `${HELK_CACHE_DIR:-~/.cache/helk}/attack`. */
  cacheDir?: string;
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

/**
 * Returns the bytes at `url`, from the cache when a verified copy is there, else downloaded (bounded in time) and
 * verified: against the given sha256, or, for the pinned official URL, its git blob id.
 */
async function downloadPinned(url: URL, opts: SourceOptions): Promise<Buffer> {
  const sha256 = (opts.sha256 || attackEnv.fromEnv().sha256)?.toLowerCase();
  const expected: Integrity | undefined = sha256
    ? { sha256 }
    : url.href === ENTERPRISE_ATTACK_PIN.url
      ? { gitBlob: ENTERPRISE_ATTACK_PIN.gitBlob }
      : undefined;
  if (!expected) {
    throw new Error(
      `ATT&CK bundle ${url.href}: refusing to download without a pinned sha256. Verify the file on a trusted machine ` +
        "and pass its checksum (--sha256 or HELK_ATTACK_SHA256).",
    );
  }
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`ATT&CK bundle ${url.href}: sha256 ${sha256} is not 64 hex digits`);
  const folder = opts.cacheDir ?? join(cacheDir(), "attack");
  const cached = join(folder, `${expected.sha256 ?? expected.gitBlob}.bundle`);
  if (existsSync(cached)) {
    const bytes = await readFile(cached);
    try {
      checkIntegrity(bytes, expected, cached);
      return bytes;
    } catch {
      // A damaged copy: download it again below.
    }
  }
  const bytes = await download(url.href, opts);
  checkIntegrity(bytes, expected, url.href);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const partial = `${cached}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, cached);
  return bytes;
}

/**
 * Where the ATT&CK bundle comes from when none is named: `HELK_ATTACK_BUNDLE`, else the shared test data
 * (`HELK_DATA_DIR` or `../shared`), else the pinned official bundle: the verified copy `helk attack fetch` keeps
 * in the cache, or a download checked against the pin. The answer lists everything tried so a failure says where
 * to look.
 */
export function defaultAttackSource(localBundle: () => string = attackBundlePath): { source: string; tried: string[] } {
  const { bundle } = attackEnv.fromEnv();
  if (bundle) return { source: bundle, tried: [attackEnv.ATTACK_ENV.bundle] };
  const tried: string[] = [];
  try {
    const local = localBundle();
    if (existsSync(local)) return { source: local, tried };
    tried.push(local);
  } catch (err) {
    tried.push((err as Error).message);
  }
  const fetched = verifiedPinnedBundle();
  if (fetched) return { source: fetched, tried };
  tried.push(ENTERPRISE_ATTACK_PIN.url);
  return { source: ENTERPRISE_ATTACK_PIN.url, tried };
}
