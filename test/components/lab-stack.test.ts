import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../../components/stack-file.ts";
import { envMap, isSecretValue, reveal, runProgram, type Declared } from "./pulumi-harness.ts";

// The lab stack (docker target) through the real program, index.ts, against Pulumi's mocks.
const config = loadStackConfig("lab");
let run: Awaited<ReturnType<typeof runProgram>>;
let containers: Declared[];
const byName = (name: string) => {
  const found = containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}; have ${containers.map((c) => c.name).join(", ")}`);
  return found;
};
const env = (container: Declared) => envMap(reveal(container.inputs.envs) as string[]);

/** What the quick start sets: the ATT&CK bundle file on the Docker host. */
const ATTACK_FILE = "/srv/helk/enterprise-attack-18.1.json";

beforeAll(async () => {
  run = await runProgram("lab", { settings: { "helk:enrichment": { attackBundleFile: ATTACK_FILE } } });
  containers = run.declared.filter((d) => d.type === "docker:index/container:Container");
});

describe("lab stack resource graph", () => {
  it("declares every enabled component on one private network", () => {
    // Fixed type tokens by kind (not by display title), so a renamed title keeps every URN.
    const components = Object.fromEntries(run.declared.filter((d) => d.type.startsWith("helk:docker:")).map((d) => [d.name, d.type]));
    expect(components).toEqual({
      helk: "helk:docker:Deployment",
      "helk-kafka": "helk:docker:Service",
      "helk-engine": "helk:docker:Service",
      "helk-dashboards": "helk:docker:Service",
      "helk-enrichment": "helk:docker:Service",
      "helk-jupyter": "helk:docker:Service",
      "helk-setup-kafka-topics": "helk:docker:Job",
      "helk-setup-engine-security": "helk:docker:Job",
      "helk-setup-index-templates": "helk:docker:Job",
      "helk-setup-attack-load": "helk:docker:Job",
      "helk-setup-dashboards-import": "helk:docker:Job",
      "helk-retention": "helk:docker:ScheduledJob",
    });
    const services = ["kafka", "engine", "dashboards", "enrichment", "jupyter"];
    for (const service of services) expect(byName(`helk-${service}-0`).inputs.restart).toBe("unless-stopped");
    const networks = run.declared.filter((d) => d.type === "docker:index/network:Network");
    expect(networks).toHaveLength(1);
    for (const container of containers) expect(container.inputs.networksAdvanced.map((n: { name: string }) => n.name)).toEqual([networks[0]!.inputs.name]);
  });

  it("pulls only pinned registry images and builds the enrichment image from enrichment/Dockerfile", () => {
    const pulled = run.declared.filter((d) => d.type === "docker:index/remoteImage:RemoteImage").map((d) => d.inputs.name as string);
    expect(pulled.sort()).toEqual(
      [config.kafka.image, config.engine.image, config.dashboards.image, config.jupyter.image].sort(),
    );
    for (const image of pulled) expect(image).toMatch(/:(?!latest$)[\w.-]+$/);
    const built = run.declared.filter((d) => d.type === "docker:index/image:Image");
    expect(built).toHaveLength(1);
    expect(built[0]!.inputs.build).toMatchObject({ context: ".", dockerfile: "enrichment/Dockerfile", args: { BASE_IMAGE: config.enrichment.baseImage } });
    expect(built[0]!.inputs.imageName).toBe(config.enrichment.image);
    // Setup jobs run helk from the same image.
    expect(byName("helk-setup-attack-load").inputs.image).toBe(config.enrichment.image);
  });

  it("gives every container a memory limit and every service a health check it waits for", () => {
    for (const container of containers) expect(container.inputs.memory, container.name).toBeGreaterThan(0);
    const services = containers.filter((c) => c.inputs.restart !== "no" && c.name !== "helk-retention");
    expect(services).toHaveLength(5);
    for (const service of services) {
      expect(service.inputs.healthcheck.tests[0], service.name).toBe("CMD");
      expect(service.inputs.healthcheck.tests.length, service.name).toBeGreaterThan(1);
      expect(service.inputs.wait, service.name).toBe(true);
    }
    for (const job of containers.filter((c) => c.inputs.restart === "no")) expect(job.inputs.attach, job.name).toBe(true);
  });

  it("publishes ports on 127.0.0.1 only", () => {
    const published = containers.flatMap((c) => (c.inputs.ports ?? []) as { ip: string; external: number }[]);
    expect(published.map((p) => p.external).sort()).toEqual([5601, 8080, 8888, 9092, 9200]);
    for (const port of published) expect(port.ip).toBe("127.0.0.1");
  });

  it("wires Kafka and the engine as those components expose them", () => {
    const kafka = env(byName("helk-kafka-0"));
    const advertised = kafka.KAFKA_ADVERTISED_LISTENERS!.split(",").find((l) => l.startsWith("PLAINTEXT://"))!.slice("PLAINTEXT://".length);
    expect(advertised).toBe("helk-kafka-0:9092");
    const engineAlias = byName("helk-engine-0").inputs.networksAdvanced[0].aliases[0];
    for (const client of ["helk-enrichment-0", "helk-jupyter-0", "helk-setup-kafka-topics"]) {
      expect(env(byName(client)).HELK_KAFKA_BROKERS, client).toBe(advertised);
    }
    for (const client of ["helk-enrichment-0", "helk-jupyter-0", "helk-setup-attack-load", "helk-setup-index-templates", "helk-retention"]) {
      expect(env(byName(client)).HELK_ENGINE_URL, client).toBe(`http://${engineAlias}:9200`);
      expect(env(byName(client)).HELK_ENGINE_PASSWORD, client).toBe(env(byName("helk-engine-0")).ELASTIC_PASSWORD);
    }
    expect(env(byName("helk-dashboards-0")).ELASTICSEARCH_HOSTS).toBe(`http://${engineAlias}:9200`);
    const enrichment = env(byName("helk-enrichment-0"));
    expect(enrichment.HELK_INPUT_TOPICS).toBe("winlogbeat");
    expect(enrichment.HELK_DEAD_LETTER_TOPIC).toBe("helk-dead-letter");
    expect(JSON.parse(env(byName("helk-setup-kafka-topics")).HELK_KAFKA_TOPICS!).map((t: { name: string }) => t.name)).toEqual([
      "winlogbeat",
      "helk-dead-letter",
    ]);
  });

  it("keeps credentials secret: generated, injected as secrets, and secret in the endpoints output", () => {
    expect(run.generatedSecrets).toHaveLength(3); // engine password, kibana_system password, Jupyter token
    const withCredentials = ["helk-engine-0", "helk-dashboards-0", "helk-enrichment-0", "helk-jupyter-0", "helk-setup-engine-security"];
    for (const name of withCredentials) expect(isSecretValue(byName(name).inputs.envs), name).toBe(true);
    expect(isSecretValue(byName("helk-kafka-0").inputs.envs)).toBe(false);
    const plain = JSON.stringify(containers.filter((c) => !isSecretValue(c.inputs.envs)).map((c) => c.inputs));
    for (const secret of run.generatedSecrets) expect(plain).not.toContain(secret);
    expect(run.endpointsSecret).toBe(true);
    expect(run.endpoints).toEqual({
      kafka: {
        bootstrap: "127.0.0.1:9092",
        eventTopics: ["winlogbeat"],
        deadLetterTopic: "helk-dead-letter",
        topics: [
          { name: "winlogbeat", partitions: 3, replicationFactor: 1 },
          { name: "helk-dead-letter", partitions: 1, replicationFactor: 1 },
        ],
      },
      engine: { kind: "elasticsearch", url: "http://127.0.0.1:9200", username: "elastic", password: expect.stringMatching(/^generated-/) },
      dashboards: { kind: "kibana", url: "http://127.0.0.1:5601" },
      enrichment: { url: "http://127.0.0.1:8080" },
      jupyter: { url: "http://127.0.0.1:8888", token: expect.stringMatching(/^generated-/) },
    });
    expect(run.endpoints.engine.password).toBe(env(byName("helk-engine-0")).ELASTIC_PASSWORD);
  });

  it("mounts the ATT&CK bundle file read-only into the service and the ATT&CK load job, and points them at it", () => {
    const readers = ["helk-enrichment-0", "helk-setup-attack-load"];
    for (const name of readers) {
      const container = byName(name);
      const bind = (container.inputs.mounts as { type: string }[]).filter((m) => m.type === "bind");
      expect(bind, name).toEqual([{ type: "bind", source: ATTACK_FILE, target: "/mnt/helk/attack/enterprise-attack-18.1.json", readOnly: true }]);
      expect(env(container).HELK_ATTACK_BUNDLE, name).toBe("/mnt/helk/attack/enterprise-attack-18.1.json");
      expect(env(container).HELK_ATTACK_SHA256, name).toBeUndefined();
    }
    const others = containers.filter((c) => !readers.includes(c.name));
    for (const container of others) {
      expect((container.inputs.mounts ?? []).filter((m: { type: string }) => m.type === "bind"), container.name).toEqual([]);
      expect(env(container).HELK_ATTACK_BUNDLE, container.name).toBeUndefined();
    }
  });

  it("runs the retention job at start and then every helk:retention.everyHours, in a container restarted unless stopped", () => {
    const retention = byName("helk-retention");
    expect(retention.inputs).toMatchObject({ restart: "unless-stopped", entrypoints: ["sh"] });
    expect(retention.inputs.healthcheck).toBeUndefined();
    expect(retention.inputs.wait).toBeFalsy();
    const [flag, script, name, ...command] = retention.inputs.command as string[];
    expect([flag, name]).toEqual(["-c", "retention"]);
    expect(command).toEqual(["node", "--import", "tsx", "cli/helk.ts", "retention", "run"]);
    expect(script).toContain('"$@" ||');
    expect(script).toContain(`sleep ${6 * 3600} & wait $!`);
    expect(JSON.parse(env(retention).HELK_RETENTION_POLICY!)).toEqual({
      events: { days: 30, maxBytes: 5 * 2 ** 30 },
      processNetwork: { days: 30, maxBytes: 2 ** 30 },
      alerts: { days: 365, maxBytes: 512 * 2 ** 20 },
    });
    // The topics job sets the size budgets beside the times; the dead letters' come from helk:retention.deadLetters.
    expect(JSON.parse(env(byName("helk-setup-kafka-topics")).HELK_KAFKA_TOPICS!)).toEqual([
      { name: "winlogbeat", partitions: 3, replicationFactor: 1, retentionHours: 168, retentionBytes: 2 ** 30 },
      { name: "helk-dead-letter", partitions: 1, replicationFactor: 1, retentionHours: 336, retentionBytes: 512 * 2 ** 20 },
    ]);
  });

  it("runs every setup job attached with its log kept, so a failed job's exit code and log tail can be reported", () => {
    const jobs = containers.filter((c) => c.inputs.restart === "no");
    expect(jobs.map((j) => j.name).sort()).toEqual(
      ["helk-setup-attack-load", "helk-setup-dashboards-import", "helk-setup-engine-security", "helk-setup-index-templates", "helk-setup-kafka-topics"],
    );
    for (const job of jobs) expect(job.inputs, job.name).toMatchObject({ attach: true, logs: true, mustRun: false });
  });
});
