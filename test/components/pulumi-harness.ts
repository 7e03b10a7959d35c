import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { stackFilePath } from "../../components/stack-file.ts";

/** One resource the program declared, as the Pulumi engine (here: its mocks) received it. */
export interface Declared {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

/** Marker Pulumi puts on secret values it sends to the engine (rpc.specialSigKey / specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value with every secret wrapper removed. */
export function reveal(value: unknown): any {
  if (isSecretValue(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  return value;
}

export interface ProgramOptions {
  /** Settings merged into the stack file's sections, as `pulumi config set --path` would: `{ "helk:enrichment": { ... } }`. */
  settings?: Record<string, Record<string, unknown>>;
  /** How a job container ends, by container name (default: exit code 0, empty log), as the docker provider reports it. */
  jobs?: Record<string, { exitCode: number; logs: string }>;
  /** Every declared resource is pushed here as it is registered (for a caller that outlives a failing program). */
  declared?: Declared[];
}

/** The stack file's `config:` as the Pulumi CLI hands it to a program: structured values as JSON text. */
function stackConfigAsPulumiDoes(stack: string, settings: ProgramOptions["settings"] = {}): Record<string, string> {
  const document = parse(readFileSync(stackFilePath(stack), "utf8")) as { config: Record<string, unknown> };
  for (const [key, values] of Object.entries(settings)) document.config[key] = { ...(document.config[key] as object), ...values };
  return Object.fromEntries(
    Object.entries(document.config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

/** Outputs a mocked provider reports for a resource: its inputs plus what the real provider would compute. */
function mockState(type: string, name: string, inputs: Record<string, any>, jobs: ProgramOptions["jobs"] = {}): Record<string, unknown> {
  if (type === "random:index/randomPassword:RandomPassword") return { ...inputs, result: `generated-${name}-Zq7` };
  if (type === "docker:index/remoteImage:RemoteImage") return { ...inputs, imageId: `sha256:${name}`, repoDigest: `${inputs.name}@sha256:0` };
  // An attached container (a job) has run to its end when the provider reports it created.
  if (type === "docker:index/container:Container" && inputs.attach) {
    const end = jobs[name] ?? { exitCode: 0, logs: "" };
    return { ...inputs, exitCode: end.exitCode, containerLogs: end.logs };
  }
  return inputs;
}

/**
 * Runs the real Pulumi program (index.ts) for a stack of stacks/ against Pulumi's mocks and returns every
 * resource it declared and its `endpoints` output. One program per test file (modules are cached).
 */
export async function runProgram(
  stack: string,
  options: ProgramOptions = {},
): Promise<{
  declared: Declared[];
  endpoints: any;
  endpointsSecret: boolean;
  generatedSecrets: string[];
}> {
  const declared: Declared[] = options.declared ?? [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        declared.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs, options.jobs) };
      },
      call: (args) => args.inputs,
    },
    "helk",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(stackConfigAsPulumiDoes(stack, options.settings));
  const program = (await import("../../index.ts")) as { endpoints: pulumi.Output<unknown> };
  const [endpoints, endpointsSecret] = await Promise.all([
    new Promise((resolve) => program.endpoints.apply(resolve)),
    pulumi.isSecret(program.endpoints),
  ]);
  // Registrations are RPCs; give the last ones time to reach the mocks.
  let count = -1;
  while (count !== declared.length) {
    count = declared.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  const generatedSecrets = declared
    .filter((d) => d.type === "random:index/randomPassword:RandomPassword")
    .map((d) => String(mockState(d.type, d.name, d.inputs).result));
  return { declared, endpoints, endpointsSecret, generatedSecrets };
}

/** `NAME=value` env lines as a map. */
export function envMap(lines: string[]): Record<string, string> {
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}
