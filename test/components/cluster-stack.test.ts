import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../../components/stack-file.ts";
import { isSecretValue, reveal, runProgram, type Declared } from "./pulumi-harness.ts";

// The cluster stack (kubernetes target) through the real program, index.ts, against Pulumi's mocks.
const config = loadStackConfig("cluster");
let run: Awaited<ReturnType<typeof runProgram>>;
let objects: any[];
const object = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const podSpec = (o: any) => o.spec.template.spec;
const envOf = (o: any) => Object.fromEntries(podSpec(o).containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

/** What a cluster deployment sets: the bundle's https URL and the checksum the user verified. */
const DOWNLOADED_ATTACK = {
  attackBundle: "https://example.org/attack/enterprise-attack-18.1.json",
  attackSha256: "0123456789abcdef".repeat(4),
};

beforeAll(async () => {
  run = await runProgram("cluster", { settings: { "helk:enrichment": DOWNLOADED_ATTACK } });
  const group = run.declared.filter((d) => d.type === "kubernetes:yaml/v2:ConfigGroup");
  expect(group).toHaveLength(1);
  objects = group[0]!.inputs.objs;
});

describe("cluster stack resource graph", () => {
  it("applies every enabled component: StatefulSets for Kafka and the engine, Deployments for the rest, Jobs for setup", () => {
    const workloads = objects.filter((o) => ["StatefulSet", "Deployment", "Job"].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(workloads.sort()).toEqual(
      [
        "StatefulSet/helk-kafka",
        "StatefulSet/helk-engine",
        "Deployment/helk-dashboards",
        "Deployment/helk-enrichment",
        "Deployment/helk-jupyter",
        "Job/helk-setup-kafka-topics",
        "Job/helk-setup-engine-security",
        "Job/helk-setup-index-templates",
        "Job/helk-setup-attack-load",
        "Job/helk-setup-dashboards-import",
      ].sort(),
    );
    expect(object("StatefulSet", "helk-kafka").spec.replicas).toBe(3);
    expect(object("StatefulSet", "helk-engine").spec.replicas).toBe(3);
    expect(object("Deployment", "helk-enrichment").spec.replicas).toBe(2);
    expect(object("Service", "helk-kafka-headless").spec.clusterIP).toBe("None");
    expect(object("StatefulSet", "helk-kafka").spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(config.kafka.storage);
    for (const name of ["helk-kafka", "helk-engine", "helk-enrichment"]) expect(object("PodDisruptionBudget", name).spec.maxUnavailable).toBe(1);
  });

  it("pins every image and gives every container requests, limits and (services) probes", () => {
    for (const o of objects.filter((x) => x.spec?.template)) {
      for (const container of podSpec(o).containers) {
        expect(container.image, o.metadata.name).toMatch(/:(?!latest$)[\w.-]+$/);
        expect(container.resources.limits.memory, o.metadata.name).toMatch(/Mi$/);
        expect(container.resources.requests.cpu, o.metadata.name).toBeDefined();
        if (o.kind !== "Job") expect(container.readinessProbe.exec.command.length, o.metadata.name).toBeGreaterThan(0);
        expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
      }
    }
  });

  it("forms the KRaft quorum from the three brokers and hands their addresses to the clients", () => {
    const kafka = envOf(object("StatefulSet", "helk-kafka"));
    const brokers = [0, 1, 2].map((i) => `helk-kafka-${i}.helk-kafka-headless.helk.svc`);
    expect(kafka.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(brokers.map((b, i) => `${i}@${b}:9093`).join(","));
    expect(kafka.KAFKA_ADVERTISED_LISTENERS).toBe("PLAINTEXT://$(HELK_POD_NAME).helk-kafka-headless.helk.svc:9092");
    // The node id comes from the pod ordinal, derived by the wrapper around the image's entrypoint.
    expect(podSpec(object("StatefulSet", "helk-kafka")).containers[0].command.join(" ")).toContain('KAFKA_NODE_ID="${HELK_ORDINAL}"');
    const bootstrap = brokers.map((b) => `${b}:9092`).join(",");
    for (const client of [object("Deployment", "helk-enrichment"), object("Deployment", "helk-jupyter"), object("Job", "helk-setup-kafka-topics")])
      expect(envOf(client).HELK_KAFKA_BROKERS, client.metadata.name).toBe(bootstrap);
    const engineUrl = `http://${object("Service", "helk-engine").metadata.name}.helk.svc:9200`;
    for (const client of [object("Deployment", "helk-enrichment"), object("Job", "helk-setup-attack-load")]) expect(envOf(client).HELK_ENGINE_URL).toBe(engineUrl);
    expect(run.endpoints.kafka.bootstrap).toBe(bootstrap);
    expect(run.endpoints.engine.url).toBe(engineUrl);
  });

  it("keeps credentials out of the manifests: a Pulumi-secret Secret the pods reference by name", () => {
    const secrets = run.declared.filter((d) => d.type === "kubernetes:core/v1:Secret");
    expect(secrets).toHaveLength(1);
    const secret: Declared = secrets[0]!;
    expect(secret.inputs.metadata.name).toBe(config.kubernetes.credentialsSecret);
    expect(isSecretValue(secret.inputs.stringData) || Object.values(secret.inputs.stringData).every(isSecretValue)).toBe(true);
    expect(Object.keys(reveal(secret.inputs.stringData)).sort()).toEqual(["dashboards-password", "engine-password", "jupyter-token"]);
    expect(envOf(object("StatefulSet", "helk-engine")).ELASTIC_PASSWORD).toEqual({
      secretKeyRef: { key: "engine-password", name: config.kubernetes.credentialsSecret },
    });
    const manifests = JSON.stringify(objects);
    expect(run.generatedSecrets).toHaveLength(3);
    for (const value of run.generatedSecrets) expect(manifests).not.toContain(value);
    expect(run.endpointsSecret).toBe(true);
  });

  it("hands the ATT&CK download and its checksum to the service and the ATT&CK load job", () => {
    for (const reader of [object("Deployment", "helk-enrichment"), object("Job", "helk-setup-attack-load")]) {
      expect(envOf(reader).HELK_ATTACK_BUNDLE, reader.metadata.name).toBe(DOWNLOADED_ATTACK.attackBundle);
      expect(envOf(reader).HELK_ATTACK_SHA256, reader.metadata.name).toBe(DOWNLOADED_ATTACK.attackSha256);
    }
    expect(envOf(object("Job", "helk-setup-index-templates")).HELK_ATTACK_BUNDLE).toBeUndefined();
  });
});
