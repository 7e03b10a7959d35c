import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseHelkConfig, type HelkConfig } from "../../components/config.ts";
import { allWorkloads, describeDeployment, type DeploymentModel } from "../../components/deployment.ts";
import { dockerTopology } from "../../components/docker.ts";
import { describeKubernetesDeployment } from "../../components/kubernetes.ts";
import { expandForInstance, type Workload } from "../../components/model.ts";
import { helkCommand } from "../../components/setup.ts";
import { loadStackConfig, stacksDir } from "../../components/stack-file.ts";
import { enrichmentEnvSchema } from "../../enrichment/config.ts";
import { attackLoadEnvSchema } from "../../lib/contract/attack-env.ts";
import { detectionRulesJobEnvSchema, detectionsServiceEnvSchema } from "../../lib/contract/detections-env.ts";
import { engineEnvSchema, engineEnvShape } from "../../lib/contract/engine-env.ts";
import { aclsJobEnvSchema, notebookKafkaEnvShape, topicsJobEnvSchema } from "../../lib/contract/kafka-env.ts";
import { retentionJobEnvSchema } from "../../lib/contract/retention-env.ts";
import { dashboardsImportEnvSchema, engineSecurityEnvSchema } from "../../lib/contract/setup-env.ts";

/**
 * The deploy side renders each container's env; the runtime side parses it with these schemas (the same ones its
 * reader uses). Services by name, jobs by the `helk` subcommand they run.
 */
const runtimeSchemas: Record<string, z.ZodObject> = {
  enrichment: enrichmentEnvSchema,
  detections: detectionsServiceEnvSchema,
  jupyter: z.object({ ...notebookKafkaEnvShape, ...engineEnvShape }),
  "setup kafka-topics": topicsJobEnvSchema,
  "setup kafka-acls": aclsJobEnvSchema,
  "setup engine-security": engineSecurityEnvSchema,
  "setup index-templates": engineEnvSchema,
  "attack load": attackLoadEnvSchema,
  "dashboards import": dashboardsImportEnvSchema,
  "detections convert": detectionRulesJobEnvSchema,
  "retention run": retentionJobEnvSchema,
};

function runtimeOf(workload: Workload): string {
  if (workload.kind === "service") return workload.name;
  const prefix = helkCommand();
  expect(workload.command.slice(0, prefix.length), `${workload.name} runs the helk CLI`).toEqual(prefix);
  const args = workload.command.slice(prefix.length);
  // The subcommand: the words before the first option.
  const firstOption = args.findIndex((arg) => arg.startsWith("-"));
  return args.slice(0, firstOption < 0 ? undefined : firstOption).join(" ");
}

/** The `HELK_*` env of the first instance as the container sees it (credentials as a placeholder value). */
function renderedEnv(workload: Workload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(workload.env)
      .filter(([key]) => key.startsWith("HELK_"))
      .map(([key, value]) => [key, typeof value === "string" ? expandForInstance(value, 0) : `secret-${value.credential}`]),
  );
}

/** What is wrong with a workload's env for its runtime schema: keys it does not accept, values it refuses, keys it misses. */
function contractProblems(workload: Workload, env = renderedEnv(workload)): string[] {
  const schema = runtimeSchemas[runtimeOf(workload)];
  if (!schema) return Object.keys(env).length === 0 ? [] : [`${workload.name}: no runtime schema, yet it gets ${Object.keys(env).join(", ")}`];
  const parsed = schema.strict().safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${workload.name}: ${i.path.join(".") || i.message} ${i.message}`);
}

function model(config: HelkConfig): DeploymentModel {
  return config.target === "kubernetes" ? describeKubernetesDeployment(config) : describeDeployment(config, dockerTopology(config.name));
}

const stacks = readdirSync(stacksDir)
  .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
  .filter((stack): stack is string => stack !== undefined);

/** Settings that change what the clients get (security, https, Kibana vs OpenSearch Dashboards, node counts). */
const variants: Record<string, object> = {
  "secured opensearch (https)": { target: "docker", engine: { kind: "opensearch", security: true } },
  "secured elasticsearch with kibana": { target: "docker", engine: { kind: "elasticsearch", security: true } },
  "three-node kubernetes": { target: "kubernetes", kafka: { brokers: 3 }, engine: { nodes: 3 } },
  "detections on a secured engine, rules from the host": {
    target: "docker",
    engine: { kind: "opensearch", security: true },
    enrichment: { attackBundleFile: "/srv/attack/enterprise-attack-18.1.json" },
    detections: { enabled: true, ruleFiles: ["/srv/sigma/rules.tar.gz"] },
  },
  "GeoIP databases on docker": {
    target: "docker",
    enrichment: { geoip: { cityDatabaseFile: "/srv/geoip/GeoLite2-City.mmdb", asnDatabaseFile: "/srv/geoip/GeoLite2-ASN.mmdb" } },
  },
};

describe("every container's env parses with its runtime schema", () => {
  it("finds the stack files", () => expect(stacks.length).toBeGreaterThan(0));

  for (const stack of stacks)
    it(`stack ${stack}`, () => {
      expect(allWorkloads(model(loadStackConfig(stack))).flatMap((w) => contractProblems(w))).toEqual([]);
    });

  for (const [name, raw] of Object.entries(variants))
    it(name, () => {
      expect(allWorkloads(model(parseHelkConfig(raw))).flatMap((w) => contractProblems(w))).toEqual([]);
    });
});

describe("the contract check", () => {
  const { services, jobs } = model(parseHelkConfig({ target: "docker" }));
  const enrichment = services.find((s) => s.name === "enrichment")!;
  const attackLoad = jobs.find((j) => j.name === "setup-attack-load")!;

  it("fails on a variable the runtime does not read", () => {
    expect(contractProblems(enrichment, { ...renderedEnv(enrichment), HELK_ENGINE_TLS_CA: "/certs/ca.crt" })).toEqual([
      expect.stringContaining("HELK_ENGINE_TLS_CA"),
    ]);
  });

  it("fails on a missing required variable", () => {
    const { HELK_ENGINE_URL: _dropped, ...env } = renderedEnv(attackLoad);
    expect(contractProblems(attackLoad, env)).toEqual([expect.stringContaining("HELK_ENGINE_URL")]);
  });

  it("checks the detections service and rules job against their own schemas (the job's subcommand without its options)", () => {
    const detections = model(parseHelkConfig(variants["detections on a secured engine, rules from the host"]));
    const service = detections.services.find((s) => s.name === "detections")!;
    const rulesJob = detections.jobs.find((j) => j.name === "setup-detection-rules")!;
    expect(runtimeOf(rulesJob)).toBe("detections convert");
    expect(contractProblems(service, { ...renderedEnv(service), HELK_HTTP_PORT: "8081" })).toEqual([expect.stringContaining("HELK_HTTP_PORT")]);
    const { HELK_ATTACK_BUNDLE: bundle } = renderedEnv(rulesJob);
    expect(bundle).toBe("/mnt/helk/attack/enterprise-attack-18.1.json");
  });

  it("checks the retention job's policy against the schema its command reads", () => {
    const retention = model(parseHelkConfig({ target: "docker", retention: { events: { days: 7, size: "2Gi" } } })).scheduledJobs[0]!;
    expect(runtimeOf(retention)).toBe("retention run");
    const policy = JSON.parse(renderedEnv(retention).HELK_RETENTION_POLICY!);
    expect(policy.events).toEqual({ days: 7, maxBytes: 2 * 2 ** 30 });
    const broken = JSON.stringify({ ...policy, events: { days: "7" } });
    expect(contractProblems(retention, { ...renderedEnv(retention), HELK_RETENTION_POLICY: broken })).toEqual([expect.stringContaining("HELK_RETENTION_POLICY")]);
  });

  it("fails on a workload that gets HELK_* variables but has no runtime schema", () => {
    const renamed = { ...attackLoad, command: [...helkCommand(), "attack", "reload"] };
    expect(contractProblems(renamed)).toEqual([expect.stringContaining("no runtime schema")]);
  });
});
