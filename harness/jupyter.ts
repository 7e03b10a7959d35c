import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensureVenv } from "../lib/python-venv.ts";
import { freePort, keepRunDirs, makeRunDir, ServerProcess } from "./process.ts";

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

/** Creates (once) the virtualenv with Jupyter Server and ipykernel; returns its directory. */
export function resolveJupyter(): Promise<string> {
  return ensureVenv("jupyter-venv", JUPYTER_PACKAGES);
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
