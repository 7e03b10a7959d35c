/**
 * `npm run lab`: the whole quick start as one command. Each step says what it does and how long it took; a failed
 * step names itself, the cause and the fix. Running it again changes nothing (the preview finds no change, so
 * nothing is applied) and re-checks the running stack.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fetchPinnedBundle, privateDir } from "../attack/pin.ts";
import type { HelkConfig } from "../components/config.ts";
import { loadStackConfig, stackFilePath } from "../components/stack-file.ts";
import { cacheDir } from "../lib/cache-dir.ts";
import { projectRoot } from "../lib/data.ts";
import { parseEndpoints, type StackEndpoints } from "../smoke/endpoints.ts";
import { ProgressLine } from "../smoke/progress.ts";
import { formatTable } from "../smoke/report.ts";
import { runSmoke } from "../smoke/suite.ts";
import { waitHealthy } from "./containers.ts";

const LAB_DIR = join(projectRoot, "lab");

/** A step that failed: which, why, and what the user can do about it. */
export class LabStepError extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`step "${step}" failed: ${reason}\n  fix: ${fix}`);
  }
}

export interface LabOptions {
  /** Stack name: `stacks/Pulumi.<stack>.yaml`. */
  stack: string;
  /** Download the pinned ATT&CK bundle from this mirror instead of MITRE's repository. */
  attackUrl?: string;
  /** Verify and use this copy of the pinned ATT&CK bundle instead of downloading it. */
  attackFromFile?: string;
  /** Time budget of the smoke checks, in seconds. */
  smokeTimeoutSeconds?: number;
  /** Where progress lines go; default stderr. */
  log?: (line: string) => void;
}

/** What a lab run leaves the caller: the environment pulumi ran in (for more pulumi commands) and the stack's endpoints. */
export interface LabSession {
  stack: string;
  config: HelkConfig;
  /** PATH, PULUMI_HOME, backend and passphrase settings the pulumi commands of this stack need. */
  env: NodeJS.ProcessEnv;
  backend: string;
  passphraseFile?: string;
}

export interface LabUpResult extends LabSession {
  /** Steps the preview found (creates, updates, replaces, deletes); 0 means nothing was applied. */
  changes: number;
  endpoints: StackEndpoints;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; stderr is shown live (it carries progress) unless `quiet`, and kept for error messages. */
function run(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; inheritStdout?: boolean; quiet?: boolean } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: projectRoot, env: opts.env ?? process.env, stdio: ["ignore", opts.inheritStdout ? "inherit" : "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!opts.quiet) process.stderr.write(chunk);
    });
    child.on("error", (err: NodeJS.ErrnoException) => fail(err.code === "ENOENT" ? new Error(`${command} is not installed (not on PATH)`) : err));
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

const lastLines = (text: string, n = 12): string => text.trim().split("\n").slice(-n).join("\n    ");

class Steps {
  private index = 0;
  constructor(
    private readonly total: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs one step; an error that is not already a LabStepError becomes one with `fix`. */
  async run<T>(title: string, fix: string, body: () => Promise<T>, describe?: (result: T) => string): Promise<T> {
    this.index++;
    this.log(`[lab] (${this.index}/${this.total}) ${title} ...`);
    const started = Date.now();
    try {
      const result = await body();
      const detail = describe ? `: ${describe(result)}` : "";
      this.log(`[lab] (${this.index}/${this.total}) ${title}: done in ${((Date.now() - started) / 1000).toFixed(1)} s${detail}`);
      return result;
    } catch (err) {
      if (err instanceof LabStepError) throw err;
      throw new LabStepError(title, err instanceof Error ? err.message : String(err), fix);
    }
  }
}

const stateHome = (): string => process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
const configHome = (): string => process.env.XDG_CONFIG_HOME || join(homedir(), ".config");

/** Where the lab keeps Pulumi state when the user has no backend of their own. */
export function localStateDir(): string {
  return join(stateHome(), "helk", "pulumi");
}

/** The generated passphrase of a stack: made once, readable by its owner only. */
export function passphrasePath(stack: string): string {
  return join(configHome(), "helk", "passphrases", stack);
}

/** Creates the passphrase file once (mode 0600 in a 0700 folder); an existing one is kept as it is. */
export async function ensurePassphrase(stack: string): Promise<{ file: string; created: boolean }> {
  const file = passphrasePath(stack);
  privateDir(join(configHome(), "helk"));
  privateDir(join(configHome(), "helk", "passphrases"));
  if (existsSync(file)) return { file, created: false };
  await writeFile(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  return { file, created: true };
}

/** Pulumi CLI (built with Go from the lockfile's version when none is installed) and the env to run it in. */
async function pulumiToolchain(): Promise<NodeJS.ProcessEnv> {
  const result = await run("bash", [join(LAB_DIR, "toolchain.sh")]);
  if (result.code !== 0) throw new Error(lastLines(result.stderr));
  const bin = result.stdout.trim().split("\n").pop()!;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
  // Our own build keeps its plugins in a Pulumi home beside it (toolchain.sh installed them there).
  if (resolve(bin).startsWith(`${cacheDir()}/`)) env.PULUMI_HOME = resolve(bin, "..", "home");
  return env;
}

/** Uses the user's backend (PULUMI_BACKEND_URL, or a `pulumi login` that answers), else a local one in a private folder. */
async function stateBackend(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.PULUMI_BACKEND_URL) return `${env.PULUMI_BACKEND_URL} (PULUMI_BACKEND_URL)`;
  const whoami = await run("pulumi", ["whoami", "--verbose", "--non-interactive"], { env, quiet: true });
  if (whoami.code === 0) {
    const url = /Backend URL: (\S+)/.exec(whoami.stdout)?.[1];
    if (url) return `${url} (your pulumi login)`;
  }
  env.PULUMI_BACKEND_URL = `file://${privateDir(localStateDir())}`;
  return `${env.PULUMI_BACKEND_URL} (local, created by the lab)`;
}

/** Pulumi writes the salt of a stack's passphrase into its stack file; a salt there only opens with that passphrase. */
const SALT_LINE = /^encryptionsalt:.*\n?/m;

async function passphrase(stack: string, env: NodeJS.ProcessEnv, create: boolean): Promise<string | undefined> {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE) return undefined;
  const file = passphrasePath(stack);
  if (!existsSync(file)) {
    if (!create)
      throw new LabStepError("passphrase", `no passphrase file for stack ${stack} at ${file}`, "set PULUMI_CONFIG_PASSPHRASE (or _FILE) to the passphrase the stack was created with");
    const stackFile = stackFilePath(stack);
    if (SALT_LINE.test(await readFile(stackFile, "utf8")))
      throw new LabStepError(
        "passphrase",
        `${stackFile} carries an encryptionsalt, made with a passphrase this machine does not have (no ${file})`,
        `set PULUMI_CONFIG_PASSPHRASE to that passphrase, or delete the encryptionsalt line to start the stack's secrets afresh`,
      );
    await ensurePassphrase(stack);
  }
  env.PULUMI_CONFIG_PASSPHRASE_FILE = file;
  return file;
}

/** `pulumi <args> --stack <stack> --non-interactive`, failing with the tail of its output. */
async function pulumi(session: Pick<LabSession, "stack" | "env">, args: string[], opts: { inheritStdout?: boolean; quiet?: boolean } = {}): Promise<string> {
  const result = await run("pulumi", [...args, "--stack", session.stack, "--non-interactive"], { env: session.env, ...opts });
  if (result.code !== 0) {
    const output = `${result.stderr}\n${result.stdout}`;
    if (/incorrect passphrase|passphrase must be set/i.test(output))
      throw new LabStepError(
        `pulumi ${args[0]}`,
        `the passphrase does not open stack ${session.stack}'s secrets`,
        `use the passphrase the stack was created with (PULUMI_CONFIG_PASSPHRASE_FILE, default ${passphrasePath(session.stack)}), ` +
          `or remove the stack's resources and state: npm run lab -- destroy --stack ${session.stack} --remove-stack`,
      );
    throw new Error(`pulumi ${args.join(" ")} exited with ${result.code}:\n    ${lastLines(output)}`);
  }
  return result.stdout;
}

function loadDockerStack(stack: string): HelkConfig {
  const config = loadStackConfig(stack);
  if (config.target !== "docker")
    throw new LabStepError("stack config", `stack ${stack} targets ${config.target}`, "the lab command deploys Docker stacks; for Kubernetes use `pulumi up` or `npm run synth`");
  return config;
}

/** The steps both up and destroy need: config, Pulumi CLI, Docker engine, backend, passphrase. */
async function prepare(steps: Steps, stack: string, create: boolean): Promise<LabSession> {
  const config = await steps.run(`stack config stacks/Pulumi.${stack}.yaml`, `fix the keys named above in ${stackFilePath(stack)}`, async () => loadDockerStack(stack));
  const env = await steps.run(
    "Pulumi CLI",
    "install the Pulumi CLI 3.x (https://www.pulumi.com/docs/install/), or Go 1.26+ to build it from the Go module proxy",
    pulumiToolchain,
    (e) => (e.PULUMI_HOME ? "built from source, plugins in its own home" : "the one on your PATH"),
  );
  await steps.run("Docker engine", "start Docker (or install it: Debian's docker.io), and make sure your user may use it", async () => {
    const result = await run("bash", [join(LAB_DIR, "docker-engine.sh")]);
    if (result.code !== 0) throw new Error(lastLines(result.stderr));
  });
  const backend = await steps.run("state backend", "run `pulumi login` to the backend you want, or set PULUMI_BACKEND_URL", () => stateBackend(env), (b) => b);
  const passphraseFile = await steps.run(
    "passphrase",
    `make ${configHome()}/helk writable, or set PULUMI_CONFIG_PASSPHRASE_FILE`,
    () => passphrase(stack, env, create),
    (file) => (file ? `${file} (owner-only; keep it: it opens the stack's secrets)` : "from PULUMI_CONFIG_PASSPHRASE(_FILE)"),
  );
  return { stack, config, env, backend, passphraseFile };
}

/**
 * The environment to run more pulumi commands against a lab stack (as the lab command runs them), without
 * deploying anything: for e2e checks and scripts.
 */
export async function openSession(stack: string, log: (line: string) => void = () => undefined): Promise<LabSession> {
  return prepare(new Steps(5, log), stack, true);
}

/** Whether the stack exists in the session's backend. */
export async function stackExists(session: Pick<LabSession, "stack" | "env">): Promise<boolean> {
  const result = await run("pulumi", ["stack", "ls", "--json", "--non-interactive"], { env: session.env, quiet: true });
  if (result.code !== 0) throw new Error(`pulumi stack ls exited with ${result.code}:\n    ${lastLines(result.stderr)}`);
  const stacks = JSON.parse(result.stdout) as Array<{ name: string }>;
  return stacks.some((s) => s.name === session.stack || s.name.endsWith(`/${session.stack}`));
}

export const UP_STEPS = 13;

/** Brings the lab up (or confirms it is up), smoke-tests it and prints where everything answers. */
export async function labUp(opts: LabOptions): Promise<LabUpResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const steps = new Steps(UP_STEPS, log);
  const session = await prepare(steps, opts.stack, true);
  const { config, stack } = session;

  await steps.run("local images", `see the log named above; images.sh builds from Debian's and Maven Central's packages`, async () => {
    if (config.images.pull) return "pulled by pulumi up (helk:images.pull)";
    const result = await run("bash", [join(LAB_DIR, "images.sh"), stackFilePath(stack)]);
    if (result.code !== 0) throw new Error(lastLines(result.stderr));
    return "built or up to date";
  }, (s) => s);

  await steps.run(
    "stack",
    "check the backend named above is reachable and writable",
    async () => {
      if (await stackExists(session)) {
        await pulumi(session, ["stack", "select"], { quiet: true });
        return `${stack} selected`;
      }
      await run("pulumi", ["stack", "init", stack, "--secrets-provider", "passphrase", "--non-interactive"], { env: session.env }).then((r) => {
        if (r.code !== 0) throw new Error(lastLines(r.stderr));
      });
      return `${stack} created`;
    },
    (s) => s,
  );

  await steps.run(
    "ATT&CK bundle",
    "pass a mirror (--attack-url) or a copy you have (--attack-from-file), or set helk:enrichment.attackBundleFile in the stack file",
    async () => {
      const { attackBundleFile, attackBundle } = config.enrichment;
      if (!config.setup.attackLoad) return "not loaded (helk:setup.attackLoad is false)";
      if (attackBundleFile !== undefined) {
        if (!existsSync(attackBundleFile)) throw new Error(`helk:enrichment.attackBundleFile ${attackBundleFile} does not exist`);
        return `${attackBundleFile} (helk:enrichment.attackBundleFile)`;
      }
      if (attackBundle !== undefined) return `${attackBundle} (helk:enrichment.attackBundle)`;
      const fetched = await fetchPinnedBundle({ url: opts.attackUrl, fromFile: opts.attackFromFile, onProgress: (m) => log(`[lab]     ${m}`) });
      return `${fetched.file} (${fetched.fetched ? "fetched and verified" : "verified copy in the cache"}, sha256 ${fetched.sha256})`;
    },
    (s) => s,
  );

  const changes = await steps.run(
    "preview",
    "fix what the preview reports above, then run the lab command again",
    async () => {
      const preview = JSON.parse(await pulumi(session, ["preview", "--json"], { quiet: true })) as { steps?: Array<{ op: string; urn: string }> };
      const counts = new Map<string, number>();
      for (const step of preview.steps ?? []) {
        if (step.op === "same") continue;
        counts.set(step.op, (counts.get(step.op) ?? 0) + 1);
        log(`[lab]     ${step.op} ${step.urn.slice(step.urn.lastIndexOf("::") + 2)}`);
      }
      return counts;
    },
    (counts) => (counts.size === 0 ? "nothing to change" : [...counts].map(([op, n]) => `${n} to ${op}`).join(", ")),
  );
  const changeCount = [...changes.values()].reduce((a, b) => a + b, 0);

  await steps.run(
    "pulumi up",
    "read the error above (a failed setup job shows its log and the `pulumi up --replace` that reruns it), fix the cause, run the lab command again",
    async () => {
      if (changeCount === 0) return "skipped: nothing to change";
      await pulumi(session, ["up", "--yes", "--skip-preview"], { inheritStdout: true });
      return "applied";
    },
    (s) => s,
  );

  await steps.run("health checks", `see \`docker logs <container>\` of the container named above`, () =>
    waitHealthy(config.name, 10 * 60_000, (summary) => log(`[lab]     waiting: ${summary}`)),
  (containers) => `${containers.length} containers healthy or done`);

  const endpoints = await steps.run("endpoints", "run `pulumi stack output` to see what the stack exports", async () =>
    parseEndpoints(JSON.parse(await pulumi(session, ["stack", "output", "endpoints", "--json", "--show-secrets"], { quiet: true })), `stack ${stack} output`),
  );

  await steps.run(
    "helk smoke",
    `see the failed checks above; \`npm run helk -- smoke --stack ${stack}\` runs them again`,
    async () => {
      const progress = process.stderr.isTTY ? new ProgressLine(process.stderr) : undefined;
      const report = await runSmoke(endpoints, { timeoutSeconds: opts.smokeTimeoutSeconds ?? 120, listener: progress });
      progress?.stop();
      process.stderr.write(formatTable(report, { color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR }));
      const failed = report.checks.filter((c) => c.status === "fail");
      if (failed.length > 0) throw new Error(`${failed.length} check(s) failed: ${failed.map((c) => c.id).join(", ")}`);
      return report;
    },
    (report) => `${report.checks.filter((c) => c.status === "pass").length} passed, ${report.checks.filter((c) => c.status === "skip").length} skipped`,
  );

  log(describeEndpoints(stack, endpoints, { showSecrets: Boolean(process.stdout.isTTY) }));
  return { ...session, changes: changeCount, endpoints };
}

/** Where each part answers, with its login; secrets shown only when asked (a terminal), else masked. */
export function describeEndpoints(stack: string, e: StackEndpoints, opts: { showSecrets: boolean }): string {
  const secret = (value: string | undefined): string => (value === undefined ? "" : opts.showSecrets ? value : "********");
  const lines = [
    `HELK stack "${stack}" is up:`,
    `  Kafka          ${e.kafka.bootstrap} (topics ${e.kafka.topics.map((t) => t.name).join(", ")})`,
    `  ${e.engine.kind === "opensearch" ? "OpenSearch    " : "Elasticsearch "} ${e.engine.url}${e.engine.username ? ` (user ${e.engine.username}, password ${secret(e.engine.password)})` : " (no login)"}`,
  ];
  if (e.dashboards) lines.push(`  ${e.dashboards.kind === "kibana" ? "Kibana        " : "Dashboards    "} ${e.dashboards.url}`);
  if (e.enrichment) lines.push(`  Enrichment     ${e.enrichment.url} (/healthz, /readyz, /metrics)`);
  if (e.jupyter) lines.push(`  Jupyter        ${e.jupyter.url}/?token=${secret(e.jupyter.token)}`);
  if (!opts.showSecrets) lines.push(`Passwords and tokens: npm run lab -- logins --stack ${stack}`);
  return lines.join("\n");
}

/** Prints the endpoints with their secrets (asked for explicitly). */
export async function labLogins(opts: LabOptions): Promise<StackEndpoints> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const session = await prepare(new Steps(5, log), opts.stack, false);
  const endpoints = parseEndpoints(JSON.parse(await pulumi(session, ["stack", "output", "endpoints", "--json", "--show-secrets"], { quiet: true })), `stack ${opts.stack} output`);
  process.stdout.write(`${describeEndpoints(opts.stack, endpoints, { showSecrets: true })}\n`);
  return endpoints;
}

/** Tears the stack down; with `removeStack` also its state and generated passphrase. */
export async function labDestroy(opts: LabOptions & { removeStack?: boolean }): Promise<void> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const steps = new Steps(opts.removeStack ? 7 : 6, log);
  const session = await prepare(steps, opts.stack, false);
  const exists = await steps.run("pulumi destroy", "read the error above, fix the cause, run it again", async () => {
    if (!(await stackExists(session))) return false;
    await pulumi(session, ["destroy", "--yes", "--skip-preview"], { inheritStdout: true });
    return true;
  }, (existed) => (existed ? "every resource removed" : `no stack ${opts.stack} in ${session.backend}: nothing to destroy`));
  if (opts.removeStack)
    await steps.run("remove stack", "run `pulumi stack rm --preserve-config` yourself", async () => {
      // --preserve-config: the stack file is the project's (stacks/), not Pulumi's to delete.
      if (exists) await pulumi(session, ["stack", "rm", "--yes", "--preserve-config"], { quiet: true });
      if (session.passphraseFile) {
        // The salt belongs to the passphrase removed with it; left behind it would refuse the next one.
        const stackFile = stackFilePath(opts.stack);
        await writeFile(stackFile, (await readFile(stackFile, "utf8")).replace(SALT_LINE, ""));
        await rm(session.passphraseFile, { force: true });
      }
    });
}
