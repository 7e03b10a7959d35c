import { describe, expect, it } from "vitest";
import { parseHelkConfig } from "../../components/config.ts";
import { describeKubernetesDeployment, synthesizeManifests } from "../../components/kubernetes.ts";
import { DEPENDS_ON, startWaves, SYNC_WAVE, WAIT_CONTAINER } from "../../components/kubernetes-order.ts";
import { loadStackConfig } from "../../components/stack-file.ts";

const cluster = loadStackConfig("cluster");
const workloadsOf = (manifests: any[]) => manifests.filter((m) => ["StatefulSet", "Deployment", "Job"].includes(m.kind));
const refOf = (m: any) => `${m.apiVersion.includes("/") ? m.apiVersion.split("/")[0] : ""}/namespaces/${m.metadata.namespace}/${m.kind}/${m.metadata.name}`;

describe("start order on Kubernetes", () => {
  it("puts each workload one wave after everything it uses or waits for", () => {
    expect(Object.fromEntries(startWaves(describeKubernetesDeployment(cluster)))).toEqual({
      kafka: 0,
      engine: 0,
      "setup-kafka-topics": 1,
      "setup-engine-security": 1,
      "setup-index-templates": 1,
      jupyter: 1,
      "setup-attack-load": 2,
      dashboards: 2,
      enrichment: 2,
      "setup-dashboards-import": 3,
      retention: 1,
    });
  });

  it.each([
    ["cluster stack", cluster],
    ["smallest kubernetes config", parseHelkConfig({ target: "kubernetes" })],
    ["no UI, no Jupyter", parseHelkConfig({ target: "kubernetes", dashboards: { enabled: false }, jupyter: { enabled: false } })],
    ["detections on", parseHelkConfig({ target: "kubernetes", detections: { enabled: true, rules: ["/opt/helk/sigma/rules"] } })],
  ])("%s: depends-on names objects of the same bundle from earlier waves", (_, config) => {
    const manifests = synthesizeManifests(config) as any[];
    const byRef = new Map(manifests.map((m) => [refOf(m), m]));
    for (const workload of workloadsOf(manifests)) {
      const wave = Number(workload.metadata.annotations[SYNC_WAVE]);
      for (const dep of (workload.metadata.annotations[DEPENDS_ON] ?? "").split(",").filter(Boolean)) {
        const target = byRef.get(dep);
        expect(target, `${workload.metadata.name} depends on ${dep}`).toBeDefined();
        const targetWave = target.metadata.annotations?.[SYNC_WAVE];
        if (targetWave !== undefined) expect(Number(targetWave), dep).toBeLessThan(wave);
      }
    }
  });

  it("holds what waits for setup Jobs in an init container that alone gets a token, which may only read those Jobs", () => {
    const manifests = synthesizeManifests(cluster) as any[];
    const model = describeKubernetesDeployment(cluster);
    const waiting = [...model.services, ...model.jobs].filter((w) => w.after.length > 0);
    expect(waiting.map((w) => w.name).sort()).toEqual(["dashboards", "enrichment", "setup-attack-load"]);
    for (const workload of workloadsOf(manifests)) {
      const spec = workload.spec.template.spec;
      const after = waiting.find((w) => `helk-${w.name}` === workload.metadata.name)?.after;
      const init = spec.initContainers?.find((c: any) => c.name === WAIT_CONTAINER);
      if (!after) {
        expect(init, workload.metadata.name).toBeUndefined();
        continue;
      }
      expect(init.command.slice(-after.length - 2)).toEqual(["setup", "wait-jobs", ...after.map((name) => `helk-${name}`)]);
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.serviceAccountName).toBe("helk-setup-reader");
      const tokenVolume = spec.volumes.find((v: any) => v.projected?.sources.some((s: any) => s.serviceAccountToken));
      expect(init.volumeMounts.map((m: any) => m.name)).toEqual([tokenVolume.name]);
      for (const container of spec.containers) expect(container.volumeMounts?.map((m: any) => m.name) ?? []).not.toContain(tokenVolume.name);
    }
    const role = manifests.find((m) => m.kind === "Role");
    expect(role.rules).toEqual([
      {
        apiGroups: ["batch"],
        resources: ["jobs"],
        resourceNames: ["helk-setup-engine-security", "helk-setup-kafka-topics", "helk-setup-index-templates"],
        verbs: ["get"],
      },
    ]);
  });

  it("orders the detection rules Job after the index templates and holds the detections service until it completed", () => {
    const config = parseHelkConfig({ target: "kubernetes", detections: { enabled: true, rules: ["/opt/helk/sigma/sigmahq-rules-windows.tar.gz"] } });
    const waves = startWaves(describeKubernetesDeployment(config));
    expect([waves.get("setup-index-templates"), waves.get("setup-detection-rules"), waves.get("detections")]).toEqual([1, 2, 3]);
    const manifests = synthesizeManifests(config) as any[];
    const object = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
    const job = object("Job", "helk-setup-detection-rules");
    expect(job.metadata.annotations[DEPENDS_ON].split(",")).toContain("batch/namespaces/helk/Job/helk-setup-index-templates");
    expect(job.spec.template.spec.initContainers[0].command.slice(-3)).toEqual(["setup", "wait-jobs", "helk-setup-index-templates"]);
    const service = object("Deployment", "helk-detections");
    expect(service.metadata.annotations[SYNC_WAVE]).toBe("3");
    expect(service.metadata.annotations[DEPENDS_ON].split(",")).toContain("batch/namespaces/helk/Job/helk-setup-detection-rules");
    expect(service.spec.template.spec.initContainers[0].command.slice(-3)).toEqual(["setup", "wait-jobs", "helk-setup-detection-rules"]);
    expect(object("Role", "helk-setup-reader").rules[0].resourceNames).toContain("helk-setup-detection-rules");
  });

  it("adds no reader and no init container when no workload waits for a Job", () => {
    const config = parseHelkConfig({
      target: "kubernetes",
      setup: { kafkaTopics: false, engineSecurity: false, indexTemplates: false, attackLoad: false, dashboardsImport: false },
    });
    const manifests = synthesizeManifests(config) as any[];
    expect(manifests.filter((m) => ["ServiceAccount", "Role", "RoleBinding"].includes(m.kind))).toEqual([]);
    expect(workloadsOf(manifests).flatMap((m) => m.spec.template.spec.initContainers ?? [])).toEqual([]);
  });
});
