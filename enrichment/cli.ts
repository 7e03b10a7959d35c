import { existsSync } from "node:fs";
import type { Command } from "commander";
import { clientFromEnv } from "../lib/contract/kafka-env.ts";
import { listRecordings, recording } from "../lib/datasets.ts";
import { ensureTopic, replayRecordings, type ReplayShape, STDIN } from "../lib/replay.ts";

/** `helk replay`: Security-Datasets recordings, JSON-lines files or standard input into Kafka (for labs, smoke tests, demos). */
export function registerEnrichmentCommands(program: Command): void {
  program
    .command("replay")
    .description(
      "replay events into a Kafka topic, keyed by host: Security-Datasets recordings (zips of nxlog JSON lines), " +
        "JSON-lines files, or standard input (-); a line that is not JSON is sent as it is (the service dead-letters it). " +
        "A secured cluster: HELK_KAFKA_CA_FILE, HELK_KAFKA_SASL_USERNAME, HELK_KAFKA_SASL_PASSWORD_FILE",
    )
    .argument("[inputs...]", "recordings by the end of their name (e.g. msf_record_mic.zip), paths of zips or JSON-lines files, or - for standard input; none with --all")
    .option("--all", "replay every recording")
    .requiredOption("--brokers <list>", "Kafka bootstrap servers, comma-separated", "127.0.0.1:9092")
    .option("--topic <name>", "topic to produce to", "winlogbeat")
    .option("--shape <shape>", "nxlog events as recorded (nxlog), or as winlogbeat6 or winlogbeat7 would ship them; other events go as they are", "nxlog")
    .option("--limit <n>", "at most this many events per input", (v) => positiveInt(v, "--limit"))
    .option("--create-topic <partitions>", "create the topic with this many partitions when missing", (v) => positiveInt(v, "--create-topic"))
    .action(async (names: string[], opts: { all?: boolean; brokers: string; topic: string; shape: string; limit?: number; createTopic?: number }) => {
      if (!["nxlog", "winlogbeat6", "winlogbeat7"].includes(opts.shape)) throw new Error(`--shape must be nxlog, winlogbeat6 or winlogbeat7, not "${opts.shape}"`);
      if (names.length === 0 && !opts.all) throw new Error("name at least one input (a recording, a file or -), or pass --all");
      // A path or "-" is taken as it is; a bare name that is no file here is a recording's name.
      const paths = opts.all ? listRecordings().map((r) => r.path) : names.map((n) => (n === STDIN || n.includes("/") || existsSync(n) ? n : recording(n).path));
      const kafka = clientFromEnv(process.env, { brokers: opts.brokers });
      if (opts.createTopic) await ensureTopic(kafka, opts.topic, { partitions: opts.createTopic });
      const result = await replayRecordings({
        ...kafka,
        topic: opts.topic,
        recordings: paths,
        shape: opts.shape as ReplayShape,
        limit: opts.limit,
      });
      for (const r of result.perRecording) {
        const notJson = r.notJson > 0 ? ` (${r.notJson} lines not JSON, sent as they are)` : "";
        console.log(`${String(r.produced).padStart(8)}  ${r.path === STDIN ? "standard input" : r.path}${notJson}`);
      }
      console.log(`${String(result.produced).padStart(8)}  events produced to ${opts.topic}`);
    });
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option} must be a positive whole number, not "${value}"`);
  return n;
}
