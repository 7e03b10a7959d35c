/**
 * The platform-neutral description of a HELK deployment: what runs (image, command, env, ports, volumes, health
 * check, resources, what it uses), never how. `docker.ts` and `kubernetes.ts` render the same description.
 */

/** Placeholder for the instance number (0, 1, ...) of a stateful workload in env values. */
export const ORDINAL = "{{ordinal}}";

/** Credential keys and env values (plain text, which may contain {@link ORDINAL}, or a credential reference). */
import type { CredentialKey, EnvValue } from "../lib/contract/env.ts";

export type { CredentialKey, EnvValue };

/**
 * Restart and retry policy the model does not carry per workload, in one table so that the two targets'
 * differences are stated here and not only inside a renderer. Docker marks a service unhealthy after
 * `health.retries` failed checks, restarts containers only when they exit (`unless-stopped`) and runs a job once
 * (`restart: "no"`); Kubernetes applies the values below.
 */
export const KUBERNETES_POLICY = {
  /** Failed readiness checks (the model's health command) before a pod leaves its Service. */
  readinessFailures: 3,
  /** Failed TCP checks of the first port before the kubelet restarts the container (never the health command: a slow engine is not dead). */
  livenessFailures: 6,
  /** Retries of a Job's pod (with the cluster's backoff) before the Job fails: servers it configures may start after it. */
  jobBackoffLimit: 10,
  /** Retries of one run of a scheduled job: the next run comes anyway. */
  scheduledJobBackoffLimit: 2,
  /** Seconds after a schedule point within which a missed run still starts (cdk8s-plus's default of 10 s skips runs whenever the controller is a little late). */
  scheduledJobStartingDeadlineSeconds: 600,
} as const;

export interface PortSpec {
  /** IANA-style name (Kubernetes port name, at most 15 chars). */
  name: string;
  /** Port inside the container. */
  port: number;
  /**
   * Host port the first instance is published on (the next instances get the next ports); undefined: not
   * published. Only the Docker renderer publishes; it binds to the configured address.
   */
  publish?: number;
}

export interface VolumeSpec {
  name: string;
  mountPath: string;
  /** Size of the claim (Kubernetes); Docker named volumes are unbounded. */
  size: string;
}

/** A health check run inside the container, exec form (no shell unless the command starts one). */
export interface HealthCheck {
  command: string[];
  /** What the command needs from the image, for whoever builds a compatible image. */
  needs: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  /** Grace period after start before failures count. */
  startPeriodSeconds: number;
}

/**
 * How long a service may take to become healthy before its start counts as failed: the grace period, then
 * `retries` failed checks. Docker waits this long for a healthy container; Kubernetes gives the startup probe as
 * many periods.
 */
export function startupDeadlineSeconds(health: HealthCheck): number {
  return health.startPeriodSeconds + health.intervalSeconds * health.retries;
}

export interface Resources {
  /** CPU cores. */
  cpu: number;
  /** Memory limit as a Kubernetes quantity (`512Mi`, `2Gi`). */
  memory: string;
}

export interface ImageSpec {
  /** name:tag (pinned). */
  ref: string;
  /** Built from a Dockerfile instead of pulled (docker target); context is the project root. */
  build?: { dockerfile: string; args: Record<string, string> };
}

interface WorkloadBase {
  /**
   * Short name, unique in the deployment (`kafka`, `engine`, ...); resource names derive from it (names.ts). Part of
   * the state's identity: renaming a workload replaces everything named after it.
   */
  name: string;
  /**
   * Human-readable component name, for people only. Stacks deployed before the fixed type tokens
   * (`helk:docker:Service`/`Job`) carry it in their URNs (`helk:docker:<title>`, kept as an alias): keep it stable.
   */
  title: string;
  image: ImageSpec;
  /** Full argv replacing the image's entrypoint; undefined: the image's own. */
  command?: string[];
  env: Record<string, EnvValue>;
  resources: Resources;
  /** Services this one talks to and waits for (healthy) before it starts. */
  uses: string[];
  /** Jobs that must have completed before this one starts (the docker target orders by it). */
  after: string[];
  /** Non-root user the image runs as (security contexts); undefined: the image needs root to start. */
  runAsUser?: number;
  /** Files of the Docker host mounted read-only (docker target only; config rejects them elsewhere). */
  hostFiles?: HostFileMount[];
}

export interface HostFileMount {
  /** Absolute path on the Docker host. */
  hostPath: string;
  /** Where the container sees it. */
  mountPath: string;
}

export interface ServiceSpec extends WorkloadBase {
  kind: "service";
  /**
   * The image's own start command. Needed only where a renderer must wrap it, e.g. to derive {@link ORDINAL}
   * from the pod name on Kubernetes.
   */
  entrypoint?: string[];
  ports: PortSpec[];
  volumes: VolumeSpec[];
  health: HealthCheck;
  replicas: number;
  /** Stable identity and own storage per instance (StatefulSet, numbered containers). */
  stateful: boolean;
  /** Peers of the same workload talk to each other (cluster formation). */
  peers: boolean;
  /** Files from a Kubernetes Secret made outside the stack (Kubernetes only; e.g. TLS certificates), as volume `name`. */
  secretMounts?: { name: string; secret: string; mountPath: string }[];
  /** Reachable from outside the stack (UIs, ingest): admitted by network policy from anywhere on its ports. */
  external: boolean;
}

export interface JobSpec extends WorkloadBase {
  kind: "job";
  command: string[];
}

/**
 * A job run again and again, for upkeep (the retention job): nothing waits for it, and a failed run is retried at the
 * next one. Kubernetes: a CronJob at minute 0 of every `everyHours`-th hour (UTC by default). Docker: one container that
 * runs the command at start and then every `everyHours` hours (in a `sh` loop: the image needs `sh`), restarted
 * unless stopped.
 */
export interface ScheduledJobSpec extends WorkloadBase {
  kind: "scheduled-job";
  command: string[];
  /** Hours between two runs; divides 24, so that a cron schedule can say it. */
  everyHours: number;
}

export type Workload = ServiceSpec | JobSpec | ScheduledJobSpec;

/** How workload names resolve to host names on a target platform. */
export interface Topology {
  /** Host name of one instance of a stateful workload; `ordinal` may be {@link ORDINAL} for "this instance". */
  instanceHost(workload: string, ordinal: number | typeof ORDINAL): string;
  /** Host name that reaches any ready instance of a workload. */
  serviceHost(workload: string): string;
}

/** Placeholder for "the host port this instance is published on": `base` + ordinal (docker target only). */
export function publishedPort(base: number): string {
  return `{{port:${base}}}`;
}

/** An env value for one instance: {@link ORDINAL} and {@link publishedPort} placeholders filled in. */
export function expandForInstance(value: string, ordinal: number): string {
  return value
    .replaceAll(ORDINAL, String(ordinal))
    .replace(/\{\{port:(\d+)\}\}/g, (_, base: string) => String(Number(base) + ordinal));
}

/** Credentials the workloads' env refers to, sorted (derived from the model, never listed twice). */
export function neededCredentials(workloads: Workload[]): CredentialKey[] {
  const keys = new Set<CredentialKey>();
  for (const workload of workloads)
    for (const value of Object.values(workload.env)) if (typeof value !== "string") keys.add(value.credential);
  return [...keys].sort();
}

/** Bytes in a Kubernetes byte quantity (`512Mi`, `10Gi`, `1G`). */
export function quantityToBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|K|M|G|T)$/.exec(quantity);
  if (!match) throw new Error(`not a byte quantity: ${quantity}`);
  const factor: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(match[1]) * factor[match[2]!]!;
}

/** Megabytes in a Kubernetes byte quantity, for Docker's memory limit. */
export function quantityToMiB(quantity: string): number {
  return Math.floor(quantityToBytes(quantity) / 2 ** 20);
}

/** `bash /dev/tcp` probe: succeeds when something accepts TCP connections on the port (needs bash). */
export function tcpCheck(port: number): string[] {
  return ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`];
}

/** A GET of `path` on the container's own port with node's fetch: succeeds on a 2xx answer (needs node). */
export function nodeFetchCheck(port: number, path: string): string[] {
  return ["node", "-e", `fetch('http://127.0.0.1:${port}${path}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`];
}

/** Health of our own Node services (the enrichment image): its HTTP endpoint, two minutes to come up. */
export function nodeServiceHealth(port: number, path: string): HealthCheck {
  return {
    command: nodeFetchCheck(port, path),
    needs: "node (the service's own runtime)",
    intervalSeconds: 10,
    timeoutSeconds: 5,
    retries: 12,
    startPeriodSeconds: 30,
  };
}
