import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIntegrity, download, fetchPinnedBundle, gitBlobId, sha256Hex, type BundlePin } from "../../attack/pin.ts";
import { miniBundle } from "./mini-bundle.ts";

const dir = mkdtempSync(join(tmpdir(), "helk-pin-"));
const bundle = Buffer.from(JSON.stringify(miniBundle("2.1")));
const mode = (path: string): number => statSync(path).mode & 0o777;

describe("git blob id", () => {
  it("is the id git itself gives the file", () => {
    const file = join(dir, "bundle.json");
    writeFileSync(file, bundle);
    expect(gitBlobId(bundle)).toBe(execFileSync("git", ["hash-object", file], { encoding: "utf8" }).trim());
  });

  it("accepts a file against its own id and refuses it with one byte changed", () => {
    const pin = { gitBlob: gitBlobId(bundle), sha256: sha256Hex(bundle) };
    expect(() => checkIntegrity(bundle, pin, "bundle.json")).not.toThrow();
    const changed = Buffer.from(bundle);
    changed[10] = changed[10]! ^ 1;
    expect(() => checkIntegrity(changed, { gitBlob: pin.gitBlob }, "bundle.json")).toThrow(
      `ATT&CK bundle bundle.json: git blob id is ${gitBlobId(changed)}, pinned ${pin.gitBlob}; not using it`,
    );
    expect(() => checkIntegrity(changed, { sha256: pin.sha256 }, "bundle.json")).toThrow(/sha256 is [0-9a-f]{64}, pinned/);
    expect(() => checkIntegrity(bundle, {}, "bundle.json")).toThrow(/no checksum/);
  });
});

describe("fetchPinnedBundle", () => {
  let server: Server;
  let base = "";
  let requests = 0;
  let served = bundle;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end(served);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  const pin = (): BundlePin => ({ version: "test", fileName: "bundle.json", url: `${base}/bundle.json`, gitBlob: gitBlobId(bundle) });

  it("downloads once, verifies, records the sha256, and keeps other users out of the cache folder", async () => {
    const cache = join(dir, "cache");
    const first = await fetchPinnedBundle({ dir: cache, pin: pin() });
    expect(first).toMatchObject({ file: join(cache, "bundle.json"), sha256: sha256Hex(bundle), fetched: true });
    expect(readFileSync(first.file)).toEqual(bundle);
    expect(mode(cache)).toBe(0o700);
    // Containers read the bundle as uid 1000 through a bind mount; the folder around it stays private.
    expect(mode(first.file)).toBe(0o644);
    expect(mode(`${first.file}.verified`)).toBe(0o600);
    const second = await fetchPinnedBundle({ dir: cache, pin: pin() });
    expect(second).toMatchObject({ fetched: false, sha256: first.sha256 });
    expect(requests).toBe(1);
  });

  it("refuses a download whose bytes differ from the pin, and keeps nothing of it", async () => {
    served = Buffer.from(bundle);
    served[5] = served[5]! ^ 1;
    try {
      const cache = join(dir, "tampered");
      await expect(fetchPinnedBundle({ dir: cache, pin: pin() })).rejects.toThrow(/git blob id is [0-9a-f]{40}, pinned/);
      expect(() => statSync(join(cache, "bundle.json"))).toThrow(/ENOENT/);
    } finally {
      served = bundle;
    }
  });

  it("verifies a copy given as a file instead of downloading", async () => {
    const copy = join(dir, "copy.json");
    writeFileSync(copy, bundle);
    const before = requests;
    const got = await fetchPinnedBundle({ dir: join(dir, "from-file"), pin: pin(), fromFile: copy });
    expect(got.fetched).toBe(true);
    expect(requests).toBe(before);
  });
});

describe("an unreachable source", () => {
  let silent: TcpServer;
  let silentPort = 0;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: the case a bare fetch would wait on for ever.
    silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    silentPort = (silent.address() as AddressInfo).port;
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((done) => silent.close(() => done()));
  });

  it("fails with a clear message within the time bound when the server never answers", async () => {
    const started = Date.now();
    await expect(download(`http://127.0.0.1:${silentPort}/bundle.json`, { timeoutMs: 500 })).rejects.toThrow(
      `ATT&CK bundle http://127.0.0.1:${silentPort}/bundle.json: no complete answer within 0.5 s (unreachable or too slow)`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("names the cause when nothing listens", async () => {
    const closed = createTcpServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    await expect(download(`http://127.0.0.1:${port}/x`, { timeoutMs: 5_000 })).rejects.toThrow(/download failed: ECONNREFUSED; use a mirror/);
  });
});
