import { allWorkloads, startOrder, type DeploymentModel } from "./deployment.ts";
import { SERVICE_ACCOUNT_DIR } from "../setup/job-wait.ts";
import type { Workload } from "./model.ts";
import { setupReaderName, workloadName } from "./names.ts";
import { helkCommand } from "./setup.ts";

/** Argo CD applies a wave only once everything of the waves before is healthy (a Job: completed). */
export const SYNC_WAVE = "argocd.argoproj.io/sync-wave";
/**
 * Objects that must be applied and reconciled first (`<group>/namespaces/<ns>/<Kind>/<name>`, comma-separated),
 * honoured by Pulumi's yaml/v2 ConfigGroup (which `pulumi up` uses here), kpt and Config Sync.
 */
export const DEPENDS_ON = "config.kubernetes.io/depends-on";
/** Init container of a workload that needs setup Jobs: Flux and `kubectl apply` apply everything at once. */
export const WAIT_CONTAINER = "wait-for-setup-jobs";
const TOKEN_VOLUME = "setup-reader-token";

/** Wave of each workload: 0 when it needs nothing, else one more than the highest wave it uses or waits for. */
export function startWaves(model: DeploymentModel): Map<string, number> {
  const waves = new Map<string, number>();
  for (const workload of startOrder(model))
    waves.set(workload.name, Math.max(-1, ...[...workload.uses, ...workload.after].map((dep) => waves.get(dep)!)) + 1);
  return waves;
}

type Manifest = Record<string, any>;

/**
 * Makes the start order of the model hold on Kubernetes whichever tool applies the manifests: every workload
 * object gets its {@link SYNC_WAVE} and {@link DEPENDS_ON} (what it uses and waits for), and a workload that waits
 * for setup Jobs gets an init container running `helk setup wait-jobs` with a token of a ServiceAccount that may
 * only read those Jobs (mounted into the init container alone; the pod keeps automounting off).
 */
export function addStartOrder(objects: Manifest[], model: DeploymentModel, prefix: string, namespace: string): Manifest[] {
  const workloads = allWorkloads(model);
  const byName = new Map(workloads.map((w) => [w.name, w]));
  const byObjectName = new Map(workloads.map((w) => [workloadName(prefix, w.name), w]));
  const waves = startWaves(model);
  const resourceName = (name: string) => workloadName(prefix, name);
  const ref = (w: Workload) => {
    const [group, kind] =
      w.kind === "job" ? ["batch", "Job"] : w.kind === "scheduled-job" ? ["batch", "CronJob"] : ["apps", w.stateful ? "StatefulSet" : "Deployment"];
    return `${group}/namespaces/${namespace}/${kind}/${resourceName(w.name)}`;
  };
  const waited = [...new Set(workloads.flatMap((w) => w.after))].map(resourceName);
  const reader = setupReaderName(prefix);
  const labels = { "app.kubernetes.io/instance": prefix, "app.kubernetes.io/part-of": "helk" };
  const readerObjects: Manifest[] =
    waited.length === 0
      ? []
      : [
          { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: reader, namespace, labels }, automountServiceAccountToken: false },
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: reader, namespace, labels },
            rules: [{ apiGroups: ["batch"], resources: ["jobs"], resourceNames: waited, verbs: ["get"] }],
          },
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: reader, namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: reader },
            subjects: [{ kind: "ServiceAccount", name: reader, namespace }],
          },
        ];
  const readerRefs = [
    `/namespaces/${namespace}/ServiceAccount/${reader}`,
    `rbac.authorization.k8s.io/namespaces/${namespace}/Role/${reader}`,
    `rbac.authorization.k8s.io/namespaces/${namespace}/RoleBinding/${reader}`,
  ];
  const jobContainer = (name: string): Manifest => {
    const job = objects.find((o) => o.kind === "Job" && o.metadata.name === resourceName(name));
    if (!job) throw new Error(`no Job object ${resourceName(name)} in the synthesized manifests`);
    return job.spec.template.spec.containers[0];
  };

  const ordered = objects.map((object) => {
    if (!["StatefulSet", "Deployment", "Job", "CronJob"].includes(object.kind)) return object;
    const workload = byObjectName.get(object.metadata.name);
    if (!workload) return object;
    const dependsOn = [...workload.uses, ...workload.after].map((dep) => ref(byName.get(dep)!));
    if (workload.after.length > 0) dependsOn.push(...readerRefs);
    object.metadata.annotations = {
      ...object.metadata.annotations,
      [SYNC_WAVE]: String(waves.get(workload.name)),
      ...(dependsOn.length > 0 ? { [DEPENDS_ON]: dependsOn.join(",") } : {}),
    };
    if (workload.after.length > 0) waitForJobs(podSpecOf(object), jobContainer(workload.after[0]!), workload.after.map(resourceName), reader);
    return object;
  });
  // Right after the Namespace: `kubectl apply` creates in file order, and pods need their ServiceAccount.
  const namespaceAt = ordered.findIndex((o) => o.kind === "Namespace");
  return [...ordered.slice(0, namespaceAt + 1), ...readerObjects, ...ordered.slice(namespaceAt + 1)];
}

/** The pod template's spec of a workload object (a CronJob's is inside its Job template). */
function podSpecOf(object: Manifest): Manifest {
  return object.kind === "CronJob" ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec;
}

/** An init container like the Job's own (image, user, security context) that waits for `jobs`. */
function waitForJobs(podSpec: Manifest, jobContainer: Manifest, jobs: string[], serviceAccount: string): void {
  podSpec.serviceAccountName = serviceAccount;
  podSpec.initContainers = [
    ...(podSpec.initContainers ?? []),
    {
      name: WAIT_CONTAINER,
      image: jobContainer.image,
      imagePullPolicy: jobContainer.imagePullPolicy,
      command: helkCommand("setup", "wait-jobs", ...jobs),
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "100m", memory: "256Mi" } },
      securityContext: jobContainer.securityContext,
      volumeMounts: [{ name: TOKEN_VOLUME, mountPath: SERVICE_ACCOUNT_DIR, readOnly: true }],
    },
  ];
  podSpec.volumes = [
    ...(podSpec.volumes ?? []),
    {
      name: TOKEN_VOLUME,
      projected: {
        sources: [
          { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
        ],
      },
    },
  ];
}
