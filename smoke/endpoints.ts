import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_EVENT_TOPICS } from "../lib/contract/names.ts";

/**
 * Where a deployed stack answers, in the shape the Pulumi program exports as its `endpoints` output
 * (and `helk smoke --endpoints FILE` reads). Kafka and the engine are always part of a stack; the
 * other parts are `null` when the stack does not deploy them.
 */
const urlField = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });

const topicSchema = z.object({
  name: z.string().min(1),
  partitions: z.number().int().positive(),
  replicationFactor: z.number().int().positive().optional(),
});

export const endpointsSchema = z.object({
  kafka: z.object({
    bootstrap: z.string().min(1, "expected host:port[,host:port...]"),
    eventTopics: z.array(z.string().min(1)).min(1).default(() => [...DEFAULT_EVENT_TOPICS]),
    deadLetterTopic: z.string().min(1).default(DEFAULT_DEAD_LETTER_TOPIC),
    topics: z.array(topicSchema).default([]),
  }),
  engine: z.object({
    kind: z.enum(["elasticsearch", "opensearch"]),
    url: urlField,
    username: z.string().optional(),
    password: z.string().optional(),
  }),
  dashboards: z.object({ kind: z.enum(["kibana", "opensearch-dashboards"]), url: urlField }).nullable().default(null),
  enrichment: z.object({ url: urlField }).nullable().default(null),
  jupyter: z.object({ url: urlField, token: z.string().min(1) }).nullable().default(null),
});

export type StackEndpoints = z.infer<typeof endpointsSchema>;
export type TopicSpec = z.infer<typeof topicSchema>;

/** Thrown for endpoints that cannot be obtained or are malformed; the message names the source and field. */
export class EndpointsError extends Error {
  override name = "EndpointsError";
}

/**
 * Validates endpoints JSON from `source` (a file name or `stack NAME`): either the bare object or wrapped
 * as `{ "endpoints": {...} }`, which is how `pulumi stack output --json` prints all outputs of a stack.
 */
export function parseEndpoints(value: unknown, source: string): StackEndpoints {
  const candidate = isObject(value) && "endpoints" in value ? value.endpoints : value;
  const parsed = endpointsSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  throw new EndpointsError(`invalid endpoints in ${source}:\n  ${problems.join("\n  ")}`);
}

export async function readEndpointsFile(path: string): Promise<StackEndpoints> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new EndpointsError(`cannot read endpoints file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EndpointsError(`endpoints file ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseEndpoints(json, `endpoints file ${path}`);
}

/**
 * Reads the outputs of a Pulumi stack with the `pulumi` CLI. `--show-secrets` is needed because the
 * engine password and the Jupyter token are secret outputs; they are only held in memory.
 */
export async function readStackEndpoints(stack: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<StackEndpoints> {
  const args = ["stack", "output", "--json", "--show-secrets", "--non-interactive", "--stack", stack];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile("pulumi", args, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (err, out, errOut) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        return reject(
          new EndpointsError(
            "the pulumi CLI is not installed (no `pulumi` on PATH); install it, or pass the endpoints with --endpoints FILE or the endpoint flags",
          ),
        );
      }
      // Pulumi's own message says what is wrong (no such stack, not logged in, ...); it never echoes secrets.
      reject(new EndpointsError(`pulumi stack output --stack ${stack} failed: ${errOut.trim() || err.message}`));
    });
  });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new EndpointsError(`pulumi stack output --stack ${stack} did not print JSON: ${(err as Error).message}`);
  }
  if (!isObject(json) || !("endpoints" in json)) {
    throw new EndpointsError(`stack ${stack} has no \`endpoints\` output (outputs: ${isObject(json) ? Object.keys(json).join(", ") || "none" : "none"})`);
  }
  return parseEndpoints(json, `stack ${stack}`);
}

/** Endpoint values given one by one on the command line; each replaces the same value from a file or stack. */
export interface EndpointOverrides {
  kafkaBootstrap?: string;
  kafkaTopics?: string[];
  engineKind?: string;
  engineUrl?: string;
  engineUsername?: string;
  enginePassword?: string;
  dashboardsKind?: string;
  dashboardsUrl?: string;
  enrichmentUrl?: string;
  jupyterUrl?: string;
  jupyterToken?: string;
}

/**
 * Applies command-line overrides to `base` (or builds the endpoints from the overrides alone) and
 * validates the result. `kafkaTopics` entries are `name:partitions`.
 */
export function applyOverrides(base: StackEndpoints | undefined, o: EndpointOverrides): StackEndpoints {
  const merged: Record<string, unknown> = structuredClone(base ?? {}) as Record<string, unknown>;
  const section = (key: string, set: Record<string, unknown>): void => {
    const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length > 0) merged[key] = { ...(isObject(merged[key]) ? merged[key] : {}), ...defined };
  };
  section("kafka", { bootstrap: o.kafkaBootstrap, topics: o.kafkaTopics?.map(parseTopicFlag) });
  section("engine", { kind: o.engineKind, url: o.engineUrl, username: o.engineUsername, password: o.enginePassword });
  section("dashboards", { kind: o.dashboardsKind, url: o.dashboardsUrl });
  section("enrichment", { url: o.enrichmentUrl });
  section("jupyter", { url: o.jupyterUrl, token: o.jupyterToken });
  return parseEndpoints(merged, base ? "the endpoints after applying the command-line flags" : "the command-line flags");
}

function parseTopicFlag(flag: string): TopicSpec {
  const match = /^([^:]+):(\d+)$/.exec(flag);
  if (!match) throw new EndpointsError(`--kafka-topic ${flag}: expected NAME:PARTITIONS, e.g. winlogbeat:3`);
  return { name: match[1]!, partitions: Number(match[2]) };
}

/** Every value of `endpoints` that must never be printed: passwords, tokens, and passwords inside URLs. */
export function secretsOf(endpoints: StackEndpoints): string[] {
  const secrets = [endpoints.engine.password, endpoints.jupyter?.token];
  for (const url of [endpoints.engine.url, endpoints.dashboards?.url, endpoints.enrichment?.url, endpoints.jupyter?.url]) {
    if (url) secrets.push(decodeURIComponent(new URL(url).password) || undefined);
  }
  return secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
}

/** `text` with every secret replaced by `***` (longest first, so a secret containing another is fully hidden). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join("***");
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join("***");
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
