import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../../components/stack-file.ts";
import { sharedSigmaArchive } from "../../detections/convert.ts";
import { KAFKA_VERSION } from "../../harness/kafka.ts";
import { OPENSEARCH_VERSION } from "../../harness/opensearch.ts";

/** The e2e stack must deploy only what e2e/images.sh builds locally: a mismatch would only show at deploy time. */
describe("stacks/Pulumi.e2e.yaml", () => {
  const config = loadStackConfig("e2e");

  it("pulls nothing and deploys no dashboards UI (no image for it can be built without a registry)", () => {
    expect(config.target).toBe("docker");
    expect(config.images.pull).toBe(false);
    expect(config.dashboards.enabled).toBe(false);
  });

  it("names the Kafka and OpenSearch images by the versions whose jars the harness resolves", () => {
    expect(config.kafka.image).toBe(`helk-local/kafka:${KAFKA_VERSION}`);
    expect(config.engine.kind).toBe("opensearch");
    expect(config.engine.security).toBe(false);
    expect(config.engine.image).toBe(`helk-local/opensearch:${OPENSEARCH_VERSION}`);
  });

  it("reads the ATT&CK bundle from where the e2e enrichment base image carries it", () => {
    expect(config.enrichment.baseImage).toMatch(/^helk-local\/node:20\.\d+\.\d+-/);
    expect(config.enrichment.attackBundle).toMatch(/^\/opt\/helk\/attack\/[^/]+\.json\.gz$/);
    expect(config.setup.attackLoad).toBe(true);
  });

  it("converts and runs the SigmaHQ rules archive where the e2e enrichment base image carries it (lab/images.sh)", () => {
    expect(config.detections.enabled).toBe(true);
    expect(config.detections.rules).toEqual([`/opt/helk/sigma/${basename(sharedSigmaArchive())}`]);
    expect(config.detections.ruleFiles).toEqual([]);
  });

  it("publishes on loopback, off the lab's default ports", () => {
    expect(config.ports.bindAddress).toBe("127.0.0.1");
    const published = [config.kafka.port, config.engine.port, config.enrichment.port, config.jupyter.port];
    for (const port of [9092, 9200, 8080, 8888]) expect(published).not.toContain(port);
  });
});
