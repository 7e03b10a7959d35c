import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  closeSync,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { poll, RetryExhausted } from "../lib/retry.ts";

/** What every started server hands back. */
export interface ServerHandle {
  /** Human name used in every message: "Kafka", "OpenSearch", "Jupyter". */
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr of the server process. */
  readonly logFile: string;
  /** This run's private directory (config, data, log); its path is unique and appears on the command line. */
  readonly dataDir: string;
  /** Set once the process has exited. */
  readonly exit: ServerExit | undefined;
  /** Throws {@link ServerExitedError} when the process is gone. */
  assertRunning(): void;
  /** Stops the process (TERM, then KILL after a grace period) and removes the run directory unless kept. */
  stop(): Promise<void>;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A server process that ended while it was still needed. Names the server and quotes its log. */
export class ServerExitedError extends Error {
  constructor(
    readonly server: string,
    readonly pid: number,
    readonly exitDescription: string,
    readonly logTail: string,
  ) {
    super(`${server} (pid ${pid}) ${exitDescription}; log tail:\n${logTail}`);
    this.name = "ServerExitedError";
  }
}

/**
 * The last `maxLines` lines of a log file (from its final 64 KiB), without Java stack frames ("\tat ...",
 * "... 6 more"), which would otherwise push the actual error messages out of the tail.
 */
export function logTail(file: string, maxLines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer
      .toString("utf8")
      .split("\n")
      .filter((line) => line !== "" && !/^\s+(at |\.\.\. \d+ more)/.test(line));
    return lines.slice(-maxLines).join("\n") || "(log is empty)";
  } finally {
    closeSync(fd);
  }
}

export function describeExit(exit: ServerExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

const EXIT_RECORD = "exit.json";

function writeExitRecord(runDir: string, exit: ServerExit): void {
  try {
    writeFileSync(join(runDir, EXIT_RECORD), JSON.stringify(exit));
  } catch {
    // run directory already removed
  }
}

/**
 * From any process: a {@link ServerExitedError} when the server with this PID, started by the harness in
 * `runDir`, is no longer running; undefined while it runs.
 */
export function checkServer(server: { name: string; pid: number; logFile: string; dataDir: string }): ServerExitedError | undefined {
  if (pidAlive(server.pid)) return undefined;
  let description = "is no longer running";
  try {
    description = describeExit(JSON.parse(readFileSync(join(server.dataDir, EXIT_RECORD), "utf8")) as ServerExit);
  } catch {
    // the starting process has not recorded the exit (yet)
  }
  return new ServerExitedError(server.name, server.pid, description, logTail(server.logFile));
}

/** Whether a PID names a live process. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A fresh, unique directory for one server run. Its path carries the server name and a random part, so that
 * `pgrep -f <dir>` finds exactly this run's processes even when several test runs share the machine.
 */
export function makeRunDir(server: string): string {
  const root = runRoot();
  if (!swept) sweepStaleRunDirs(root);
  swept = true;
  const dir = mkdtempSync(join(root, `helk-${server}-`));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

function runRoot(): string {
  return process.env.HELK_RUN_ROOT ?? tmpdir();
}

/** Holds the PID of the process that made a run directory; a `.keep` file exempts the directory from sweeping. */
const OWNER_FILE = "owner.pid";
const KEEP_FILE = ".keep";
let swept = false;

/**
 * Removes run directories left by runs that died without cleaning up (vitest killed with SIGKILL): those whose
 * owner is gone, that nobody asked to keep, and that no process mentions. `makeRunDir` runs it once per process.
 */
export function sweepStaleRunDirs(root: string = runRoot()): void {
  for (const name of readdirSync(root)) {
    if (!/^helk-(kafka|opensearch|jupyter|kubernetes)-/.test(name)) continue;
    const dir = join(root, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), "utf8"));
    } catch {
      continue; // no owner file: not made by this harness
    }
    if (pidAlive(owner) || existsSync(join(dir, KEEP_FILE)) || processesUsing(dir).length > 0) continue;
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LaunchOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  runDir: string;
  logFile: string;
  /**
   * Tie the server's life to this Node process: it gets SIGTERM when we die, even by SIGKILL (Linux
   * parent-death signal through `setpriv`), and is killed on our exit. True for tests; the CLI's
   * background servers set it false.
   */
  linkToParent: boolean;
  /** Remove `runDir` on stop. */
  removeRunDir: boolean;
  /** Grace period between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
}

/** Servers tied to this process, with whether their run directory goes when they do. */
const liveChildren = new Map<ChildProcess, { removeRunDir: boolean; runDir: string }>();
let exitHooksInstalled = false;

/** Kills the linked servers and removes their run directories, synchronously (safe in exit handlers). */
function killLinkedServers(): void {
  for (const [child, { removeRunDir, runDir }] of liveChildren) {
    killGroup(child.pid, "SIGKILL");
    if (removeRunDir) rmSync(runDir, { recursive: true, force: true });
  }
  liveChildren.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // Last resort on any exit of this process (failures, process.exit): no server outlives it.
  process.on("exit", killLinkedServers);
  // Ctrl-C or kill while servers run, even before a test runner has its own handlers: clean up, then let
  // the signal do what it would have done (terminate) unless someone else handles it.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      killLinkedServers();
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** A running server process with an exit watchdog. Subclass handles add endpoints. */
export class ServerProcess implements ServerHandle {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly dataDir: string;
  exit: ServerExit | undefined;
  readonly exited: Promise<ServerExit>;
  private readonly child: ChildProcess;
  private readonly options: LaunchOptions;
  private stopping = false;

  private constructor(child: ChildProcess, options: LaunchOptions) {
    this.child = child;
    this.options = options;
    this.name = options.name;
    this.pid = child.pid!;
    this.logFile = options.logFile;
    this.dataDir = options.runDir;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        liveChildren.delete(child);
        // Test workers cannot see our child's exit status; they read it from here (see checkServer).
        if (!this.stopping) writeExitRecord(options.runDir, this.exit);
        resolve(this.exit);
      });
    });
  }

  /** Starts `command` in its own process group with stdout and stderr appended to `logFile`. */
  static async launch(options: LaunchOptions): Promise<ServerProcess> {
    const log = createWriteStream(options.logFile, { flags: "a" });
    await new Promise<void>((resolve, reject) => log.once("open", () => resolve()).once("error", reject));
    // Without util-linux's setpriv the exit and signal handlers below still clean up, only a SIGKILL cannot.
    const [command, args] =
      options.linkToParent && setprivAvailable()
        ? ["setpriv", ["--pdeathsig", "TERM", "--", options.command, ...options.args]]
        : [options.command, options.args];
    const child = spawn(command, args, {
      cwd: options.cwd ?? options.runDir,
      env: options.env ?? process.env,
      detached: true,
      stdio: ["ignore", log, log],
    });
    log.close();
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (error) =>
        reject(new Error(`${options.name}: could not run ${command}: ${error.message}`, { cause: error })),
      );
    });
    if (!options.removeRunDir) writeFileSync(join(options.runDir, KEEP_FILE), "kept on request\n");
    if (options.linkToParent) {
      liveChildren.set(child, options);
      installExitHooks();
    } else {
      child.unref();
    }
    return new ServerProcess(child, options);
  }

  assertRunning(): void {
    if (this.exit) throw this.exitedError();
  }

  exitedError(): ServerExitedError {
    return new ServerExitedError(this.name, this.pid, describeExit(this.exit!), logTail(this.logFile));
  }

  /**
   * Polls `probe` until it resolves true. Fails early, with the server's log tail, when the process exits;
   * fails with the log tail after `timeoutMs`.
   */
  async waitUntilReady(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    let lastProblem = "no answer yet";
    const exited = new AbortController();
    void this.exited.then(() => exited.abort());
    try {
      await poll(what, async () => {
        this.assertRunning();
        try {
          if (await probe()) return true;
        } catch (error) {
          lastProblem = (error as Error).message;
        }
        this.assertRunning();
        return undefined;
      }, { initialDelayMs: 250, maxDelayMs: 1_000, maxElapsedMs: timeoutMs, signal: exited.signal });
    } catch (error) {
      this.assertRunning(); // the pause ended because the process exited: say so, with its log tail
      if (!(error instanceof RetryExhausted)) throw error;
      throw new Error(
        `${this.name} (pid ${this.pid}) did not become ready (${what}) within ${timeoutMs} ms; last problem: ` +
          `${lastProblem}; log tail (${this.logFile}):\n${logTail(this.logFile)}`,
      );
    }
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      await stopServer(this, {
        exited: this.exited,
        graceMs: this.options.stopTimeoutMs,
        removeRunDir: this.options.removeRunDir,
      });
    }
    await this.exited;
  }
}

/**
 * Stops a server's process group: SIGTERM, SIGKILL after `graceMs` (default 20 s), then SIGKILL for whatever
 * else is in the group (Jupyter kernels). Checks with `pgrep -f <run dir>` that nothing of the run survives,
 * removes the run directory when asked, and throws when leftovers had to be killed. `exited` resolves when the
 * server's main process is gone (a child's exit event, or {@link pidExited} for a process we did not spawn).
 */
export async function stopServer(
  server: { name: string; pid: number; dataDir: string },
  options: { exited: Promise<unknown>; graceMs?: number; removeRunDir: boolean },
): Promise<void> {
  const exited = options.exited.then(() => undefined);
  killGroup(server.pid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.graceMs ?? 20_000);
  });
  await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  // Ends the main process if the grace period ran out, and helpers left in its group either way.
  killGroup(server.pid, "SIGKILL");
  await exited;
  // A SIGKILLed group member can take a moment to vanish; only what survives that is a leftover.
  let leftovers = processesUsing(server.dataDir);
  if (leftovers.length > 0) leftovers = await sleep(500).then(() => processesUsing(server.dataDir));
  for (const pid of leftovers) killGroup(pid, "SIGKILL");
  if (options.removeRunDir) rmSync(server.dataDir, { recursive: true, force: true });
  if (leftovers.length > 0) {
    throw new Error(`${server.name} left processes ${leftovers.join(", ")} running after stop (killed them now)`);
  }
}

/** Resolves once `pid` is gone, polling (for servers started by another process, e.g. `services up`). */
export async function pidExited(pid: number): Promise<void> {
  // Unbounded by design: the caller bounds the wait (stopServer's grace period, then SIGKILL).
  await poll(`exit of pid ${pid}`, async () => (pidAlive(pid) ? undefined : true), { initialDelayMs: 50, maxDelayMs: 200 });
}

function setprivAvailable(): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, "setpriv")));
}

/** PIDs whose command line mentions `dir` (a run directory), as `pgrep -f` sees them. */
export function processesUsing(dir: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", dir], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch (error) {
    if ((error as { status?: number }).status === 1) return []; // pgrep: nothing matched
    throw error;
  }
}

/** Whether the run directories of this process's servers should survive `stop()` (for debugging). */
export function keepRunDirs(): boolean {
  return process.env.HELK_KEEP_RUN_DIRS === "1";
}
