import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as models from "kubernetes-models";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseHelkConfig } from "../../components/config.ts";
import { synthesizeManifests } from "../../components/kubernetes.ts";
import { DEPENDS_ON, SYNC_WAVE } from "../../components/kubernetes-order.ts";
import { loadStackConfig } from "../../components/stack-file.ts";
import { gitOpsFiles, writeGitOps } from "../../components/synth.ts";
import { projectRoot } from "../../lib/data.ts";

interface Validatable {
  validate(): void;
}
type ModelClass = (new (data: unknown) => Validatable) & { apiVersion: string; kind: string };

/** Every model class of kubernetes-models (Kubernetes 1.27 API schema), by `apiVersion/kind`. */
const modelClasses = new Map<string, ModelClass>();
(function collect(namespace: object, depth: number) {
  for (const value of Object.values(namespace)) {
    if (typeof value === "function" && "apiVersion" in value && "kind" in value) {
      const model = value as ModelClass;
      modelClasses.set(`${model.apiVersion}/${model.kind}`, model);
    } else if (value && typeof value === "object" && depth < 3) collect(value, depth + 1);
  }
})(models, 0);

/** Validates one manifest against the API schema of its apiVersion and kind. */
function validateManifest(manifest: any): void {
  const model = modelClasses.get(`${manifest.apiVersion}/${manifest.kind}`);
  if (!model) throw new Error(`no schema for ${manifest.apiVersion}/${manifest.kind}`);
  new model(manifest).validate();
}

const cluster = loadStackConfig("cluster");
const variants: [string, ReturnType<typeof parseHelkConfig>][] = [
  ["cluster stack", cluster],
  ["smallest kubernetes config", parseHelkConfig({ target: "kubernetes" })],
  ["opensearch with security", parseHelkConfig({ target: "kubernetes", engine: { kind: "opensearch", security: true } })],
  ["no UI, no Jupyter", parseHelkConfig({ target: "kubernetes", dashboards: { enabled: false }, jupyter: { enabled: false } })],
];

describe("synthesized Kubernetes manifests", () => {
  it.each(variants)("%s: every manifest validates against the Kubernetes API schema", (_, config) => {
    const manifests = synthesizeManifests(config);
    expect(manifests.length).toBeGreaterThan(10);
    for (const manifest of manifests) expect(() => validateManifest(manifest), `${manifest.kind}/${(manifest.metadata as any).name}`).not.toThrow();
  });

  it("the schema check rejects a broken manifest (it is not a no-op)", () => {
    const deployment = structuredClone(synthesizeManifests(cluster).find((m) => m.kind === "Deployment")) as any;
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "http";
    expect(() => validateManifest(deployment)).toThrow(/containerPort/);
  });

  it("spreads replicas with anti-affinity and runs non-root where the image allows", () => {
    const manifests = synthesizeManifests(cluster) as any[];
    const kafka = manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "helk-kafka");
    expect(kafka.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe(
      "kubernetes.io/hostname",
    );
    expect(kafka.spec.podManagementPolicy).toBe("Parallel");
    const enrichment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === "helk-enrichment");
    expect(enrichment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    for (const m of manifests.filter((x) => x.spec?.template)) {
      expect(m.spec.template.spec.securityContext.runAsNonRoot, m.metadata.name).toBe(true);
      expect(m.spec.template.spec.automountServiceAccountToken, m.metadata.name).toBe(false);
    }
  });

  it("admits only the flows the stack needs", () => {
    const policies = synthesizeManifests(cluster).filter((m) => m.kind === "NetworkPolicy") as any[];
    const deny = policies.find((p) => p.metadata.name === "helk-default-deny-ingress");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    const sources = (name: string) =>
      policies
        .find((p) => p.metadata.name === `helk-${name}-ingress`)
        .spec.ingress?.flatMap((rule: any) => rule.from.map((peer: any) => peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] ?? Object.keys(peer)[0])) ?? [];
    expect(sources("engine").sort()).toEqual(
      ["dashboards", "enrichment", "engine", "jupyter", "retention", "setup-attack-load", "setup-dashboards-import", "setup-engine-security", "setup-index-templates"].sort(),
    );
    expect(sources("enrichment")).toEqual([]);
    expect(sources("kafka").sort()).toEqual(["enrichment", "ipBlock", "jupyter", "kafka", "namespaceSelector", "setup-kafka-topics"].sort());
  });
});

describe("the retention CronJob", () => {
  const cronJobs = (config: ReturnType<typeof parseHelkConfig>) => synthesizeManifests(config).filter((m) => m.kind === "CronJob") as any[];

  it("runs `helk retention run` every helk:retention.everyHours, one run at a time, after the engine", () => {
    const [cron, ...others] = cronJobs(cluster);
    expect(others).toEqual([]);
    expect(cron.metadata.name).toBe("helk-retention");
    expect(cron.spec).toMatchObject({ schedule: "0 */6 * * *", concurrencyPolicy: "Forbid", startingDeadlineSeconds: 600 });
    const job = cron.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(2);
    const pod = job.template.spec;
    expect(job.template.metadata.labels["app.kubernetes.io/name"]).toBe("retention");
    expect(pod).toMatchObject({ automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, runAsUser: 1000 } });
    const container = pod.containers[0];
    expect(container.command.slice(-2)).toEqual(["retention", "run"]);
    expect(container.image).toBe(cluster.enrichment.image);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(JSON.parse(env.HELK_RETENTION_POLICY)).toEqual({
      events: { days: 30, maxBytes: 150 * 2 ** 30 },
      processNetwork: { days: 30, maxBytes: 40 * 2 ** 30 },
      alerts: { days: 365, maxBytes: 10 * 2 ** 30 },
    });
    expect(env.HELK_ENGINE_PASSWORD).toEqual({ secretKeyRef: { name: "helk-credentials", key: "engine-password" } });
    expect(cron.metadata.annotations).toEqual({
      [SYNC_WAVE]: "1",
      [DEPENDS_ON]: "apps/namespaces/helk/StatefulSet/helk-engine",
    });
  });

  it("says hourly as every hour, and is left out when retention is off", () => {
    expect(cronJobs(parseHelkConfig({ target: "kubernetes", retention: { everyHours: 1 } }))[0].spec.schedule).toBe("0 * * * *");
    expect(cronJobs(parseHelkConfig({ target: "kubernetes", retention: { everyHours: 24 } }))[0].spec.schedule).toBe("0 */24 * * *");
    expect(cronJobs(parseHelkConfig({ target: "kubernetes", retention: { enabled: false } }))).toEqual([]);
  });
});

describe("npm run synth", () => {
  it("writes manifests and a kustomization.yaml listing them, byte-identical on a second run", () => {
    const out = mkdtempSync(join(tmpdir(), "helk-synth-"));
    const first = writeGitOps("cluster", join(out, "a"));
    const second = writeGitOps("cluster", join(out, "b"));
    const files = readdirSync(first.dir).sort();
    expect(readdirSync(second.dir).sort()).toEqual(files);
    for (const file of files) expect(readFileSync(join(second.dir, file)), file).toEqual(readFileSync(join(first.dir, file)));
    const kustomization = parse(readFileSync(join(first.dir, "kustomization.yaml"), "utf8"));
    expect(kustomization.kind).toBe("Kustomization");
    expect([...kustomization.resources, "README.md", "kustomization.yaml"].sort()).toEqual(files);
    for (const resource of kustomization.resources) validateManifest(parse(readFileSync(join(first.dir, resource), "utf8")));
  });

  it("never writes a secret value, even when the stack file holds one in plain text", () => {
    const secrets = { enginePassword: "engine-Pa55-Q81x", dashboardsPassword: "kibana-Pa55-Z2k", jupyterToken: "jupyter-T0ken-77c" };
    const config = parseHelkConfig({ target: "kubernetes", credentials: secrets });
    const text = gitOpsFiles(config, "test").map((f) => f.text).join("\n");
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    expect(text).toContain("kubectl -n helk create secret generic helk-credentials");
    expect(text).toContain("secretKeyRef");
  });

  it("tells how to create every Secret the manifests reference", () => {
    const files = gitOpsFiles(cluster, "cluster");
    const referenced = new Set<string>();
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node && typeof node === "object") {
        const ref = (node as { secretKeyRef?: { name: string; key: string } }).secretKeyRef;
        if (ref) referenced.add(`${ref.name} ${ref.key}`);
        const volumeSecret = (node as { secret?: { secretName?: string } }).secret?.secretName;
        if (volumeSecret) referenced.add(volumeSecret);
        Object.values(node).forEach(visit);
      }
    };
    files.filter((f) => f.name.endsWith(".yaml")).forEach((f) => visit(parse(f.text)));
    expect([...referenced].sort()).toEqual([
      "helk-credentials dashboards-password",
      "helk-credentials engine-password",
      "helk-credentials jupyter-token",
      "helk-engine-transport-tls",
    ]);
    const readme = files.find((f) => f.name === "README.md")!.text;
    for (const ref of referenced) {
      const [name, key] = ref.split(" ");
      expect(readme).toContain(`create secret generic ${name}`);
      if (key) expect(readme).toContain(`--from-literal=${key}=`);
    }
  });

  it("says in its README when the ATT&CK load Job has no bundle, and not when it has one", () => {
    const readmeOf = (raw: unknown) => gitOpsFiles(parseHelkConfig(raw), "test").find((f) => f.name === "README.md")!.text;
    expect(readmeOf({ target: "kubernetes" })).toContain(
      "The ATT&CK load Job will fail as synthesized: helk:enrichment.attackBundleFile or helk:enrichment.attackBundle is required",
    );
    const download = { attackBundle: "https://example.org/enterprise-attack-18.1.json", attackSha256: "f".repeat(64) };
    expect(readmeOf({ target: "kubernetes", enrichment: download })).not.toContain("ATT&CK bundle missing");
  });

  it("refuses a docker-target stack", () => {
    expect(() => gitOpsFiles(loadStackConfig("lab"), "lab")).toThrow('stack "lab" has helk:target "docker"');
  });

  it("runs from the command line for the cluster stack (time printed; speed target is in bench)", () => {
    const started = performance.now();
    const output = execFileSync(process.execPath, ["--import", "tsx", "components/synth.ts", "cluster"], { cwd: projectRoot, encoding: "utf8" });
    const seconds = (performance.now() - started) / 1000;
    console.log(`npm run synth -- cluster (node --import tsx components/synth.ts cluster): ${seconds.toFixed(2)} s`);
    expect(output).toMatch(/^wrote \d+ files to .*dist\/cluster in \d+ ms/);
    expect(readdirSync(join(projectRoot, "dist", "cluster"))).toContain("kustomization.yaml");
  });
});
