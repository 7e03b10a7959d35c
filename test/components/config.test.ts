import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { credentialProblems, HelkConfigError, helkSettings, missingAttackSource, parseHelkConfig } from "../../components/config.ts";
import { loadStackConfig } from "../../components/stack-file.ts";

/** The config error of `raw`, or a failure if it validates. */
function problemsOf(raw: unknown): string[] {
  try {
    parseHelkConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(HelkConfigError);
    return (error as HelkConfigError).problems;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

describe("helk config schema", () => {
  it("fills every default from the smallest config", () => {
    const config = parseHelkConfig({ target: "docker" });
    expect(config.engine).toMatchObject({ kind: "elasticsearch", nodes: 1, security: true, image: expect.stringMatching(/elasticsearch:\d/) });
    expect(config.dashboards).toMatchObject({ kind: "kibana", enabled: true, image: expect.stringMatching(/kibana:\d/) });
    expect(config.kafka.topics.map((t) => [t.name, t.replicationFactor])).toEqual([
      ["winlogbeat", 1],
      ["helk-dead-letter", 1],
    ]);
    expect(config.ports.bindAddress).toBe("127.0.0.1");
    expect(config.credentials.generate).toBe(true);
    expect(config.detections).toEqual({
      enabled: false,
      rules: [],
      ruleFiles: [],
      levels: ["high", "critical"],
      intervalSeconds: 10,
      resources: { cpu: 0.25, memory: "384Mi" },
    });
  });

  it("matches the dashboards UI and security default to the engine", () => {
    const config = parseHelkConfig({ target: "docker", engine: { kind: "opensearch" } });
    expect(config.dashboards.kind).toBe("opensearch-dashboards");
    expect(config.dashboards.image).toMatch(/^opensearchproject\/opensearch-dashboards:\d/);
    expect(config.engine.security).toBe(false);
  });

  it("reads structured values as Pulumi hands them over (JSON text) and ignores other namespaces", () => {
    const settings = helkSettings({
      "helk:target": "kubernetes",
      "helk:kafka": JSON.stringify({ brokers: 3 }),
      "aws:region": "eu-west-1",
    });
    expect(settings).toEqual({ target: "kubernetes", kafka: { brokers: 3 } });
    expect(parseHelkConfig(settings).kafka.topics[0]!.replicationFactor).toBe(3);
  });

  it("loads every stack file of stacks/", () => {
    expect(loadStackConfig("lab")).toMatchObject({ target: "docker", kafka: { brokers: 1 }, engine: { kind: "elasticsearch", nodes: 1 }, enrichment: { replicas: 1 } });
    expect(loadStackConfig("cluster")).toMatchObject({ target: "kubernetes", kafka: { brokers: 3 }, engine: { nodes: 3 }, enrichment: { replicas: 2 } });
  });

  it("names the stack file and key path when a stack file is invalid", () => {
    const dir = mkdtempSync(join(tmpdir(), "helk-stacks-"));
    writeFileSync(join(dir, "Pulumi.broken.yaml"), "config:\n  helk:target: docker\n  helk:kafka:\n    brokers: 0\n");
    expect(() => loadStackConfig("broken", dir)).toThrow("helk:kafka.brokers must be >= 1, got 0");
    expect(() => loadStackConfig("missing", dir)).toThrow(/stack "missing" has no config file: .*Pulumi\.missing\.yaml/);
  });

  it("accepts an encrypted value left in a raw stack file (synth never needs it)", () => {
    const config = parseHelkConfig({ target: "kubernetes", credentials: { enginePassword: { secure: "v1:abc" } } });
    expect(config.credentials.enginePassword).toEqual({ secure: "v1:abc" });
  });
});

describe("invalid configs fail with one message naming each key", () => {
  const cases: [string, unknown, string[]][] = [
    ["missing target", {}, ["helk:target is required"]],
    ["unknown target", { target: "k8s" }, ['helk:target must be one of "docker", "kubernetes", got "k8s"']],
    ["wrong type", { target: "docker", kafka: { brokers: "3" } }, ['helk:kafka.brokers must be a number, got "3"']],
    ["unknown top-level key", { target: "docker", kafak: {} }, ["helk:kafak is not a known setting"]],
    ["unknown nested key", { target: "docker", engine: { heapSize: "1g" } }, ["helk:engine.heapSize is not a known setting"]],
    ["0 brokers", { target: "docker", kafka: { brokers: 0 } }, ["helk:kafka.brokers must be >= 1, got 0"]],
    ["even KRaft quorum", { target: "docker", kafka: { brokers: 2 } }, ["helk:kafka.brokers must be odd"]],
    [
      "replication above brokers",
      { target: "docker", kafka: { topics: [{ name: "winlogbeat", replicationFactor: 3 }, { name: "helk-dead-letter" }] } },
      ["helk:kafka.topics[0].replicationFactor must be <= helk:kafka.brokers (1), got 3"],
    ],
    [
      "replicas above nodes",
      { target: "kubernetes", kubernetes: { nodes: 2 }, engine: { nodes: 3 } },
      ["helk:engine.nodes must be <= helk:kubernetes.nodes (2)"],
    ],
    [
      "missing engine password on a cluster without a generator",
      { target: "kubernetes", credentials: { generate: false } },
      ["helk:credentials.enginePassword is required on target kubernetes when helk:credentials.generate is false"],
    ],
    ["bad port", { target: "docker", jupyter: { port: 70000 } }, ["helk:jupyter.port must be <= 65535, got 70000"]],
    ["latest tag", { target: "docker", kafka: { image: "apache/kafka:latest" } }, ['helk:kafka.image must be pinned to a version, not "latest"']],
    ["untagged image", { target: "docker", jupyter: { image: "quay.io/jupyter/base-notebook" } }, ["helk:jupyter.image must be pinned to a tag or digest"]],
    ["bind address", { target: "docker", ports: { bindAddress: "localhost" } }, ['helk:ports.bindAddress must be an IPv4 or IPv6 address, got "localhost"']],
    [
      "dashboards not matching the engine",
      { target: "docker", engine: { kind: "opensearch" }, dashboards: { kind: "kibana" } },
      ['helk:dashboards.kind must be "opensearch-dashboards" to match helk:engine.kind "opensearch", got "kibana"'],
    ],
    ["bad memory size", { target: "docker", engine: { resources: { memory: "2GB" } } }, ['helk:engine.resources.memory must be a size like "512Mi" or "10Gi"']],
    ["bad heap", { target: "docker", kafka: { heap: "512" } }, ['helk:kafka.heap must be a heap size like "512m" or "1g"']],
    [
      "dead-letter topic not declared",
      { target: "docker", kafka: { deadLetterTopic: "dlq" } },
      ['helk:kafka.topics must declare topic "dlq"'],
    ],
    ["credential of the wrong type", { target: "docker", credentials: { jupyterToken: 42 } }, ["helk:credentials.jupyterToken must be a non-empty string or a Pulumi secret, got 42"]],
    [
      "several Elasticsearch nodes with security on docker",
      { target: "docker", engine: { nodes: 3 } },
      ["helk:engine.nodes must be 1 on target docker while Elasticsearch security is on"],
    ],
    [
      "relative ATT&CK bundle file",
      { target: "docker", enrichment: { attackBundleFile: "attack/enterprise-attack-18.1.json" } },
      ['helk:enrichment.attackBundleFile must be the absolute path of a file on the Docker host (it is bind-mounted into the containers), got "attack/enterprise-attack-18.1.json"'],
    ],
    [
      "ATT&CK bundle file naming a folder",
      { target: "docker", enrichment: { attackBundleFile: "/srv/attack/" } },
      ['helk:enrichment.attackBundleFile must be the absolute path of a file on the Docker host'],
    ],
    [
      "ATT&CK bundle file on kubernetes",
      { target: "kubernetes", enrichment: { attackBundleFile: "/srv/attack/enterprise-attack-18.1.json" } },
      ["helk:enrichment.attackBundleFile is a file on the Docker host and only works with target docker; on kubernetes give helk:enrichment.attackBundle"],
    ],
    [
      "two ATT&CK bundle sources",
      { target: "docker", enrichment: { attackBundleFile: "/srv/a.json", attackBundle: "/opt/helk/attack/a.json" } },
      ["helk:enrichment.attackBundleFile and helk:enrichment.attackBundle are both set"],
    ],
    [
      "ATT&CK download without a checksum",
      { target: "kubernetes", enrichment: { attackBundle: "https://example.org/enterprise-attack-18.1.json" } },
      ["helk:enrichment.attackSha256 is required when helk:enrichment.attackBundle is an http(s) URL"],
    ],
    [
      "ATT&CK checksum that is not one",
      { target: "kubernetes", enrichment: { attackBundle: "https://example.org/a.json", attackSha256: "abc123" } },
      ['helk:enrichment.attackSha256 must be 64 hex digits (the sha256 of the bundle at helk:enrichment.attackBundle), got "abc123"'],
    ],
    [
      "ATT&CK checksum without a download",
      { target: "docker", enrichment: { attackBundleFile: "/srv/a.json", attackSha256: "a".repeat(64) } },
      ["helk:enrichment.attackSha256 is only used with an http(s) helk:enrichment.attackBundle"],
    ],
    [
      "detections enabled without rules",
      { target: "docker", detections: { enabled: true } },
      ["helk:detections.rules or helk:detections.ruleFiles must name at least one Sigma rule archive (.tar.gz) or folder while helk:detections.enabled is true"],
    ],
    [
      "relative detection rule paths",
      { target: "docker", detections: { rules: ["sigma/rules"], ruleFiles: ["/srv/sigma.tar.gz", "my-rules"] } },
      [
        'helk:detections.rules[0] must be the absolute path of a Sigma rule archive (.tar.gz) or a folder of .yml rules inside the enrichment image, got "sigma/rules"',
        'helk:detections.ruleFiles[1] must be the absolute path of a Sigma rule archive (.tar.gz) or a folder of .yml rules on the Docker host (it is bind-mounted into the rules job), got "my-rules"',
      ],
    ],
    [
      "detection rule files on kubernetes",
      { target: "kubernetes", detections: { enabled: true, ruleFiles: ["/srv/sigma.tar.gz"] } },
      ["helk:detections.ruleFiles lists files on the Docker host and only works with target docker; on kubernetes give helk:detections.rules (paths inside your enrichment image)"],
    ],
    [
      "detection rule files mounted under one name",
      { target: "docker", detections: { enabled: true, ruleFiles: ["/srv/a/rules.tar.gz", "/srv/b/rules.tar.gz"] } },
      ['helk:detections.ruleFiles must end in distinct names (each is mounted under its own name in the rules job), got "rules.tar.gz" more than once'],
    ],
    [
      "unknown detection level, status and tag",
      { target: "docker", detections: { levels: ["hihg"], statuses: ["beta"], tags: ["T1003"] } },
      [
        'helk:detections.levels[0] must be one of "informational", "low", "medium", "high", "critical", got "hihg"',
        'helk:detections.statuses[0] must be one of "stable", "test", "experimental", "deprecated", "unsupported", got "beta"',
        'helk:detections.tags[0] must be a Sigma tag like "attack.t1003.001" or "attack.credential-access", got "T1003"',
      ],
    ],
    ["no detection level", { target: "docker", detections: { levels: [] } }, ["helk:detections.levels must list at least 1, got 0"]],
    ["retention of 0 days", { target: "docker", retention: { events: { days: 0 } } }, ["helk:retention.events.days must be >= 1, got 0"]],
    ["retention size that is no size", { target: "docker", retention: { alerts: { size: "20GB" } } }, ['helk:retention.alerts.size must be a size like "512Mi" or "10Gi"']],
    ["retention interval not dividing a day", { target: "docker", retention: { everyHours: 5 } }, ["helk:retention.everyHours must be one of 1, 2, 3, 4, 6, 8, 12, 24, got 5"]],
    ["unknown retention class", { target: "docker", retention: { logs: { days: 3 } } }, ["helk:retention.logs is not a known setting"]],
    ["detection interval of 0 s", { target: "docker", detections: { intervalSeconds: 0 } }, ["helk:detections.intervalSeconds must be >= 1, got 0"]],
    [
      "relative GeoIP database file",
      { target: "docker", enrichment: { geoip: { cityDatabaseFile: "GeoLite2-City.mmdb" } } },
      ['helk:enrichment.geoip.cityDatabaseFile must be the absolute path of a file on the Docker host (it is bind-mounted into the containers), got "GeoLite2-City.mmdb"'],
    ],
    [
      "GeoIP without a database",
      { target: "docker", enrichment: { geoip: {} } },
      ["helk:enrichment.geoip needs cityDatabaseFile or asnDatabaseFile (a MaxMind-format .mmdb file on the Docker host), got neither"],
    ],
    [
      "GeoIP database of an unknown kind",
      { target: "docker", enrichment: { geoip: { countryDatabaseFile: "/srv/geoip/GeoLite2-Country.mmdb" } } },
      ["helk:enrichment.geoip", "countryDatabaseFile"],
    ],
    [
      "GeoIP databases on kubernetes",
      { target: "kubernetes", enrichment: { geoip: { asnDatabaseFile: "/srv/geoip/GeoLite2-ASN.mmdb" } } },
      ["helk:enrichment.geoip names files on the Docker host and only works with target docker; on kubernetes the enrichment runs without GeoIP (remove the key)"],
    ],
    [
      "ATT&CK bundle neither a path nor a URL",
      { target: "docker", enrichment: { attackBundle: "enterprise-attack.json" } },
      ['helk:enrichment.attackBundle must be an absolute path inside the enrichment image or an http(s) URL, got "enterprise-attack.json"'],
    ],
  ];

  it.each(cases)("%s", (_, raw, expected) => {
    const problems = problemsOf(raw);
    for (const fragment of expected) expect(problems.some((p) => p.includes(fragment)), `${fragment}\nin: ${problems.join("\n")}`).toBe(true);
  });

  it("lists every problem at once, one line each", () => {
    const problems = problemsOf({ target: "docker", kafka: { brokers: 0, bogus: true }, jupyter: { port: 0 }, engine: { image: "x:latest" } });
    expect(problems).toHaveLength(4);
    let message = "";
    try {
      parseHelkConfig({ target: "docker", kafka: { brokers: 0, bogus: true }, jupyter: { port: 0 }, engine: { image: "x:latest" } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split("\n")).toEqual([
      "Invalid HELK config (4 problems):",
      "  - helk:kafka.brokers must be >= 1, got 0",
      "  - helk:kafka.bogus is not a known setting",
      '  - helk:engine.image must be pinned to a version, not "latest" (got "x:latest")',
      "  - helk:jupyter.port must be >= 1, got 0",
    ]);
  });
});

describe("retention and its budgets", () => {
  const GiB = 2 ** 30;

  it("defaults to 30 days of events and joins, a year of alerts, two weeks of dead letters, every 6 hours", () => {
    const { retention, kafka } = parseHelkConfig({ target: "docker" });
    expect(retention).toMatchObject({
      enabled: true,
      events: { days: 30 },
      processNetwork: { days: 30 },
      alerts: { days: 365 },
      deadLetters: { days: 14, size: "512Mi" },
      everyHours: 6,
    });
    expect(kafka.topics).toEqual([
      { name: "winlogbeat", partitions: 3, replicationFactor: 1, retentionHours: 168, retentionBytes: GiB },
      { name: "helk-dead-letter", partitions: 1, replicationFactor: 1, retentionHours: 14 * 24, retentionBytes: 512 * 2 ** 20 },
    ]);
  });

  it("gives the dead-letter topic helk:retention.deadLetters, its size spread over the partitions", () => {
    const config = parseHelkConfig({
      target: "docker",
      retention: { deadLetters: { days: 3, size: "3Gi" } },
      kafka: { topics: [{ name: "winlogbeat", retentionHours: 24 }, { name: "helk-dead-letter", partitions: 3, retentionHours: 72 }] },
    });
    expect(config.kafka.topics).toEqual([
      { name: "winlogbeat", partitions: 3, replicationFactor: 1, retentionHours: 24 },
      { name: "helk-dead-letter", partitions: 3, replicationFactor: 1, retentionHours: 72, retentionBytes: GiB },
    ]);
  });

  it("refuses dead-letter topic settings that contradict helk:retention.deadLetters", () => {
    const problems = problemsOf({
      target: "docker",
      kafka: { topics: [{ name: "winlogbeat" }, { name: "helk-dead-letter", retentionHours: 168, retentionSizePerPartition: "1Gi" }] },
    });
    expect(problems).toEqual([
      "helk:kafka.topics[1].retentionHours (168) of the dead-letter topic disagrees with helk:retention.deadLetters.days (14 days = 336 h): set the dead letters' retention in helk:retention.deadLetters.days and remove retentionHours from the topic",
      "helk:kafka.topics[1].retentionSizePerPartition is not used on the dead-letter topic: set helk:retention.deadLetters.size (spread over its partitions)",
    ]);
  });

  it("fails when the engine classes' sizes do not fit 80% of the engine's volumes, naming the settings", () => {
    expect(problemsOf({ target: "docker", retention: { events: { size: "7Gi" }, alerts: { size: "2Gi" } } })).toEqual([
      "helk:retention sizes (events 7Gi + alerts 2Gi = 9 GiB) do not fit the engine's volumes: they may take 80% (8 GiB) of " +
        "helk:engine.storage 10Gi × helk:engine.nodes 1, since the engine blocks writes at its flood-stage disk watermark; " +
        "lower helk:retention.<class>.size or raise helk:engine.storage",
    ]);
    // The same budgets fit once the volume is larger, and on three nodes.
    expect(parseHelkConfig({ target: "docker", engine: { storage: "12Gi" }, retention: { events: { size: "7Gi" }, alerts: { size: "2Gi" } } }).retention.events.size).toBe("7Gi");
    expect(parseHelkConfig({ target: "kubernetes", engine: { nodes: 3 }, retention: { events: { size: "20Gi" } } }).retention.events.size).toBe("20Gi");
  });

  it("fails when the topics' size budgets, replicated and with one open segment each, do not fit 85% of a broker's volume", () => {
    const problems = problemsOf({ target: "docker", kafka: { topics: [{ name: "winlogbeat", retentionSizePerPartition: "2Gi" }, { name: "helk-dead-letter", partitions: 1 }] } });
    expect(problems).toEqual([
      "helk:kafka.storage 5Gi is too small for the topics' size budgets: each broker holds up to 7.1 GiB of them " +
        "(winlogbeat: 3 partition copies × 2.2 GiB; helk-dead-letter: 1 partition copy × 563.2 MiB; retention.bytes plus one open segment each), " +
        "over 85% (4.3 GiB) of the volume; lower helk:kafka.topics[].retentionSizePerPartition or helk:retention.deadLetters.size, or raise helk:kafka.storage",
    ]);
    // Three brokers share the copies: 3 partitions × replication 3 / 3 brokers = 3 copies each, as on one broker.
    const three = { target: "kubernetes", kafka: { brokers: 3, storage: "9Gi", topics: [{ name: "winlogbeat", retentionSizePerPartition: "2Gi" }, { name: "helk-dead-letter", partitions: 1 }] } };
    expect(parseHelkConfig(three).kafka.topics[0]!.retentionBytes).toBe(2 * GiB);
    expect(problemsOf({ ...three, kafka: { ...three.kafka, storage: "8Gi" } })[0]).toContain("helk:kafka.storage 8Gi is too small");
  });

  it("lets topics without a size budget keep messages by time only", () => {
    const config = parseHelkConfig({ target: "docker", kafka: { topics: [{ name: "winlogbeat" }, { name: "helk-dead-letter" }] } });
    expect(config.kafka.topics[0]).toEqual({ name: "winlogbeat", partitions: 3, replicationFactor: 1, retentionHours: 168 });
  });

  it("accepts the budgets of every stack file", () => {
    for (const stack of ["lab", "cluster", "e2e"]) expect(loadStackConfig(stack).retention.enabled, stack).toBe(true);
  });
});

describe("credentials of a deployment", () => {
  const needed = ["engine-password", "jupyter-token"] as const;

  it("are each required while helk:credentials.generate is false, and must be decrypted", () => {
    const config = parseHelkConfig({ target: "docker", credentials: { generate: false, enginePassword: { secure: "v1:abc" } } });
    expect(credentialProblems(config, needed)).toEqual([
      "helk:credentials.enginePassword is still encrypted: run through the Pulumi CLI, which decrypts it",
      "helk:credentials.jupyterToken is required when helk:credentials.generate is false",
    ]);
  });

  it("are given or generated otherwise, and only the needed ones are asked for", () => {
    expect(credentialProblems(parseHelkConfig({ target: "docker" }), needed)).toEqual([]);
    const given = parseHelkConfig({ target: "docker", credentials: { generate: false, enginePassword: "s3cret", jupyterToken: "t0ken" } });
    expect(credentialProblems(given, needed)).toEqual([]);
    expect(credentialProblems(given, [...needed, "dashboards-password"])).toEqual([
      "helk:credentials.dashboardsPassword is required when helk:credentials.generate is false",
    ]);
  });
});

describe("ATT&CK bundle source of a deployment", () => {
  it("is required to deploy while the ATT&CK load job is on, naming the keys and what to do", () => {
    const docker = missingAttackSource(parseHelkConfig({ target: "docker" }));
    expect(docker).toContain("helk:enrichment.attackBundleFile or helk:enrichment.attackBundle is required while helk:setup.attackLoad is true");
    expect(docker).toContain("pulumi config set --path helk:enrichment.attackBundleFile /absolute/path/enterprise-attack-18.1.json");
    const kubernetes = missingAttackSource(parseHelkConfig({ target: "kubernetes" }));
    expect(kubernetes).toContain("helk:enrichment.attackBundle to the https URL of enterprise-attack-18.1.json");
    expect(kubernetes).not.toContain("attackBundleFile /absolute");
  });

  it("is satisfied by any one source, or by turning the job off", () => {
    expect(missingAttackSource(parseHelkConfig({ target: "docker", enrichment: { attackBundleFile: "/srv/a.json" } }))).toBeUndefined();
    expect(missingAttackSource(parseHelkConfig({ target: "docker", enrichment: { attackBundle: "/opt/helk/attack/a.json.gz" } }))).toBeUndefined();
    const download = { attackBundle: "https://example.org/enterprise-attack-18.1.json", attackSha256: "A".repeat(64) };
    expect(missingAttackSource(parseHelkConfig({ target: "kubernetes", enrichment: download }))).toBeUndefined();
    expect(missingAttackSource(parseHelkConfig({ target: "docker", setup: { attackLoad: false } }))).toBeUndefined();
  });

  it("is read by the lab stack from the key the quick start sets", () => {
    // The lab file itself names no bundle (it is a file of the user's machine); the quick start sets it.
    expect(missingAttackSource(loadStackConfig("lab"))).toContain("helk:enrichment.attackBundleFile");
    expect(missingAttackSource(loadStackConfig("e2e"))).toBeUndefined();
  });
});
