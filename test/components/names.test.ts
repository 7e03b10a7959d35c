import { describe, expect, it } from "vitest";
import { parseHelkConfig } from "../../components/config.ts";
import { describeKubernetesDeployment, synthesizeManifests } from "../../components/kubernetes.ts";
import { credentialsSecretName, headlessServiceName, instanceName, workloadName } from "../../components/names.ts";

describe("resource names", () => {
  it("derive the credentials Secret from helk:name unless it is set", () => {
    expect(parseHelkConfig({ target: "kubernetes" }).kubernetes.credentialsSecret).toBe("helk-credentials");
    expect(parseHelkConfig({ target: "kubernetes", name: "hunt" }).kubernetes.credentialsSecret).toBe("hunt-credentials");
    expect(parseHelkConfig({ target: "kubernetes", name: "hunt", kubernetes: { credentialsSecret: "vault-synced" } }).kubernetes.credentialsSecret).toBe(
      "vault-synced",
    );
  });

  it("are the ones the manifests and the in-cluster DNS names use", () => {
    const config = parseHelkConfig({ target: "kubernetes", name: "hunt", kafka: { brokers: 3 } });
    const objects = synthesizeManifests(config) as { kind: string; metadata: { name: string } }[];
    const named = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    expect(named("Service")).toContain(headlessServiceName("hunt", "kafka"));
    expect(named("StatefulSet")).toContain(workloadName("hunt", "kafka"));
    expect(JSON.stringify(objects)).toContain(`"name":"${credentialsSecretName("hunt")}"`);
    const bootstrap = describeKubernetesDeployment(config).endpoints.kafka.bootstrap;
    expect(bootstrap.split(",")[2]).toBe(`${instanceName("hunt", "kafka", 2)}.${headlessServiceName("hunt", "kafka")}.helk.svc:9092`);
  });
});
