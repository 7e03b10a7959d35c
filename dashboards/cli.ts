import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import * as engineEnv from "../lib/contract/engine-env.ts";
import { ENGINE_ENV } from "../lib/contract/engine-env.ts";
import { DASHBOARDS_ENV } from "../lib/contract/setup-env.ts";
import { createEngine } from "../lib/engine.ts";
import { readEndpointsFile, type StackEndpoints } from "../smoke/endpoints.ts";
import { savedObjects } from "./generate.ts";
import { importWhenReady } from "./import.ts";
import { renderDashboards } from "./render.ts";
import { toNdjson, unresolvedReferences } from "./saved-objects.ts";

/**
 * `helk dashboards export|import|render`. Every setting comes from a flag, else an environment variable,
 * else (for import/render) the stack's endpoints file; secrets are never echoed.
 */

const productSchema = z.enum(["kibana", "opensearch-dashboards"]);
const urlSchema = z.url({ protocol: /^https?$/ });

/** First defined of flag, environment variable, endpoints value; validated, with an error naming where it came from. */
function setting<T>(schema: z.ZodType<T>, what: string, sources: [string, string | undefined][]): T {
  const found = sources.find(([, value]) => value !== undefined && value !== "");
  if (!found) throw new Error(`missing ${what}: set ${sources.map(([name]) => name).join(" or ")}`);
  const parsed = schema.safeParse(found[1]);
  if (!parsed.success) throw new Error(`invalid ${what} from ${found[0]}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return parsed.data;
}

const optional = (sources: [string, string | undefined][]): string | undefined =>
  sources.find(([, value]) => value !== undefined && value !== "")?.[1];

async function endpointsFrom(path: string | undefined): Promise<StackEndpoints | undefined> {
  return path ? readEndpointsFile(path) : undefined;
}

const env = process.env;

interface ImportFlags {
  kind?: string;
  url?: string;
  username?: string;
  password?: string;
  endpoints?: string;
  waitSeconds?: string;
}

interface RenderFlags {
  out: string;
  engineKind?: string;
  engineUrl?: string;
  engineUsername?: string;
  enginePassword?: string;
  endpoints?: string;
}

/** Runs a subcommand, turning any failure into one `helk dashboards <name>: message` line and exit code 1. */
function handled<A extends unknown[]>(name: string, action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (err) {
      console.error(`helk dashboards ${name}: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  };
}

export function registerDashboardsCommands(program: Command): void {
  const dashboards = program.command("dashboards").description("HELK dashboards as code for Kibana 9 and OpenSearch Dashboards 2.x");

  dashboards
    .command("export")
    .description("write the saved objects (NDJSON) for one product")
    .requiredOption("--kind <product>", "kibana | opensearch-dashboards")
    .option("--out <file>", "write to this file instead of stdout")
    .action(handled("export", async (flags: { kind: string; out?: string }) => {
      const product = setting(productSchema, "dashboards kind", [["--kind", flags.kind]]);
      const objects = savedObjects(product);
      const problems = unresolvedReferences(product, objects);
      if (problems.length > 0) throw new Error(`generated saved objects have unresolved references:\n  ${problems.join("\n  ")}`);
      const ndjson = toNdjson(objects);
      if (flags.out) {
        await writeFile(flags.out, ndjson);
        console.log(`wrote ${objects.length} ${product} saved objects to ${flags.out}`);
      } else process.stdout.write(ndjson);
    }));

  dashboards
    .command("import")
    .description("import the dashboards into Kibana / OpenSearch Dashboards with overwrite (safe to repeat)")
    .option("--kind <product>", "kibana | opensearch-dashboards (env HELK_DASHBOARDS_KIND, else the endpoints file)")
    .option("--url <url>", "base URL (env HELK_DASHBOARDS_URL, else the endpoints file)")
    .option("--username <user>", "basic-auth user (env HELK_DASHBOARDS_USERNAME, else the engine user of the endpoints file)")
    .option("--password <password>", "basic-auth password (env HELK_DASHBOARDS_PASSWORD, else the endpoints file)")
    .option("--endpoints <file>", "stack endpoints JSON (pulumi stack output --json --show-secrets)")
    .option("--wait-seconds <n>", "keep retrying this long while the server is starting (env HELK_DASHBOARDS_WAIT_SECONDS)", undefined)
    .action(handled("import", async (flags: ImportFlags) => {
      const stack = await endpointsFrom(flags.endpoints);
      const kind = setting(productSchema, "dashboards kind", [
        ["--kind", flags.kind],
        [DASHBOARDS_ENV.kind, env[DASHBOARDS_ENV.kind]],
        ["dashboards.kind of --endpoints", stack?.dashboards?.kind],
      ]);
      const url = setting(urlSchema, "dashboards URL", [
        ["--url", flags.url],
        [DASHBOARDS_ENV.url, env[DASHBOARDS_ENV.url]],
        ["dashboards.url of --endpoints", stack?.dashboards?.url],
      ]);
      const waitSeconds = setting(z.coerce.number().int().min(0), "wait seconds", [
        ["--wait-seconds", flags.waitSeconds],
        [DASHBOARDS_ENV.waitSeconds, env[DASHBOARDS_ENV.waitSeconds]],
        ["the default", "0"],
      ]);
      const username = optional([
        ["--username", flags.username],
        [DASHBOARDS_ENV.username, env[DASHBOARDS_ENV.username]],
        ["engine.username of --endpoints", stack?.engine.username],
      ]);
      const password = optional([
        ["--password", flags.password],
        [DASHBOARDS_ENV.password, env[DASHBOARDS_ENV.password]],
        ["engine.password of --endpoints", stack?.engine.password],
      ]);
      const objects = savedObjects(kind);
      const result = await importWhenReady({ kind, url, username, password }, toNdjson(objects), waitSeconds);
      console.log(
        `imported ${result.successCount} saved objects into ${kind} ${result.version} ` +
          `(${result.overwritten} replaced an earlier import)`,
      );
    }));

  dashboards
    .command("render")
    .description("run every panel's query against the engine and draw it to SVG and PNG")
    .requiredOption("--out <dir>", "output folder (e.g. dist/dashboards)")
    .option("--engine-kind <kind>", "elasticsearch | opensearch (env HELK_ENGINE_KIND, else the endpoints file)")
    .option("--engine-url <url>", "engine URL (env HELK_ENGINE_URL, else the endpoints file)")
    .option("--engine-username <user>", "env HELK_ENGINE_USERNAME, else the endpoints file")
    .option("--engine-password <password>", "env HELK_ENGINE_PASSWORD, else the endpoints file")
    .option("--endpoints <file>", "stack endpoints JSON")
    .addHelpText("after", "\nHELK_ENGINE_INSECURE_TLS=true skips TLS verification (lab certificates).")
    .action(handled("render", async (flags: RenderFlags) => {
      const stack = await endpointsFrom(flags.endpoints);
      // The endpoints file is the lowest layer, then the engine contract's env, then the flags.
      const fromStack = stack
        ? { [ENGINE_ENV.kind]: stack.engine.kind, [ENGINE_ENV.url]: stack.engine.url, [ENGINE_ENV.username]: stack.engine.username, [ENGINE_ENV.password]: stack.engine.password }
        : {};
      const defined = (values: Record<string, string | undefined>) => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ""));
      const engine = createEngine(
        engineEnv.fromEnv(
          { ...fromStack, ...defined(env) },
          { kind: flags.engineKind, url: flags.engineUrl, username: flags.engineUsername, password: flags.enginePassword },
        ),
      );
      try {
        const rendered = await renderDashboards(engine, resolve(flags.out));
        for (const r of rendered) console.log(`${r.hasData ? "ok   " : "EMPTY"} ${r.dashboard}/${r.panel}: ${r.rows} rows → ${r.png}`);
        const empty = rendered.filter((r) => !r.hasData).length;
        console.log(`${rendered.length} panels drawn into ${resolve(flags.out)}, ${empty} without data`);
      } finally {
        await engine.close();
      }
    }));
}
