import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseHelkConfig } from "../../components/config.ts";
import { describeDeployment } from "../../components/deployment.ts";
import { dockerTopology } from "../../components/docker.ts";
import type { ServiceSpec } from "../../components/model.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";

// The containers' health checks, run as written against the real Kafka, OpenSearch and Jupyter of the test
// harness (only the port differs: the harness listens on free ports, containers on their fixed ones).
const config = parseHelkConfig({ target: "docker", engine: { kind: "opensearch" } });
const model = describeDeployment(config, dockerTopology(config.name));
const health = (name: string) => (model.services.find((s) => s.name === name) as ServiceSpec).health;

function runCheck(command: string[], fixedPort: number, actualPort: string, env: Record<string, string> = {}): number {
  const [program, ...args] = command.map((part) => part.replaceAll(`127.0.0.1/${fixedPort}`, `127.0.0.1/${actualPort}`).replaceAll(`127.0.0.1:${fixedPort}`, `127.0.0.1:${actualPort}`));
  const result = spawnSync(program!, args, { env: { ...process.env, ...env }, timeout: 15_000, encoding: "utf8" });
  return result.status ?? -1;
}

const portOf = (address: string) => new URL(address.includes("://") ? address : `tcp://${address}`).port;

describe("health checks against real servers", () => {
  it("Kafka: healthy when the broker listens, unhealthy when nothing does", () => {
    expect(runCheck(health("kafka").command, 9092, portOf(serviceEndpoints().kafkaBrokers[0]!))).toBe(0);
    expect(runCheck(health("kafka").command, 9092, "1")).not.toBe(0);
  });

  it("OpenSearch without security: healthy when the cluster is green or yellow", () => {
    expect(health("engine").needs).toBe("bash and grep (HTTP over /dev/tcp)");
    expect(runCheck(health("engine").command, 9200, portOf(serviceEndpoints().engineUrl))).toBe(0);
    // Kafka's port answers TCP but not with a cluster status.
    expect(runCheck(health("engine").command, 9200, portOf(serviceEndpoints().kafkaBrokers[0]!))).not.toBe(0);
  });

  it("Jupyter: healthy with the token, unhealthy with a wrong one", () => {
    const { jupyterUrl, jupyterToken } = serviceEndpoints();
    expect(runCheck(health("jupyter").command, 8888, portOf(jupyterUrl), { JUPYTER_TOKEN: jupyterToken })).toBe(0);
    expect(runCheck(health("jupyter").command, 8888, portOf(jupyterUrl), { JUPYTER_TOKEN: "wrong" })).not.toBe(0);
  });
});
