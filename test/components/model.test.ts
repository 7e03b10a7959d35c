import { describe, expect, it } from "vitest";
import { parseHelkConfig } from "../../components/config.ts";
import { describeDeployment, startOrder } from "../../components/deployment.ts";
import { dockerTopology } from "../../components/docker.ts";
import { kubernetesTopology } from "../../components/kubernetes.ts";
import { expandForInstance, quantityToMiB } from "../../components/model.ts";
import { loadConfig } from "../../enrichment/config.ts";

const docker = (raw: object) => {
  const config = parseHelkConfig({ target: "docker", ...raw });
  return describeDeployment(config, dockerTopology(config.name));
};
const service = (model: ReturnType<typeof docker>, name: string) => model.services.find((s) => s.name === name)!;

describe("platform-neutral model", () => {
  it("starts every workload after what it uses and the jobs it waits for", () => {
    const order = startOrder(docker({})).map((w) => w.name);
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b}`).toBeLessThan(order.indexOf(b));
    before("kafka", "setup-kafka-topics");
    before("setup-kafka-topics", "enrichment");
    before("setup-engine-security", "dashboards");
    before("setup-index-templates", "setup-attack-load");
    before("dashboards", "setup-dashboards-import");
    expect(new Set(order).size).toBe(order.length);
  });

  it("hands the enrichment service its join memory budgets from helk:enrichment.joinMemory, in bytes the service reads", () => {
    const budgets = (raw: object) => {
      const env = service(docker(raw), "enrichment").env;
      return loadConfig(Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string")));
    };
    const defaults = budgets({});
    expect([defaults.HELK_JOIN_CACHE_BYTES, defaults.HELK_JOIN_WAITING_BYTES]).toEqual([48 * 1024 * 1024, 16 * 1024 * 1024]);
    const set = budgets({ enrichment: { joinMemory: { cache: "64Mi", waiting: "1Gi" } } });
    expect([set.HELK_JOIN_CACHE_BYTES, set.HELK_JOIN_WAITING_BYTES]).toEqual([64 * 1024 * 1024, 1024 * 1024 * 1024]);
  });

  it("advertises Kafka on a reachable host when asked to publish on every interface", () => {
    const model = docker({ ports: { bindAddress: "0.0.0.0" }, kafka: { brokers: 3, topics: [{ name: "winlogbeat" }, { name: "helk-dead-letter" }] } });
    const kafka = service(model, "kafka");
    expect(kafka.env.KAFKA_ADVERTISED_LISTENERS).toBe("PLAINTEXT://helk-kafka-{{ordinal}}:9092,EXTERNAL://127.0.0.1:{{port:9092}}");
    expect(expandForInstance(kafka.env.KAFKA_ADVERTISED_LISTENERS as string, 2)).toBe("PLAINTEXT://helk-kafka-2:9092,EXTERNAL://127.0.0.1:9094");
    expect(kafka.env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe("0@helk-kafka-0:9093,1@helk-kafka-1:9093,2@helk-kafka-2:9093");
    expect(model.endpoints.kafka.bootstrap).toBe("helk-kafka-0:9092,helk-kafka-1:9092,helk-kafka-2:9092");
    expect(service(model, "enrichment").env.HELK_KAFKA_BROKERS).toBe(model.endpoints.kafka.bootstrap);
  });

  it("derives every client's engine settings from the engine component", () => {
    const model = docker({ name: "hunt", engine: { kind: "opensearch", security: true } });
    expect(model.endpoints.engine).toEqual({ kind: "opensearch", url: "https://hunt-engine:9200", username: "admin", secured: true });
    for (const name of ["enrichment", "jupyter"]) {
      expect(service(model, name).env).toMatchObject({
        HELK_ENGINE_KIND: "opensearch",
        HELK_ENGINE_URL: "https://hunt-engine:9200",
        HELK_ENGINE_USERNAME: "admin",
        HELK_ENGINE_PASSWORD: { credential: "engine-password" },
        HELK_ENGINE_INSECURE_TLS: "true",
      });
    }
    expect(service(model, "dashboards").env.OPENSEARCH_HOSTS).toBe('["https://hunt-engine:9200"]');
    expect(model.jobs.map((j) => j.name)).not.toContain("setup-engine-security"); // Kibana only
  });

  it("leaves out disabled components and the jobs that need them", () => {
    const model = docker({ dashboards: { enabled: false }, jupyter: { enabled: false }, enrichment: { enabled: false } });
    expect(model.services.map((s) => s.name)).toEqual(["kafka", "engine"]);
    expect(model.jobs.map((j) => j.name)).toEqual(["setup-kafka-topics", "setup-index-templates", "setup-attack-load"]);
    expect(model.endpoints).toMatchObject({ dashboards: null, enrichment: null, jupyter: null });
  });

  it("adds the detection rules job and the detections service only when detections are enabled", () => {
    const workloads = (model: ReturnType<typeof docker>) => [...model.services, ...model.jobs].map((w) => w.name);
    expect(workloads(docker({})).filter((name) => name.includes("detection"))).toEqual([]);

    const model = docker({
      enrichment: { attackBundleFile: "/srv/attack/enterprise-attack-18.1.json" },
      detections: { enabled: true, rules: ["/opt/helk/sigma/rules.tar.gz"], ruleFiles: ["/srv/own-rules"], levels: ["critical"], tags: ["attack.t1003.001"], intervalSeconds: 30 },
    });
    const attackLoad = model.jobs.find((j) => j.name === "setup-attack-load")!;
    const rulesJob = model.jobs.find((j) => j.name === "setup-detection-rules")!;
    // What the ATT&CK load job gets (engine client, bundle env and its mount), plus the host rule folder.
    expect(rulesJob.env).toEqual(attackLoad.env);
    expect(rulesJob.hostFiles).toEqual([...attackLoad.hostFiles!, { hostPath: "/srv/own-rules", mountPath: "/mnt/helk/sigma/own-rules" }]);
    expect(rulesJob.image).toEqual(service(model, "enrichment").image);
    expect(rulesJob.after).toEqual(["setup-index-templates"]);
    expect(rulesJob.command.slice(4)).toEqual([
      "detections", "convert", "--no-shared", "--rules", "/opt/helk/sigma/rules.tar.gz", "/mnt/helk/sigma/own-rules",
      "--level", "critical", "--tag", "attack.t1003.001", "--install", "--report", "/tmp/detections-report.jsonl",
    ]);

    const detections = service(model, "detections");
    expect(detections.command!.slice(4)).toEqual(["detections", "run", "--interval", "30000", "--http-port", "8081"]);
    expect(detections).toMatchObject({ uses: ["engine"], after: ["setup-detection-rules"], ports: [{ name: "http", port: 8081 }], external: false });
    expect(detections.health.command.join(" ")).toContain("http://127.0.0.1:8081/healthz");
    const order = startOrder(model).map((w) => w.name);
    expect(order.indexOf("setup-index-templates")).toBeLessThan(order.indexOf("setup-detection-rules"));
    expect(order.indexOf("setup-detection-rules")).toBeLessThan(order.indexOf("detections"));
  });

  it("schedules the retention job after the engine, apart from the one-shot setup jobs, unless retention is off", () => {
    const model = docker({ retention: { everyHours: 12, alerts: { days: 90 } } });
    expect(model.jobs.map((j) => j.name)).not.toContain("retention");
    expect(model.scheduledJobs).toHaveLength(1);
    const retention = model.scheduledJobs[0]!;
    expect(retention).toMatchObject({ kind: "scheduled-job", name: "retention", everyHours: 12, uses: ["engine"], after: [], runAsUser: 1000 });
    expect(retention.command.slice(4)).toEqual(["retention", "run"]);
    expect(JSON.parse(retention.env.HELK_RETENTION_POLICY as string).alerts).toEqual({ days: 90 });
    const order = startOrder(model).map((w) => w.name);
    expect(order.indexOf("engine")).toBeLessThan(order.indexOf("retention"));
    expect(docker({ retention: { enabled: false } }).scheduledJobs).toEqual([]);
  });

  it("resolves instance host names per platform", () => {
    expect(dockerTopology("helk").instanceHost("kafka", 1)).toBe("helk-kafka-1");
    const k8s = kubernetesTopology("helk", "soc");
    expect(k8s.instanceHost("kafka", 1)).toBe("helk-kafka-1.helk-kafka-headless.soc.svc");
    expect(k8s.instanceHost("kafka", "{{ordinal}}")).toBe("$(HELK_POD_NAME).helk-kafka-headless.soc.svc");
    expect(k8s.serviceHost("engine")).toBe("helk-engine.soc.svc");
  });

  it("converts memory quantities for Docker", () => {
    expect(quantityToMiB("512Mi")).toBe(512);
    expect(quantityToMiB("2Gi")).toBe(2048);
    expect(quantityToMiB("1G")).toBe(953);
    expect(() => quantityToMiB("2GB")).toThrow("not a byte quantity: 2GB");
  });
});
