import { writeFile } from "node:fs/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import { applyOverrides, EndpointsError, readEndpointsFile, readStackEndpoints, type EndpointOverrides, type StackEndpoints } from "../lib/contract/endpoints.ts";
import { ProgressLine } from "./progress.ts";
import { formatJson, formatJunit, formatTable } from "./report.ts";
import { runSmoke } from "./suite.ts";

interface SmokeFlags extends Omit<EndpointOverrides, "kafkaTopics"> {
  kafkaTopic?: string[];
  stack?: string;
  endpoints?: string;
  pulumiCwd?: string;
  json?: boolean;
  junit?: string;
  timeout: number;
  progress: boolean;
}

/** Exit code for a run that could not start (bad flags, unreadable endpoints); 1 means a check failed. */
const usageExitCode = 2;

export function registerSmokeCommands(program: Command): void {
  program
    .command("smoke")
    .description(
      "Smoke-test a deployed stack end to end: Kafka, search engine, dashboards UI, enrichment (with a probe event) and Jupyter. " +
        "Exit code 0 when no check failed, 1 when one did, 2 when the run could not start.",
    )
    .addOption(new Option("--stack <name>", "read the endpoints from `pulumi stack output` of this stack").conflicts("endpoints"))
    .option("--pulumi-cwd <dir>", "directory of the Pulumi project, for --stack (default: the current one)")
    .option("--endpoints <file>", "read the endpoints from a JSON file (the stack's `endpoints` output, bare or wrapped)")
    .option("--json", "print the report as JSON on stdout instead of a table")
    .option("--junit <file>", "also write the report as JUnit XML to this file")
    .addOption(new Option("--timeout <seconds>", "time budget for the whole run").default(60).argParser(positiveSeconds))
    .option("--no-progress", "do not show the progress line on stderr")
    .option("--kafka-bootstrap <brokers>", "Kafka bootstrap servers, host:port[,host:port...]")
    .option("--kafka-topic <name:partitions...>", "a topic that must exist with this many partitions (repeatable)")
    .addOption(new Option("--engine-kind <kind>", "search engine product").choices(["elasticsearch", "opensearch"]))
    .option("--engine-url <url>", "search engine URL")
    .option("--engine-username <user>", "search engine user")
    .addOption(new Option("--engine-password <password>", "search engine password (prefer the environment variable)").env("HELK_ENGINE_PASSWORD"))
    .addOption(new Option("--dashboards-kind <kind>", "dashboards UI product").choices(["kibana", "opensearch-dashboards"]))
    .option("--dashboards-url <url>", "dashboards UI URL")
    .option("--enrichment-url <url>", "enrichment service URL")
    .option("--jupyter-url <url>", "Jupyter server URL")
    .addOption(new Option("--jupyter-token <token>", "Jupyter token (prefer the environment variable)").env("JUPYTER_TOKEN"))
    .action(async (flags: SmokeFlags) => {
      let endpoints: StackEndpoints;
      try {
        endpoints = await resolveEndpoints(flags);
      } catch (err) {
        if (!(err instanceof EndpointsError)) throw err;
        // Not `command.error`: that would print the usage too, which says nothing about a bad file or stack.
        process.stderr.write(`helk smoke: ${err.message}\n`);
        process.exitCode = usageExitCode;
        return;
      }

      // Progress goes to stderr, so stdout stays one clean table or JSON document.
      const progress = flags.progress ? new ProgressLine(process.stderr) : undefined;
      const report = await runSmoke(endpoints, { timeoutSeconds: flags.timeout, listener: progress });
      progress?.stop();

      process.stdout.write(flags.json ? formatJson(report) : formatTable(report, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
      if (flags.junit) await writeFile(flags.junit, formatJunit(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

async function resolveEndpoints(flags: SmokeFlags): Promise<StackEndpoints> {
  const base = flags.stack
    ? await readStackEndpoints(flags.stack, { cwd: flags.pulumiCwd })
    : flags.endpoints
      ? await readEndpointsFile(flags.endpoints)
      : undefined;
  const overrides: EndpointOverrides = {
    kafkaBootstrap: flags.kafkaBootstrap,
    kafkaTopics: flags.kafkaTopic,
    engineKind: flags.engineKind,
    engineUrl: flags.engineUrl,
    engineUsername: flags.engineUsername,
    enginePassword: flags.enginePassword,
    dashboardsKind: flags.dashboardsKind,
    dashboardsUrl: flags.dashboardsUrl,
    enrichmentUrl: flags.enrichmentUrl,
    jupyterUrl: flags.jupyterUrl,
    jupyterToken: flags.jupyterToken,
  };
  if (!base && Object.values(overrides).every((v) => v === undefined)) {
    throw new EndpointsError("no endpoints: give --stack NAME, --endpoints FILE, or the endpoint flags (at least --kafka-bootstrap, --engine-kind, --engine-url)");
  }
  return applyOverrides(base, overrides);
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError("expected a positive number of seconds");
  return seconds;
}
