import { ApiObject, App, Chart, Cron, Duration, JsonPatch, Size } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import type { HelkConfig } from "./config.ts";
import { allWorkloads, describeDeployment, type DeploymentModel } from "./deployment.ts";
import { addStartOrder } from "./kubernetes-order.ts";
import {
  KUBERNETES_POLICY,
  ORDINAL,
  quantityToMiB,
  startupDeadlineSeconds,
  type EnvValue,
  type JobSpec,
  type ScheduledJobSpec,
  type ServiceSpec,
  type Topology,
  type Workload,
} from "./model.ts";
import { defaultDenyPolicyName, headlessServiceName, ingressPolicyName, instanceName, volumeClaimName, workloadName } from "./names.ts";

/** Env var holding the pod's own name; `$(HELK_POD_NAME)` in other env values is expanded by the kubelet. */
const POD_NAME_VAR = "HELK_POD_NAME";

/**
 * In-cluster DNS: instance `i` of a stateful workload is `<prefix>-<w>-<i>.<prefix>-<w>-headless.<ns>.svc`
 * (the pod's own instance: `$(HELK_POD_NAME).<...>`), any instance is the ClusterIP service `<prefix>-<w>.<ns>.svc`.
 */
export function kubernetesTopology(prefix: string, namespace: string): Topology {
  return {
    instanceHost: (workload, ordinal) =>
      `${ordinal === ORDINAL ? `$(${POD_NAME_VAR})` : instanceName(prefix, workload, ordinal)}.${headlessServiceName(prefix, workload)}.${namespace}.svc`,
    serviceHost: (workload) => `${workloadName(prefix, workload)}.${namespace}.svc`,
  };
}

/** The deployment for a kubernetes-target config, described with {@link kubernetesTopology}. */
export function describeKubernetesDeployment(config: HelkConfig): DeploymentModel {
  return describeDeployment(config, kubernetesTopology(config.name, config.kubernetes.namespace));
}

/**
 * Every Kubernetes object of the deployment as plain JSON (cdk8s + cdk8s-plus-27), in a stable order. Secrets
 * are referenced by name only: the credentials Secret (`helk:kubernetes.credentialsSecret`) and, for a secured
 * multi-node Elasticsearch, the transport TLS Secret are made outside these manifests. The start order of the
 * model is expressed for every apply tool ({@link addStartOrder}).
 */
export function synthesizeManifests(config: HelkConfig): Record<string, unknown>[] {
  const model = describeKubernetesDeployment(config);
  const app = new App();
  const chart = new Chart(app, config.name, {
    namespace: config.kubernetes.namespace,
    disableResourceNameHashes: true,
    labels: { "app.kubernetes.io/part-of": "helk", "app.kubernetes.io/instance": config.name },
  });
  new kplus.Namespace(chart, "namespace", { metadata: { name: config.kubernetes.namespace } });
  const renderer = new ChartRenderer(chart, config, model);
  for (const service of model.services) renderer.service(service);
  for (const job of model.jobs) renderer.job(job);
  for (const job of model.scheduledJobs) renderer.scheduledJob(job);
  renderer.networkPolicies();
  const objects = chart.toJson().map((object: Record<string, any>) => finishObject(object, renderer.claimTemplates));
  return addStartOrder(objects, model, config.name, config.kubernetes.namespace);
}

/** Adds volume claim templates; drops the chart's namespace from the (cluster-scoped) Namespace itself. */
function finishObject(object: Record<string, any>, claims: ChartRenderer["claimTemplates"]): Record<string, any> {
  if (object.kind === "Namespace") delete object.metadata.namespace;
  const claim = object.kind === "StatefulSet" ? claims.get(object.metadata.name) : undefined;
  if (!claim) return object;
  const container = object.spec.template.spec.containers[0];
  container.volumeMounts = [...(container.volumeMounts ?? []), ...claim.mounts];
  object.spec.volumeClaimTemplates = claim.templates;
  return object;
}

class ChartRenderer {
  /**
   * Volume claim templates per StatefulSet name. cdk8s-plus-27 has none, and a JSON patch on the L1 object is
   * re-typed (quantities dropped), so they are added to the synthesized JSON by {@link addClaimTemplates}.
   */
  readonly claimTemplates = new Map<string, { templates: object[]; mounts: { mountPath: string; name: string }[] }>();
  private readonly prefix: string;
  private readonly credentials: kplus.ISecret;

  constructor(
    private readonly chart: Chart,
    private readonly config: HelkConfig,
    private readonly model: DeploymentModel,
  ) {
    this.prefix = config.name;
    this.credentials = kplus.Secret.fromSecretName(chart, "credentials", config.kubernetes.credentialsSecret);
  }

  private labels(workload: string): Record<string, string> {
    return { "app.kubernetes.io/instance": this.prefix, "app.kubernetes.io/name": workload };
  }

  private pods(workload: string): kplus.Pods {
    const id = `${workload}-pods`;
    return (this.chart.node.tryFindChild(id) as kplus.Pods | undefined) ?? kplus.Pods.select(this.chart, id, { labels: this.labels(workload) });
  }

  service(spec: ServiceSpec): void {
    const name = workloadName(this.prefix, spec.name);
    const ports = spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port }));
    new kplus.Service(this.chart, `${spec.name}-service`, {
      metadata: { name },
      selector: this.pods(spec.name),
      ports,
    });
    const common = this.podWorkload(spec);
    let workload: kplus.StatefulSet | kplus.Deployment;
    if (spec.stateful) {
      const headless = new kplus.Service(this.chart, `${spec.name}-headless`, {
        metadata: { name: headlessServiceName(this.prefix, spec.name) },
        clusterIP: "None",
        selector: this.pods(spec.name),
        ports,
      });
      // Peers must resolve each other before they are ready (cluster formation).
      ApiObject.of(headless).addJsonPatch(JsonPatch.add("/spec/publishNotReadyAddresses", true));
      workload = new kplus.StatefulSet(this.chart, spec.name, {
        ...common,
        service: headless,
        replicas: spec.replicas,
        podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      });
    } else {
      workload = new kplus.Deployment(this.chart, spec.name, {
        ...common,
        replicas: spec.replicas,
        // A volume (ReadWriteOnce) cannot be shared by the old and the new pod.
        ...(spec.volumes.length > 0 ? { strategy: kplus.DeploymentStrategy.recreate() } : {}),
      });
    }
    workload.select(kplus.LabelSelector.of({ labels: this.labels(spec.name) }));
    workload.addContainer(this.container(spec));
    this.mountVolumes(workload, spec);
    if (spec.replicas > 1) {
      // Stateful replicas are one per node (config checks replicas <= nodes); stateless ones prefer to spread.
      workload.scheduling.spread({ topology: kplus.Topology.HOSTNAME, ...(spec.stateful ? {} : { weight: 100 }) });
      new kplus.k8s.KubePodDisruptionBudget(this.chart, `${spec.name}-pdb`, {
        metadata: { name },
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.labels(spec.name) } },
      });
    }
  }

  /** What every workload object has: its name, its pods' labels (selected explicitly), no token, its security context. */
  private podWorkload(spec: Workload) {
    return {
      metadata: { name: workloadName(this.prefix, spec.name) },
      podMetadata: { labels: this.labels(spec.name) },
      select: false,
      automountServiceAccountToken: false,
      securityContext: podSecurity(spec),
    };
  }

  job(spec: JobSpec): void {
    const job = new kplus.Job(this.chart, spec.name, { ...this.podWorkload(spec), backoffLimit: KUBERNETES_POLICY.jobBackoffLimit });
    job.select(kplus.LabelSelector.of({ labels: this.labels(spec.name) }));
    job.addContainer(this.container(spec));
  }

  /** A CronJob at minute 0 of every `everyHours`-th hour; a run still going at the next schedule point is not doubled. */
  scheduledJob(spec: ScheduledJobSpec): void {
    const cron = new kplus.CronJob(this.chart, spec.name, {
      ...this.podWorkload(spec),
      schedule: Cron.schedule({ minute: "0", hour: spec.everyHours === 1 ? "*" : `*/${spec.everyHours}` }),
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.seconds(KUBERNETES_POLICY.scheduledJobStartingDeadlineSeconds),
      backoffLimit: KUBERNETES_POLICY.scheduledJobBackoffLimit,
    });
    cron.select(kplus.LabelSelector.of({ labels: this.labels(spec.name) }));
    cron.addContainer(this.container(spec));
  }

  private container(spec: Workload): kplus.ContainerProps {
    // An assertion: the config rules (dockerHostOnly, components/config/rules.ts) refuse host files off docker with the users' message.
    if (spec.hostFiles?.length) throw new Error(`${spec.name}: host files reached the kubernetes renderer; the config rules should have refused them`);
    const { env, command } = this.containerEnv(spec);
    const cpu = kplus.Cpu.millis(Math.round(spec.resources.cpu * 1000));
    const memory = Size.mebibytes(quantityToMiB(spec.resources.memory));
    const props: kplus.ContainerProps = {
      name: spec.name,
      image: spec.image.ref,
      // Images are pinned (config refuses "latest"), so a present one is the right one (cdk8s-plus default: Always).
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      envVariables: env,
      ...(command ? { command } : {}),
      resources: { cpu: { request: cpu, limit: cpu }, memory: { request: memory, limit: memory } },
      securityContext: {
        ensureNonRoot: spec.runAsUser !== undefined,
        ...(spec.runAsUser !== undefined ? { user: spec.runAsUser, group: spec.runAsUser } : {}),
        // The images write below their home (data, logs, plugins state).
        readOnlyRootFilesystem: false,
        allowPrivilegeEscalation: false,
      },
    };
    if (spec.kind !== "service") return props;
    const health = spec.health;
    const firstPort = spec.ports[0]!.port;
    const probe = { periodSeconds: Duration.seconds(health.intervalSeconds), timeoutSeconds: Duration.seconds(health.timeoutSeconds) };
    return {
      ...props,
      ports: spec.ports.map((p) => ({ number: p.port, name: p.name })),
      readiness: kplus.Probe.fromCommand(health.command, { ...probe, failureThreshold: KUBERNETES_POLICY.readinessFailures }),
      startup: kplus.Probe.fromTcpSocket({
        port: firstPort,
        ...probe,
        failureThreshold: Math.ceil(startupDeadlineSeconds(health) / health.intervalSeconds),
      }),
      liveness: kplus.Probe.fromTcpSocket({ port: firstPort, ...probe, failureThreshold: KUBERNETES_POLICY.livenessFailures }),
    };
  }

  /**
   * Env for the container. Values with {@link ORDINAL} cannot be expressed as env on Kubernetes 1.27, so the
   * container runs the image's entrypoint through bash, which derives the ordinal from the pod name.
   */
  private containerEnv(spec: Workload): { env: Record<string, kplus.EnvValue>; command?: string[] } {
    const env: Record<string, kplus.EnvValue> = {};
    const entries = Object.entries(spec.env);
    if (entries.some(([, v]) => typeof v === "string" && v.includes(`$(${POD_NAME_VAR})`)))
      env[POD_NAME_VAR] = kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME);
    const perInstance: [string, string][] = [];
    for (const [key, value] of entries) {
      if (typeof value === "string" && value.includes(ORDINAL)) perInstance.push([key, value]);
      else env[key] = this.envValue(value);
    }
    if (perInstance.length === 0) return { env, ...(spec.command ? { command: spec.command } : {}) };
    const start = spec.command ?? (spec.kind === "service" ? spec.entrypoint : undefined);
    if (!start) throw new Error(`${spec.name}: per-instance env needs the image's entrypoint to wrap`);
    const exports = perInstance.map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`${spec.name}: per-instance env ${key} is not a shell name`);
      const expanded = shellEscape(value).replaceAll(ORDINAL, "${HELK_ORDINAL}").replaceAll(`\\$(${POD_NAME_VAR})`, "${HOSTNAME}");
      return `export ${key}="${expanded}"`;
    });
    const script = ['HELK_ORDINAL="${HOSTNAME##*-}"', ...exports, `exec ${start.map((a) => `"${shellEscape(a)}"`).join(" ")}`];
    return { env, command: ["bash", "-c", script.join("\n")] };
  }

  private envValue(value: EnvValue): kplus.EnvValue {
    return typeof value === "string"
      ? kplus.EnvValue.fromValue(value)
      : kplus.EnvValue.fromSecretValue({ secret: this.credentials, key: value.credential });
  }

  /** Claim templates for stateful workloads, standalone claims otherwise; Secret volumes read-only. */
  private mountVolumes(workload: kplus.StatefulSet | kplus.Deployment, spec: ServiceSpec): void {
    const storageClass = this.config.kubernetes.storageClass;
    const container = workload.containers[0]!;
    for (const secretMount of spec.secretMounts ?? []) {
      const volume = kplus.Volume.fromSecret(
        this.chart,
        `${spec.name}-${secretMount.secret}`,
        kplus.Secret.fromSecretName(this.chart, `${spec.name}-${secretMount.secret}-ref`, secretMount.secret),
        { name: secretMount.name },
      );
      container.mount(secretMount.mountPath, volume, { readOnly: true });
    }
    if (spec.volumes.length === 0) return;
    if (workload instanceof kplus.StatefulSet) {
      this.claimTemplates.set(workload.name, {
        templates: spec.volumes.map((v) => ({
          metadata: { name: v.name },
          spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: v.size } },
            ...(storageClass ? { storageClassName: storageClass } : {}),
          },
        })),
        mounts: spec.volumes.map((v) => ({ mountPath: v.mountPath, name: v.name })),
      });
      return;
    }
    for (const v of spec.volumes) {
      const claim = new kplus.PersistentVolumeClaim(this.chart, `${spec.name}-${v.name}-claim`, {
        metadata: { name: volumeClaimName(this.prefix, spec.name, v.name) },
        accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
        storage: Size.gibibytes(quantityToMiB(v.size) / 1024),
        ...(storageClass ? { storageClassName: storageClass } : {}),
      });
      container.mount(v.mountPath, kplus.Volume.fromPersistentVolumeClaim(this.chart, `${spec.name}-${v.name}`, claim, { name: v.name }));
    }
  }

  /**
   * Default deny for ingress in the namespace, then per service: its clients (workloads that use it) on its
   * ports, its peers (cluster formation) on every port, and anyone on its ports when it is external.
   */
  networkPolicies(): void {
    new kplus.NetworkPolicy(this.chart, "default-deny", {
      metadata: { name: defaultDenyPolicyName(this.prefix) },
      selector: kplus.Pods.all(this.chart, "all-pods"),
      ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    });
    const workloads = allWorkloads(this.model);
    for (const service of this.model.services) {
      const ports = service.ports.map((p) => kplus.NetworkPolicyPort.tcp(p.port));
      const rules: kplus.NetworkPolicyRule[] = workloads
        .filter((w) => w.uses.includes(service.name))
        .map((client) => ({ peer: this.pods(client.name), ports }));
      if (service.peers) rules.push({ peer: this.pods(service.name) });
      // External: any namespace's pods and any address (ingest from shippers, people using the UIs).
      if (service.external)
        rules.push(
          { peer: kplus.Namespaces.all(this.chart, `${service.name}-any-namespace`), ports },
          { peer: kplus.NetworkPolicyIpBlock.anyIpv4(this.chart, `${service.name}-any-ipv4`), ports },
        );
      new kplus.NetworkPolicy(this.chart, `${service.name}-ingress`, {
        metadata: { name: ingressPolicyName(this.prefix, service.name) },
        selector: this.pods(service.name),
        ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY, rules },
      });
    }
  }
}

function podSecurity(spec: Workload): kplus.PodSecurityContextProps {
  return spec.runAsUser === undefined
    ? { ensureNonRoot: false }
    : { ensureNonRoot: true, user: spec.runAsUser, group: spec.runAsUser, fsGroup: spec.runAsUser };
}

/** Escapes a value for a double-quoted bash string. */
function shellEscape(value: string): string {
  return value.replace(/[\\"`$]/g, (c) => `\\${c}`);
}
