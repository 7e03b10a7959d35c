import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureBuilt, withCacheLock } from "../../harness/cache.ts";
import { checkServer, logTail, makeRunDir, ServerProcess, sweepStaleRunDirs } from "../../harness/process.ts";

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "harness-unit-"));
  process.env.HELK_CACHE_DIR = join(scratch, "cache");
});
afterEach(() => {
  delete process.env.HELK_CACHE_DIR;
  rmSync(scratch, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("cache", () => {
  it("lets one holder at a time into a named lock", async () => {
    const events: string[] = [];
    const holder = (id: string) =>
      withCacheLock("shared", async () => {
        events.push(`in ${id}`);
        await sleep(300);
        events.push(`out ${id}`);
      });
    await Promise.all([holder("a"), holder("b")]);
    expect(events).toHaveLength(4);
    expect(events[0]!.slice(3)).toBe(events[1]!.slice(4)); // the first one left before the second entered
  });

  it("builds once per fingerprint and rebuilds when the recipe changes", async () => {
    const dir = join(scratch, "cache", "thing");
    let builds = 0;
    const build = async () => {
      builds++;
      writeFileSync(join(dir, "artifact"), `build ${builds}`);
    };
    await Promise.all([ensureBuilt(dir, "recipe-1", build), ensureBuilt(dir, "recipe-1", build)]);
    expect(builds).toBe(1);
    await ensureBuilt(dir, "recipe-2", build);
    expect(builds).toBe(2);
    expect(readFileSync(join(dir, "artifact"), "utf8")).toBe("build 2");
  });

  it("redoes a build that failed half way", async () => {
    const dir = join(scratch, "cache", "flaky");
    await expect(ensureBuilt(dir, "r", async () => Promise.reject(new Error("network down")))).rejects.toThrow("network down");
    let built = false;
    await ensureBuilt(dir, "r", async () => {
      built = true;
    });
    expect(built).toBe(true);
  });
});

describe("logTail", () => {
  it("keeps the messages of a Java failure and drops its stack frames", () => {
    const log = join(scratch, "server.log");
    const frames = Array.from({ length: 80 }, (_, i) => `\tat kafka.Frame${i}(Frame.scala:${i})`).join("\n");
    writeFileSync(log, `starting\nERROR Socket server failed to bind to 127.0.0.1:9092\n${frames}\n\t... 6 more\nCaused by: java.net.BindException\n`);
    const tail = logTail(log, 3);
    expect(tail).toBe("starting\nERROR Socket server failed to bind to 127.0.0.1:9092\nCaused by: java.net.BindException");
  });

  it("says so when there is no log", () => {
    expect(logTail(join(scratch, "missing.log"))).toContain("no log at");
  });
});

describe("a server process", () => {
  it("is named with its exit code and log tail once it exits, also from another process's view", async () => {
    process.env.HELK_RUN_ROOT = scratch;
    try {
      const runDir = makeRunDir("fake");
      const logFile = join(runDir, "server.log");
      const server = await ServerProcess.launch({
        name: "Fake",
        command: "sh",
        args: ["-c", "echo about to fail; exit 3"],
        runDir,
        logFile,
        linkToParent: true,
        removeRunDir: true,
      });
      await server.exited;
      expect(() => server.assertRunning()).toThrow(`Fake (pid ${server.pid}) exited with code 3; log tail:\nabout to fail`);
      expect(checkServer(server)?.message).toBe(`Fake (pid ${server.pid}) exited with code 3; log tail:\nabout to fail`);
      await server.stop();
    } finally {
      delete process.env.HELK_RUN_ROOT;
    }
  });

  it("gives up waiting for readiness with the log tail", async () => {
    process.env.HELK_RUN_ROOT = scratch;
    try {
      const runDir = makeRunDir("slow");
      const server = await ServerProcess.launch({
        name: "Slow",
        command: "sh",
        args: ["-c", "echo still warming up; sleep 30"],
        runDir,
        logFile: join(runDir, "server.log"),
        linkToParent: true,
        removeRunDir: true,
      });
      await expect(server.waitUntilReady("never", async () => false, 600)).rejects.toThrow(
        /Slow \(pid \d+\) did not become ready \(never\) within 600 ms; .*\n?still warming up/,
      );
      await server.stop();
      expect(server.exit?.signal).toBe("SIGTERM");
    } finally {
      delete process.env.HELK_RUN_ROOT;
    }
  });
});

describe("stale run directories", () => {
  it("are removed when their owner died, unless kept, still owned or not the harness's", () => {
    const make = (name: string, owner?: number, keep = false) => {
      const dir = join(scratch, name);
      mkdirSync(dir);
      if (owner !== undefined) writeFileSync(join(dir, "owner.pid"), String(owner));
      if (keep) writeFileSync(join(dir, ".keep"), "");
      return dir;
    };
    const deadPid = 2 ** 30; // above any pid_max
    const stale = make("helk-kafka-stale1", deadPid);
    const kept = make("helk-opensearch-kept1", deadPid, true);
    const owned = make("helk-jupyter-owned1", process.pid);
    const foreign = make("helk-kafka-foreign1");
    const other = make("something-else", deadPid);
    sweepStaleRunDirs(scratch);
    expect(existsSync(stale)).toBe(false);
    for (const dir of [kept, owned, foreign, other]) expect(existsSync(dir)).toBe(true);
  });
});
