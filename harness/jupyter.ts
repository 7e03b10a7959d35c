import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { cacheDir } from "../lib/cache-dir.ts";
import { ensureBuilt } from "./cache.ts";
import { freePort, keepRunDirs, makeRunDir, ServerProcess } from "./process.ts";

const run = promisify(execFile);

/** Jupyter Server and the IPython kernel from PyPI, installed into a virtualenv in the cache. */
export const JUPYTER_PACKAGES = ["jupyter_server==2.21.1", "ipykernel==7.4.0"] as const;

export interface JupyterOptions {
  port?: number;
  /** Default: a random one. */
  token?: string;
  /** Directory for config, runtime files, notebooks and the server log. Default: a fresh unique one, removed on stop. */
  dataDir?: string;
  keepData?: boolean;
  readyTimeoutMs?: number;
  /** See {@link import("./process.ts").LaunchOptions.linkToParent}. Default true. */
  linkToParent?: boolean;
}

export interface JupyterEndpoints {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  port: number;
}

export type JupyterServer = ServerProcess & JupyterEndpoints;

/** The Python that makes the virtualenv: `$HELK_PYTHON`, else Debian's, else `python3` on PATH. */
function basePython(): string {
  return process.env.HELK_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

/** Creates (once) the virtualenv with Jupyter Server and ipykernel; returns its directory. */
export async function resolveJupyter(): Promise<string> {
  const venv = join(cacheDir(), "jupyter-venv");
  const python = basePython();
  await ensureBuilt(venv, `${python}\n${JUPYTER_PACKAGES.join("\n")}`, async () => {
    rmSync(venv, { recursive: true, force: true });
    try {
      await run(python, ["-m", "venv", venv]);
      await run(join(venv, "bin", "pip"), ["install", "-q", "--disable-pip-version-check", ...JUPYTER_PACKAGES], {
        maxBuffer: 16 * 1024 * 1024,
        timeout: 15 * 60_000,
      });
    } catch (error) {
      const { stderr = "" } = error as { stderr?: string };
      throw new Error(
        `could not install ${JUPYTER_PACKAGES.join(" ")} into ${venv} with ${python} ` +
          `(Debian needs python3-venv): ${(error as Error).message}\n${stderr.split("\n").slice(-20).join("\n")}`,
      );
    }
  });
  return venv;
}

/** Starts Jupyter Server on 127.0.0.1 with a token and waits until `/api/status` answers. */
export async function startJupyter(options: JupyterOptions = {}): Promise<JupyterServer> {
  const venv = await resolveJupyter();
  const dir = options.dataDir ?? makeRunDir("jupyter");
  for (const sub of ["notebooks", "config", "data", "runtime", "ipython"]) mkdirSync(join(dir, sub), { recursive: true });
  const port = options.port ?? (await freePort());
  const token = options.token ?? randomBytes(24).toString("hex");
  const launched = await ServerProcess.launch({
    name: "Jupyter",
    command: join(venv, "bin", "jupyter-server"),
    args: [
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${port}`,
      "--ServerApp.port_retries=0",
      "--ServerApp.open_browser=False",
      `--ServerApp.root_dir=${join(dir, "notebooks")}`,
      // CI and these machines run as root; Jupyter refuses that unless told.
      ...(process.getuid?.() === 0 ? ["--ServerApp.allow_root=True"] : []),
    ],
    // Everything Jupyter reads or writes stays in this run's directory, not in ~/.jupyter.
    env: {
      ...process.env,
      JUPYTER_TOKEN: token,
      JUPYTER_CONFIG_DIR: join(dir, "config"),
      JUPYTER_DATA_DIR: join(dir, "data"),
      JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
      IPYTHONDIR: join(dir, "ipython"),
    },
    runDir: dir,
    logFile: join(dir, "server.log"),
    linkToParent: options.linkToParent ?? true,
    removeRunDir: !options.keepData && !options.dataDir && !keepRunDirs(),
  });
  const url = `http://127.0.0.1:${port}`;
  const server: JupyterServer = Object.assign(launched, { url, token, port });
  try {
    await server.waitUntilReady("/api/status", () => jupyterReady(url, token), options.readyTimeoutMs ?? 120_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

export async function jupyterReady(url: string, token: string): Promise<boolean> {
  const response = await fetch(`${url}/api/status`, {
    headers: { Authorization: `token ${token}` },
    signal: AbortSignal.timeout(3_000),
  });
  return response.ok;
}
