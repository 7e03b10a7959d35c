import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HelkConfig } from "./config.ts";
import { startOrder, type DeploymentModel } from "./deployment.ts";
import {
  expandForInstance,
  quantityToMiB,
  startupDeadlineSeconds,
  type CredentialKey,
  type EnvValue,
  type ImageSpec,
  type ScheduledJobSpec,
  type ServiceSpec,
  type Topology,
  type Workload,
} from "./model.ts";
import { instanceName, instanceVolumeName, networkName, workloadName } from "./names.ts";

/** Pulumi type tokens of a workload's component, by kind: part of every URN under it, so never derived from a title. */
const DOCKER_WORKLOAD_TYPES = { service: "helk:docker:Service", job: "helk:docker:Job", "scheduled-job": "helk:docker:ScheduledJob" } as const;

/** Container names on the stack's network: `<prefix>-<workload>-<ordinal>`, alias `<prefix>-<workload>`. */
export function dockerTopology(prefix: string): Topology {
  return {
    instanceHost: (workload, ordinal) => instanceName(prefix, workload, ordinal),
    serviceHost: (workload) => workloadName(prefix, workload),
  };
}

/** Arguments of the Docker rendering of a deployment. */
export interface DockerDeploymentArgs {
  /** The validated config (name prefix, bind address, `images.pull`). */
  config: HelkConfig;
  /** The platform-neutral deployment, described with {@link dockerTopology}. */
  model: DeploymentModel;
  /** Secret values of the credentials the workloads' env refers to. */
  credentials: Partial<Record<CredentialKey, pulumi.Output<string>>>;
}

/**
 * One Docker host: a private bridge network, one component resource per workload (containers, named volumes),
 * started in dependency order; services are created with `wait: true`, so a dependent is created only once
 * what it uses is healthy, and a job container runs to completion (`attach`) before what waits for it.
 */
export class DockerDeployment extends pulumi.ComponentResource {
  readonly network: docker.Network;
  readonly workloads: Record<string, DockerWorkload> = {};

  constructor(name: string, args: DockerDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("helk:docker:Deployment", name, {}, opts);
    const prefix = args.config.name;
    this.network = new docker.Network(`${prefix}-network`, { name: networkName(prefix), driver: "bridge" }, { parent: this });
    const images = new Map<string, pulumi.Output<string>>();
    const imageOf = (spec: ImageSpec) => {
      let image = images.get(spec.ref);
      if (!image) {
        image = dockerImage(prefix, spec, args.config.images.pull, this);
        images.set(spec.ref, image);
      }
      return image;
    };
    for (const workload of startOrder(args.model)) {
      const dependsOn = [...workload.uses, ...workload.after].flatMap((dep) => this.workloads[dep]?.ready ?? []);
      this.workloads[workload.name] = new DockerWorkload(
        workloadName(prefix, workload.name),
        {
          workload,
          prefix,
          image: imageOf(workload.image),
          network: this.network.name,
          bindAddress: args.config.ports.bindAddress,
          credentials: args.credentials,
        },
        { parent: this, dependsOn },
      );
    }
    this.registerOutputs({ network: this.network.name });
  }
}

/** A pulled registry image, a locally present one (`images.pull: false`), or one built from the project. */
function dockerImage(prefix: string, spec: ImageSpec, pull: boolean, parent: pulumi.Resource): pulumi.Output<string> {
  const resourceName = `${prefix}-image-${spec.ref.replace(/[^a-zA-Z0-9.-]+/g, "-")}`;
  if (spec.build)
    // Context is the project root (Pulumi runs the program there); the Dockerfile copies the runtime folders only.
    return new docker.Image(
      resourceName,
      { imageName: spec.ref, build: { context: ".", dockerfile: spec.build.dockerfile, args: spec.build.args }, skipPush: true },
      { parent },
    ).imageName;
  if (!pull) return pulumi.output(spec.ref);
  return new docker.RemoteImage(resourceName, { name: spec.ref, keepLocally: true }, { parent }).imageId;
}

/** Arguments of one workload's Docker resources. */
export interface DockerWorkloadArgs {
  /** The platform-neutral description of the workload (required). */
  workload: Workload;
  /** Resource name prefix (`helk:name`, default "helk"). */
  prefix: string;
  /** Image id or name to run. */
  image: pulumi.Input<string>;
  /** Name of the stack's private network. */
  network: pulumi.Input<string>;
  /** Host address published ports bind to (`helk:ports.bindAddress`, default 127.0.0.1). */
  bindAddress: string;
  /** Secret values of the credentials the workload's env refers to (required when it refers to any). */
  credentials: Partial<Record<CredentialKey, pulumi.Output<string>>>;
}

/** The containers (one per instance) and named volumes of one workload; a job is one run-to-completion container. */
export class DockerWorkload extends pulumi.ComponentResource {
  readonly containers: docker.Container[] = [];
  /**
   * What dependents wait for: the service containers (created only once healthy), or the job's container once
   * it exited 0. A job that exited otherwise fails the deployment ({@link succeededJob}), so nothing that waits
   * for it starts.
   */
  readonly ready: pulumi.Input<pulumi.Resource>[];

  constructor(name: string, args: DockerWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    // Fixed tokens: a title is a display name. The alias keeps the URNs of stacks deployed under the old token.
    super(DOCKER_WORKLOAD_TYPES[args.workload.kind], name, {}, {
      ...opts,
      aliases: [...(opts?.aliases ?? []), { type: `helk:docker:${args.workload.title}` }],
    });
    const { workload, prefix } = args;
    const instances = workload.kind === "service" ? workload.replicas : 1;
    const hostFileMounts = (workload.hostFiles ?? []).map((file) => ({
      type: "bind",
      source: file.hostPath,
      target: file.mountPath,
      readOnly: true,
    }));
    for (let ordinal = 0; ordinal < instances; ordinal++) {
      const containerName = workload.kind === "service" ? instanceName(prefix, workload.name, ordinal) : workloadName(prefix, workload.name);
      const common: docker.ContainerArgs = {
        name: containerName,
        hostname: containerName,
        image: args.image,
        envs: renderEnv(workload.env, ordinal, args.credentials),
        ...(workload.command ? { entrypoints: workload.command.slice(0, 1), command: workload.command.slice(1) } : {}),
        memory: quantityToMiB(workload.resources.memory),
        // Docker's default swap (as much as the memory) made explicit: the provider reads it back from the engine.
        memorySwap: 2 * quantityToMiB(workload.resources.memory),
        cpus: dockerCpus(workload.resources.cpu),
        networksAdvanced: [{ name: args.network, aliases: [workloadName(prefix, workload.name)] }],
        ...(hostFileMounts.length > 0 ? { mounts: hostFileMounts } : {}),
        labels: [
          { label: "helk.component", value: workload.name },
          { label: "helk.deployment", value: prefix },
        ],
      };
      const container =
        workload.kind === "service"
          ? new docker.Container(
              containerName,
              {
                ...common,
                ...serviceArgs(workload, ordinal, args),
                mounts: [...hostFileMounts, ...volumeMounts(workload, instanceVolumes(prefix, workload.name, ordinal), this)],
              },
              { parent: this },
            )
          : workload.kind === "scheduled-job"
            ? new docker.Container(containerName, { ...common, ...scheduledArgs(workload) }, { parent: this })
            : // A job runs once: attach waits for it to exit, mustRun=false accepts that it then stays stopped.
              new docker.Container(containerName, { ...common, restart: "no", attach: true, logs: true, mustRun: false }, { parent: this });
      this.containers.push(container);
    }
    if (workload.kind === "job") {
      const succeeded = succeededJob(workloadName(prefix, workload.name), this.containers[0]!);
      this.ready = [succeeded];
      this.registerOutputs({ containers: this.containers.map((c) => c.name), exitCode: succeeded.apply(() => 0) });
    } else {
      this.ready = this.containers;
      this.registerOutputs({ containers: this.containers.map((c) => c.name) });
    }
  }
}

/** Log lines of a failed job quoted in the error. */
const FAILED_JOB_LOG_LINES = 20;

/**
 * The job's container once it exited 0. The docker provider reports an attached container as created whatever
 * its exit code, so a non-zero one is turned into a RunError here: it names the job, the exit code and the end
 * of its log (the provider keeps the log with `logs: true`). Unknown during a preview of a new job.
 */
export function succeededJob(name: string, container: docker.Container): pulumi.Output<docker.Container> {
  return pulumi.all([container.exitCode, container.containerLogs, container.urn]).apply(([exitCode, logs, urn]) => {
    if (exitCode === 0) return container;
    const tail = (logs ?? "").trimEnd().split("\n").filter(Boolean).slice(-FAILED_JOB_LOG_LINES);
    throw new pulumi.RunError(
      [
        `setup job ${name} failed: its container exited with code ${exitCode ?? "(none reported)"}.`,
        tail.length > 0 ? `Last ${tail.length} log line(s) of ${name}:\n${tail.map((line) => `  | ${line}`).join("\n")}` : `${name} logged nothing.`,
        `Fix the cause and run pulumi up again: the job runs again when its config changes, or force it with: pulumi up --replace '${urn}'`,
      ].join("\n"),
    );
  });
}

/**
 * A scheduled job on Docker: one long-running container whose `sh` runs the command at start and then every
 * `everyHours` hours; a failed run is logged and retried at the next. Nothing waits for it (no health check).
 */
function scheduledArgs(job: ScheduledJobSpec): Partial<docker.ContainerArgs> {
  const [entrypoint, ...args] = repeatEvery(job);
  return { restart: "unless-stopped", entrypoints: [entrypoint!], command: args };
}

/** argv of a `sh` loop running `job.command` now and every `everyHours` hours (passed as arguments: nothing to quote). */
export function repeatEvery(job: ScheduledJobSpec): string[] {
  const script = [
    // `sleep & wait`: a stop signal ends the wait at once, where a plain sleep would hold it for hours.
    "trap 'exit 0' TERM INT",
    "while :; do",
    `  "$@" || echo "${job.name}: run failed (exit $?); next run in ${job.everyHours} h" >&2`,
    `  sleep ${job.everyHours * 3600} & wait $!`,
    "done",
  ].join("\n");
  return ["sh", "-c", script, job.name, ...job.command];
}

function serviceArgs(service: ServiceSpec, ordinal: number, args: DockerWorkloadArgs): Partial<docker.ContainerArgs> {
  const health = service.health;
  return {
    restart: "unless-stopped",
    healthcheck: {
      tests: ["CMD", ...health.command],
      interval: goDuration(health.intervalSeconds),
      timeout: goDuration(health.timeoutSeconds),
      retries: health.retries,
      startPeriod: goDuration(health.startPeriodSeconds),
    },
    // Created only when healthy, so dependents start after it.
    wait: true,
    waitTimeout: startupDeadlineSeconds(health),
    ports: service.ports.flatMap((port) =>
      port.publish === undefined ? [] : [{ internal: port.port, external: port.publish + ordinal, ip: args.bindAddress }],
    ),
  };
}

/** Names of one instance's volumes, by volume name. */
const instanceVolumes = (prefix: string, workload: string, ordinal: number) => (volume: string) =>
  instanceVolumeName(prefix, workload, ordinal, volume);

/** One named volume per volume of the service instance. */
function volumeMounts(service: ServiceSpec, volumeName: (volume: string) => string, parent: pulumi.Resource): docker.types.input.ContainerMount[] {
  return service.volumes.map((volume) => ({
    type: "volume",
    target: volume.mountPath,
    source: new docker.Volume(volumeName(volume.name), { name: volumeName(volume.name) }, { parent }).name,
  }));
}

/** `NAME=value` lines; credential values stay Pulumi secrets. */
function renderEnv(
  env: Record<string, EnvValue>,
  ordinal: number,
  credentials: Partial<Record<CredentialKey, pulumi.Output<string>>>,
): pulumi.Output<string[]> {
  return pulumi.all(
    Object.entries(env).map(([key, value]) => {
      if (typeof value === "string") return pulumi.output(`${key}=${expandForInstance(value, ordinal)}`);
      const secret = credentials[value.credential];
      if (!secret) throw new Error(`${key} needs credential ${value.credential}, which was not provided`);
      return secret.apply((s) => `${key}=${s}`);
    }),
  );
}

/*
 * Values in the form the docker provider reads back from the engine, so an unchanged stack previews no changes:
 * CPUs as "1.0" / "0.5", durations as Go prints them ("1m0s", not "60s").
 */
function dockerCpus(cpu: number): string {
  return Number.isInteger(cpu) ? cpu.toFixed(1) : String(cpu);
}

function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
