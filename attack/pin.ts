import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheDir } from "../lib/cache-dir.ts";

/**
 * The official Enterprise ATT&CK 18.1 bundle of MITRE's attack-stix-data repository, pinned by commit and by the
 * git blob id of the file (`git ls-tree 7ad8a86 enterprise-attack/`), so a download from the repository or from
 * any mirror of it is checked against the bytes MITRE committed. Its sha256 is recorded beside the cached copy
 * on first verification (a sha256 cannot be pinned here: this project is built on machines without GitHub).
 */
export const ENTERPRISE_ATTACK_PIN = {
  version: "18.1",
  fileName: "enterprise-attack-18.1.json",
  url: "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/7ad8a86f41edc91dd37de0487b0c2f44ae3a3af7/enterprise-attack/enterprise-attack-18.1.json",
  gitBlob: "c634454a95b4d761958dd9c8c60499bbb8c06a58",
} as const;

/** What a file must hash to: git's blob id (SHA-1 of `blob <size>\0` + bytes) and/or its sha256. */
export interface Integrity {
  gitBlob?: string;
  sha256?: string;
}

/** Git's object id of a blob with these bytes: the id `git hash-object` and `git ls-tree` print. */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Throws, naming the source and both ids, unless the bytes match every id given (at least one is required). */
export function checkIntegrity(bytes: Uint8Array, expected: Integrity, source: string): void {
  if (!expected.gitBlob && !expected.sha256) throw new Error(`ATT&CK bundle ${source}: no checksum to verify it against`);
  if (expected.gitBlob) {
    const actual = gitBlobId(bytes);
    if (actual !== expected.gitBlob.toLowerCase())
      throw new Error(`ATT&CK bundle ${source}: git blob id is ${actual}, pinned ${expected.gitBlob}; not using it`);
  }
  if (expected.sha256) {
    const actual = sha256Hex(bytes);
    if (actual !== expected.sha256.toLowerCase())
      throw new Error(`ATT&CK bundle ${source}: sha256 is ${actual}, pinned ${expected.sha256}; not using it`);
  }
}

/** Default bound on one download (connect, headers and body): the ~45 MB bundle takes seconds on a normal link. */
export const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface DownloadOptions {
  /** Whole-download bound in ms; default {@link DOWNLOAD_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** The bytes at an http(s) URL, or a clear error naming the URL within `timeoutMs` when it cannot be had. */
export async function download(url: string, opts: DownloadOptions = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const failure = (err: Error): Error =>
    signal.aborted
      ? new Error(`ATT&CK bundle ${url}: no complete answer within ${timeoutMs / 1000} s (unreachable or too slow); use a mirror (--url) or a copy you have (--from-file)`)
      : new Error(`ATT&CK bundle ${url}: download failed: ${describeFetchError(err)}; use a mirror (--url) or a copy you have (--from-file)`);
  try {
    const res = await (opts.fetch ?? fetch)(url, { signal });
    if (!res.ok) throw new Error(`ATT&CK bundle ${url}: download answered HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("ATT&CK bundle")) throw err;
    throw failure(err as Error);
  }
}

/** fetch's TypeError says only "fetch failed"; the cause has the code (ECONNREFUSED, ENOTFOUND, ...). */
function describeFetchError(err: Error): string {
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}

/** Folder of verified bundles: `<HELK cache>/attack`, readable by its owner only. */
export function attackCacheDir(): string {
  return privateDir(join(cacheDir(), "attack"));
}

/** Creates (or narrows) a folder to mode 0700: it holds what other users of the machine have no business reading. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** A bundle release pinned by the git blob id of its file. */
export interface BundlePin {
  version: string;
  fileName: string;
  url: string;
  gitBlob: string;
}

/** Where the pinned bundle lives once verified, and the marker that says it was. */
export function pinnedBundlePath(dir = attackCacheDir(), pin: BundlePin = ENTERPRISE_ATTACK_PIN): { file: string; verified: string } {
  const file = join(dir, pin.fileName);
  return { file, verified: `${file}.verified` };
}

/** The verified pinned bundle in the cache, when `helk attack fetch` (or the lab command) has put it there. */
export function verifiedPinnedBundle(dir?: string): string | undefined {
  const { file, verified } = pinnedBundlePath(dir ?? join(cacheDir(), "attack"));
  return existsSync(file) && existsSync(verified) ? file : undefined;
}

export interface FetchPinnedOptions extends DownloadOptions {
  /** Mirror to download from instead of the official URL; the git blob id is checked all the same. */
  url?: string;
  /** A copy obtained some other way; verified and copied into the cache instead of downloading. */
  fromFile?: string;
  /** Cache folder; default {@link attackCacheDir}. */
  dir?: string;
  /** The release to fetch; default {@link ENTERPRISE_ATTACK_PIN}. */
  pin?: BundlePin;
  onProgress?: (message: string) => void;
}

export interface FetchedBundle {
  file: string;
  sha256: string;
  gitBlob: string;
  /** False when a verified copy was already in the cache. */
  fetched: boolean;
}

/**
 * Puts the pinned ATT&CK bundle into the cache once, verified against its git blob id, and records its sha256.
 * The file is world-readable (containers read it as uid 1000 through a bind mount) inside a 0700 folder.
 */
export async function fetchPinnedBundle(opts: FetchPinnedOptions = {}): Promise<FetchedBundle> {
  const pin = opts.pin ?? ENTERPRISE_ATTACK_PIN;
  const dir = opts.dir ? privateDir(opts.dir) : attackCacheDir();
  const { file, verified } = pinnedBundlePath(dir, pin);
  const expected = { gitBlob: pin.gitBlob };
  if (existsSync(file) && existsSync(verified)) {
    const bytes = await readFile(file);
    try {
      checkIntegrity(bytes, expected, file);
      return { file, sha256: (await readFile(verified, "utf8")).trim(), gitBlob: expected.gitBlob, fetched: false };
    } catch {
      opts.onProgress?.(`${file} no longer matches the pin; fetching it again`);
    }
  }
  const source = opts.fromFile ?? opts.url ?? pin.url;
  opts.onProgress?.(`${opts.fromFile ? "reading" : "downloading"} ATT&CK ${pin.version} from ${source}`);
  const bytes = opts.fromFile
    ? await readFile(opts.fromFile).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`ATT&CK bundle ${opts.fromFile}: cannot read file: ${err.code ?? err.message}`);
      })
    : await download(source, opts);
  checkIntegrity(bytes, expected, source);
  const sha256 = sha256Hex(bytes);
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, bytes, { mode: 0o644 });
  await chmod(partial, 0o644);
  await rename(partial, file);
  await writeFile(verified, `${sha256}\n`, { mode: 0o600 });
  opts.onProgress?.(`verified (git blob ${expected.gitBlob}, sha256 ${sha256}): ${file}`);
  return { file, sha256, gitBlob: expected.gitBlob, fetched: true };
}
