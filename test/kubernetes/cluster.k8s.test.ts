import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { parse } from "yaml";
import type { HelkConfig } from "../../components/config.ts";
import { DEPENDS_ON, SYNC_WAVE, WAIT_CONTAINER } from "../../components/kubernetes-order.ts";
import { loadStackConfig, stacksDir } from "../../components/stack-file.ts";
import { gitOpsFiles, writeGitOps } from "../../components/synth.ts";
import { projectRoot } from "../../lib/data.ts";
import { startControlPlane, type ApiResponse, type ControlPlane } from "../../harness/kubernetes/control-plane.ts";

/**
 * The synthesized manifests on a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
 * built from source, harness/kubernetes/): admission under Pod Security `restricted`, what the controllers make of
 * the workloads, placement by the real scheduler on three registered Nodes (no kubelet: pods are bound, never run),
 * the PodDisruptionBudgets as the disruption controller reads them, and the setup-Job order.
 */

type Manifest = Record<string, any>;

const kubernetesStacks = readdirSync(stacksDir)
  .flatMap((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1] ?? [])
  .filter((stack) => loadStackConfig(stack).target === "kubernetes")
  .sort();

/**
 * The two `restricted` checks the project's pods fail today, as the API server words them for a pod template with
 * these containers: no `capabilities.drop: ["ALL"]` and no `seccompProfile` RuntimeDefault/Localhost.
 */
function capabilitiesAndSeccomp(...containers: string[]): string[] {
  const named = `${containers.length > 1 ? "containers" : "container"} ${containers.map((c) => `"${c}"`).join(", ")}`;
  return [
    `would violate PodSecurity "restricted:latest": unrestricted capabilities (${named} must set securityContext.capabilities.drop=["ALL"]), ` +
      `seccompProfile (pod or ${named} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
  ];
}

/**
 * What Pod Security `restricted` finds in each stack's pod templates today, by object: the exact warnings of the
 * API server. Every other object (Services, policies, budgets, RBAC, the claim) draws none. The hardening of the
 * pods (security issue) empties this; until then the suite names every violation and fails on any change.
 */
const EXPECTED_VIOLATIONS: Record<string, Record<string, string[]>> = {
  cluster: {
    "StatefulSet/helk-kafka": capabilitiesAndSeccomp("kafka"),
    "StatefulSet/helk-engine": capabilitiesAndSeccomp("engine"),
    "Deployment/helk-dashboards": capabilitiesAndSeccomp("wait-for-setup-jobs", "dashboards"),
    "Deployment/helk-enrichment": capabilitiesAndSeccomp("wait-for-setup-jobs", "enrichment"),
    "Deployment/helk-jupyter": capabilitiesAndSeccomp("jupyter"),
    "Job/helk-setup-kafka-topics": capabilitiesAndSeccomp("setup-kafka-topics"),
    "Job/helk-setup-engine-security": capabilitiesAndSeccomp("setup-engine-security"),
    "Job/helk-setup-index-templates": capabilitiesAndSeccomp("setup-index-templates"),
    "Job/helk-setup-attack-load": capabilitiesAndSeccomp("wait-for-setup-jobs", "setup-attack-load"),
    "Job/helk-setup-dashboards-import": capabilitiesAndSeccomp("setup-dashboards-import"),
    "CronJob/helk-retention": capabilitiesAndSeccomp("retention"),
  },
};

/** Objects per kind that `npm run synth -- <stack>` writes. */
const EXPECTED_COUNTS: Record<string, Record<string, number>> = {
  cluster: {
    Namespace: 1,
    ServiceAccount: 1,
    Role: 1,
    RoleBinding: 1,
    Service: 7,
    StatefulSet: 2,
    Deployment: 3,
    PodDisruptionBudget: 3,
    PersistentVolumeClaim: 1,
    Job: 5,
    CronJob: 1,
    NetworkPolicy: 6,
  },
};

const RESTRICTED = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
};

/** A small cluster: three worker nodes of 8 CPUs, 32 GiB memory, 110 pods, one zone. */
const NODES = ["helk-node-a", "helk-node-b", "helk-node-c"];
const NODE_CAPACITY = { cpu: "8", memory: "32Gi", pods: "110", "ephemeral-storage": "200Gi" };

let cp: ControlPlane;
const out = mkdtempSync(join(tmpdir(), "helk-k8s-test-"));

beforeAll(async () => {
  const started = performance.now();
  // A cold first run builds the binaries (about half an hour on 2 cores, see README); later runs reuse them.
  cp = await startControlPlane({ onProgress: (message) => console.log(`[control plane] ${message}`) });
  console.log(`control plane up in ${((performance.now() - started) / 1000).toFixed(1)} s (${cp.url})`);
}, 3_600_000);

afterAll(async () => {
  await cp?.stop();
  rmSync(out, { recursive: true, force: true });
});

const ok = (res: ApiResponse, what: string) => {
  if (res.status < 200 || res.status > 299) throw new Error(`${what}: HTTP ${res.status}: ${res.body?.message ?? JSON.stringify(res.body)}`);
  return res.body;
};
const refOf = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
const manifestsOf = (files: { name: string; text: string }[]): Manifest[] =>
  files.filter((f) => f.name.endsWith(".yaml") && f.name !== "kustomization.yaml").map((f) => parse(f.text));
const podTemplates = (manifests: Manifest[]) => manifests.filter((m) => ["StatefulSet", "Deployment", "Job"].includes(m.kind));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** Pods of a namespace by their owning workload (`Kind/name`; ReplicaSets resolved to their Deployment). */
async function podsByWorkload(namespace: string): Promise<Map<string, any[]>> {
  const pods = ok(await cp.api("GET", `/api/v1/namespaces/${namespace}/pods`), "list pods").items as any[];
  const replicaSets = ok(await cp.api("GET", `/apis/apps/v1/namespaces/${namespace}/replicasets`), "list replicasets").items as any[];
  const deploymentOf = new Map(replicaSets.map((rs) => [rs.metadata.name, rs.metadata.ownerReferences?.[0]?.name]));
  const byWorkload = new Map<string, any[]>();
  for (const pod of pods) {
    const owner = pod.metadata.ownerReferences?.[0];
    if (!owner) continue;
    const ref = owner.kind === "ReplicaSet" ? `Deployment/${deploymentOf.get(owner.name)}` : `${owner.kind}/${owner.name}`;
    byWorkload.set(ref, [...(byWorkload.get(ref) ?? []), pod]);
  }
  return byWorkload;
}

describe.each(kubernetesStacks)("stack %s on a real control plane", (stack) => {
  it("is a kubernetes stack whose expectations this suite states", () => {
    expect(kubernetesStacks).toContain("cluster");
    expect(Object.keys(EXPECTED_VIOLATIONS)).toContain(stack);
  });

  describe("admission under Pod Security restricted", () => {
    let manifests: Manifest[];
    let namespace: string;
    const applied = new Map<string, ApiResponse>();

    beforeAll(async () => {
      // Exactly what `npm run synth -- <stack>` writes.
      manifests = manifestsOf(writeGitOps(stack, out).files);
      namespace = manifests.find((m) => m.kind === "Namespace")!.metadata.name;
      // The cluster admin's labels; the stack's own apply (field manager "helk") keeps them.
      ok(await cp.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: RESTRICTED } }, "cluster-admin"), "label namespace");
      for (const manifest of manifests) applied.set(refOf(manifest), await cp.apply(manifest, "helk"));
    });

    it("admits every object (server-side apply, no rejection)", () => {
      const rejected = [...applied].filter(([, res]) => res.status < 200 || res.status > 299).map(([ref, res]) => `${ref}: ${res.body?.message}`);
      expect(rejected).toEqual([]);
      expect(applied.size).toBe(manifests.length);
    });

    it("warns about nothing but the named Pod Security violations", () => {
      const warned = Object.fromEntries([...applied].filter(([, res]) => res.warnings.length > 0).map(([ref, res]) => [ref, res.warnings]));
      expect(warned).toEqual(EXPECTED_VIOLATIONS[stack]);
    });

    it("holds the objects synth wrote, as many of each kind as expected", async () => {
      const names = manifests.map((m) => `${m.kind.toLowerCase()}${m.apiVersion.includes("/") ? `.${m.apiVersion.split("/")[0]}` : ""}/${m.metadata.name}`);
      const { stdout } = await cp.kubectl(["get", "--namespace", namespace, "--output", "json", ...names]);
      const stored: Manifest[] = JSON.parse(stdout).items;
      expect(stored.map(refOf).sort()).toEqual(manifests.map(refOf).sort());
      const counts: Record<string, number> = {};
      for (const object of stored) counts[object.kind] = (counts[object.kind] ?? 0) + 1;
      expect(counts).toEqual(EXPECTED_COUNTS[stack]);
    });

    it("lets the controllers create exactly the pods restricted admits", async () => {
      const workloads = podTemplates(manifests).map(refOf);
      const violating = new Set(Object.keys(EXPECTED_VIOLATIONS[stack]!).filter((ref) => workloads.includes(ref)));
      const refusals = await until("every workload has pods or a refusal", 300_000, async () => {
        const events = ok(await cp.api("GET", `/api/v1/namespaces/${namespace}/events`), "list events").items as any[];
        const replicaSets = ok(await cp.api("GET", `/apis/apps/v1/namespaces/${namespace}/replicasets`), "list replicasets").items as any[];
        const deploymentOf = new Map(replicaSets.map((rs) => [rs.metadata.name, rs.metadata.ownerReferences?.[0]?.name]));
        const refused = new Map<string, string>();
        for (const event of events.filter((e) => e.reason === "FailedCreate" && /violates PodSecurity/.test(e.message))) {
          const { kind, name } = event.involvedObject;
          refused.set(kind === "ReplicaSet" ? `Deployment/${deploymentOf.get(name)}` : `${kind}/${name}`, event.message);
        }
        const pods = await podsByWorkload(namespace);
        return workloads.every((ref) => refused.has(ref) || pods.has(ref)) ? { refused, pods } : undefined;
      });
      expect(new Set(refusals.refused.keys())).toEqual(violating);
      for (const ref of workloads.filter((w) => !violating.has(w))) expect(refusals.pods.get(ref), ref).toBeDefined();
    });
  });

  describe("placement on three nodes", () => {
    let config: HelkConfig;
    let manifests: Manifest[];
    let namespace: string;
    let kubectlOutput: { stdout: string; stderr: string };

    beforeAll(async () => {
      const base = loadStackConfig(stack);
      // Its own namespace, without `restricted` enforced: pods must exist to be placed (admission is tested above).
      namespace = `${base.kubernetes.namespace}-placement`;
      config = { ...base, kubernetes: { ...base.kubernetes, namespace } };
      const dir = join(out, `${stack}-placement`);
      mkdirSync(dir, { recursive: true });
      const files = gitOpsFiles(config, stack);
      for (const file of files) writeFileSync(join(dir, file.name), file.text);
      manifests = manifestsOf(files);
      await registerNodes(manifests);
      // The GitOps path: kubectl's server-side apply of the kustomization.
      kubectlOutput = await cp.kubectl(["apply", "--server-side", "--field-manager=helk", "-k", dir]);
    });

    it("applies the kustomization with kubectl, every object", () => {
      const appliedLines = kubectlOutput.stdout.trim().split("\n").filter((line) => / serverside-applied$/.test(line));
      expect(appliedLines).toHaveLength(manifests.length);
      expect(kubectlOutput.stderr).toBe("");
    });

    it("binds every pod, the Kafka brokers and the engine nodes one per node, within each node's resources", async () => {
      const expectedPods = podTemplates(manifests).reduce((n, m) => n + (m.kind === "Job" ? 1 : (m.spec.replicas ?? 1)), 0);
      const pods = await until("every pod bound to a node", 300_000, async () => {
        const byWorkload = await podsByWorkload(namespace);
        const all = [...byWorkload.values()].flat();
        return all.length === expectedPods && all.every((p) => p.spec.nodeName) ? byWorkload : undefined;
      });
      const nodesOf = (ref: string) => pods.get(ref)!.map((p) => p.spec.nodeName).sort();
      expect(nodesOf(`StatefulSet/${config.name}-kafka`)).toEqual(NODES);
      expect(nodesOf(`StatefulSet/${config.name}-engine`)).toEqual(NODES);
      const requested = new Map<string, { cpu: number; memory: number }>();
      for (const pod of [...pods.values()].flat()) {
        const total = requested.get(pod.spec.nodeName) ?? { cpu: 0, memory: 0 };
        // A pod requests the larger of its containers' sum and its largest init container.
        const sum = (containers: any[] = [], key: "cpu" | "memory") => containers.reduce((n, c) => n + quantity(c.resources?.requests?.[key] ?? "0"), 0);
        const max = (containers: any[] = [], key: "cpu" | "memory") => Math.max(0, ...containers.map((c) => quantity(c.resources?.requests?.[key] ?? "0")));
        total.cpu += Math.max(sum(pod.spec.containers, "cpu"), max(pod.spec.initContainers, "cpu"));
        total.memory += Math.max(sum(pod.spec.containers, "memory"), max(pod.spec.initContainers, "memory"));
        requested.set(pod.spec.nodeName, total);
      }
      for (const [node, total] of requested) {
        expect(total.cpu, `${node} cpu`).toBeLessThanOrEqual(quantity(NODE_CAPACITY.cpu));
        expect(total.memory, `${node} memory`).toBeLessThanOrEqual(quantity(NODE_CAPACITY.memory));
      }
    });

    it("has PodDisruptionBudgets the disruption controller reads for the replica counts", async () => {
      const budgets = manifests.filter((m) => m.kind === "PodDisruptionBudget");
      expect(budgets.length).toBeGreaterThan(0);
      for (const budget of budgets) {
        const workload = podTemplates(manifests).find((m) => m.metadata.name === budget.metadata.name)!;
        const replicas = workload.spec.replicas;
        const status = await until(`status of PDB ${budget.metadata.name}`, 180_000, async () => {
          const res = ok(await cp.api("GET", `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${budget.metadata.name}`), "get pdb");
          return res.status?.expectedPods === replicas ? res.status : undefined;
        });
        // One voluntary disruption at a time: two of three brokers keep the KRaft quorum and the replicas.
        expect(status.desiredHealthy, budget.metadata.name).toBe(replicas - 1);
        expect(status.desiredHealthy, budget.metadata.name).toBeGreaterThan(0);
        // No kubelet, so no pod is healthy and no disruption is allowed.
        expect(status.disruptionsAllowed, budget.metadata.name).toBe(0);
      }
    });

    it("leaves a fourth broker unscheduled: one broker per node is a rule, not the scheduler's spreading preference", async () => {
      const kafka = `${config.name}-kafka`;
      const scale = (replicas: number) =>
        cp.api("PATCH", `/apis/apps/v1/namespaces/${namespace}/statefulsets/${kafka}/scale`, { spec: { replicas } }, "application/merge-patch+json");
      ok(await scale(4), "scale kafka to 4");
      try {
        const condition = await until(`${kafka}-3 found unschedulable`, 180_000, async () => {
          const res = await cp.api("GET", `/api/v1/namespaces/${namespace}/pods/${kafka}-3`);
          return res.body?.status?.conditions?.find((c: any) => c.type === "PodScheduled" && c.status === "False");
        });
        expect(condition.reason).toBe("Unschedulable");
        expect(condition.message).toMatch(/3 node\(s\) didn't match pod anti-affinity rules/);
      } finally {
        ok(await scale(3), "scale kafka back to 3");
      }
    });

    it("orders the setup Jobs: waves and depends-on name objects of the bundle, init containers wait with a token that only reads Jobs", async () => {
      const byRef = new Map(manifests.map((m) => [`${m.apiVersion.includes("/") ? m.apiVersion.split("/")[0] : ""}/namespaces/${namespace}/${m.kind}/${m.metadata.name}`, m]));
      for (const workload of podTemplates(manifests)) {
        const wave = Number(workload.metadata.annotations[SYNC_WAVE]);
        for (const dep of (workload.metadata.annotations[DEPENDS_ON] ?? "").split(",").filter(Boolean)) {
          const target = byRef.get(dep);
          expect(target, `${refOf(workload)} depends on ${dep}`).toBeDefined();
          if (podTemplates([target!]).length) expect(Number(target!.metadata.annotations[SYNC_WAVE])).toBeLessThan(wave);
        }
      }
      const waiting = podTemplates(manifests).filter((m) => m.spec.template.spec.initContainers?.some((c: any) => c.name === WAIT_CONTAINER));
      expect(waiting.map(refOf).sort()).toEqual(
        [`Deployment/${config.name}-dashboards`, `Deployment/${config.name}-enrichment`, `Job/${config.name}-setup-attack-load`].sort(),
      );
      const reader = waiting[0]!.spec.template.spec.serviceAccountName;
      const review = async (verb: string, resource: string, name?: string, group = "batch") =>
        ok(
          await cp.api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
              user: `system:serviceaccount:${namespace}:${reader}`,
              groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
              resourceAttributes: { namespace, verb, group, resource, ...(name ? { name } : {}) },
            },
          }),
          "subject access review",
        ).status.allowed as boolean;
      expect(await review("get", "jobs", `${config.name}-setup-index-templates`)).toBe(true);
      expect(await review("get", "jobs", `${config.name}-setup-attack-load`)).toBe(false);
      expect(await review("list", "jobs")).toBe(false);
      expect(await review("get", "secrets", config.kubernetes.credentialsSecret, "")).toBe(false);
    });

    it("holds the ATT&CK load until the index templates Job completed, as its init container runs it", async () => {
      const attackLoad = manifests.find((m) => m.metadata.name === `${config.name}-setup-attack-load`)!;
      const init = attackLoad.spec.template.spec.initContainers.find((c: any) => c.name === WAIT_CONTAINER);
      const accountDir = await serviceAccountFiles(namespace, attackLoad.spec.template.spec.serviceAccountName);
      // The init container's command, on this machine (the image holds the same project).
      const waiter = runHelk([...init.command.slice(init.command.indexOf("cli/helk.ts") + 1), "--service-account-dir", accountDir]);
      // Starting the CLI (tsx) takes seconds, minutes on a loaded machine.
      await until("the waiter polls the pending Job", 300_000, async () => (waiter.output().includes("waiting for setup Jobs") ? true : undefined));
      await sleep(6_000);
      expect(waiter.exitCode(), waiter.output()).toBeNull();
      // Be the kubelet: the index templates Job's pod succeeded, so the Job controller completes the Job.
      await finishJobPod(namespace, `${config.name}-setup-index-templates`, "Succeeded");
      const code = await waiter.exited;
      expect(code, waiter.output()).toBe(0);
      expect(waiter.output()).toContain(`setup Job ${config.name}-setup-index-templates complete`);
    });

    it("stops waiting, naming the Job, when a needed Job failed", async () => {
      const failing = `${config.name}-setup-doomed`;
      ok(
        await cp.apply(
          {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: failing, namespace },
            spec: {
              backoffLimit: 0,
              template: { spec: { restartPolicy: "Never", containers: [{ name: "doomed", image: "busybox", command: ["false"] }] } },
            },
          },
          "helk-test",
        ),
        "create failing job",
      );
      // The stack's reader may read only the Jobs the manifests wait for; this one reads with `view`.
      const accountDir = await serviceAccountFiles(namespace, "default", `${failing}-reader`);
      ok(
        await cp.apply(
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: `${failing}-reader`, namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
            subjects: [{ kind: "ServiceAccount", name: "default", namespace }],
          },
          "helk-test",
        ),
        "bind view",
      );
      const waiter = runHelk(["setup", "wait-jobs", failing, "--service-account-dir", accountDir]);
      await until("the failing Job's pod", 180_000, async () => ((await podsByWorkload(namespace)).get(`Job/${failing}`) ? true : undefined));
      await finishJobPod(namespace, failing, "Failed");
      expect(await waiter.exited, waiter.output()).toBe(1);
      expect(waiter.output()).toMatch(new RegExp(`setup Job ${failing} failed \\(BackoffLimitExceeded`));
    });
  });
});

/** Registers the Nodes (no kubelet) with a small cluster's labels and capacity, and local volumes for the claims. */
async function registerNodes(manifests: Manifest[]): Promise<void> {
  for (const name of NODES) {
    const labels = {
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "topology.kubernetes.io/zone": "zone-a",
      "node.kubernetes.io/instance-type": "small-8cpu-32gi",
    };
    if ((await cp.api("GET", `/api/v1/nodes/${name}`)).status === 404)
      ok(await cp.api("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name, labels } }), `create node ${name}`);
    // Admission taints a new Node not-ready until its kubelet reports; with no kubelet, this is that report.
    ok(await cp.api("PATCH", `/api/v1/nodes/${name}`, { spec: { taints: null } }, "application/merge-patch+json"), `untaint ${name}`);
    const now = new Date().toISOString();
    ok(
      await cp.api(
        "PATCH",
        `/api/v1/nodes/${name}/status`,
        {
          status: {
            capacity: NODE_CAPACITY,
            allocatable: NODE_CAPACITY,
            conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "registered by the test", lastHeartbeatTime: now, lastTransitionTime: now }],
          },
        },
        "application/merge-patch+json",
      ),
      `status of ${name}`,
    );
  }
  // Local volumes, bound when a pod is scheduled: enough on every node for all replicas, so only the workloads'
  // own rules (anti-affinity, resources) spread them.
  ok(
    await cp.apply(
      {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: "local", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
        provisioner: "kubernetes.io/no-provisioner",
        volumeBindingMode: "WaitForFirstConsumer",
      },
      "helk-test",
    ),
    "storage class",
  );
  const claims: string[] = manifests.flatMap((m) =>
    m.kind === "StatefulSet"
      ? m.spec.volumeClaimTemplates.flatMap((t: any) => Array(m.spec.replicas).fill(t.spec.resources.requests.storage))
      : m.kind === "PersistentVolumeClaim"
        ? [m.spec.resources.requests.storage]
        : [],
  );
  for (const node of NODES)
    for (const [i, size] of claims.entries())
      ok(
        await cp.apply(
          {
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name: `${node}-local-${i}` },
            spec: {
              capacity: { storage: size },
              accessModes: ["ReadWriteOnce"],
              storageClassName: "local",
              local: { path: `/mnt/disks/${i}` },
              nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
            },
          },
          "helk-test",
        ),
        `volume ${i} on ${node}`,
      );
}

/** A token of `account` (TokenRequest), the cluster CA as pods get it (kube-root-ca.crt) and the namespace, as mounted in a pod. */
async function serviceAccountFiles(namespace: string, account: string, dirName = account): Promise<string> {
  const token = ok(
    await cp.api("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    }),
    `token of ${account}`,
  ).status.token as string;
  const ca = ok(await cp.api("GET", `/api/v1/namespaces/${namespace}/configmaps/kube-root-ca.crt`), "kube-root-ca.crt").data["ca.crt"] as string;
  const dir = join(out, "accounts", dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "token"), token);
  writeFileSync(join(dir, "ca.crt"), ca);
  writeFileSync(join(dir, "namespace"), namespace);
  return dir;
}

/** Marks the pod of a Job terminated, as its kubelet would; the Job controller takes it from there. */
async function finishJobPod(namespace: string, job: string, phase: "Succeeded" | "Failed"): Promise<void> {
  const pod = (await podsByWorkload(namespace)).get(`Job/${job}`)![0];
  const now = new Date().toISOString();
  const exitCode = phase === "Succeeded" ? 0 : 1;
  ok(
    await cp.api(
      "PATCH",
      `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/status`,
      {
        status: {
          phase,
          startTime: now,
          conditions: [{ type: "Ready", status: "False", reason: "PodCompleted", lastTransitionTime: now }],
          containerStatuses: pod.spec.containers.map((c: any) => ({
            name: c.name,
            image: c.image,
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode, reason: phase === "Succeeded" ? "Completed" : "Error", startedAt: now, finishedAt: now } },
          })),
        },
      },
      "application/merge-patch+json",
    ),
    `finish pod of ${job}`,
  );
}

/** `helk <args>` as a child process against this control plane (in-cluster env pointing at it). */
function runHelk(args: string[]) {
  const url = new URL(cp.url);
  let output = "";
  let code: number | null = null;
  const child = spawn(process.execPath, ["--import", "tsx", "cli/helk.ts", ...args], {
    cwd: projectRoot,
    env: { ...process.env, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number>((resolve) => child.on("exit", (exitCode) => resolve((code = exitCode ?? 1))));
  onTestFinished(() => void child.kill());
  return { exited, output: () => output, exitCode: () => code };
}

/** A Kubernetes quantity as a number (cores, bytes). */
function quantity(value: string): number {
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value);
  if (!match) throw new Error(`not a quantity: ${value}`);
  const factor: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(match[1]) * (match[2] ? factor[match[2]]! : 1);
}
