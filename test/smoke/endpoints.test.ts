import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyOverrides, parseEndpoints, readEndpointsFile, readStackEndpoints, redact, secretsOf } from "../../lib/contract/endpoints.ts";

const endpoints = {
  kafka: { bootstrap: "127.0.0.1:9092", topics: [{ name: "winlogbeat", partitions: 3, replicationFactor: 1 }] },
  engine: { kind: "elasticsearch", url: "http://127.0.0.1:9200", username: "elastic", password: "pw-Engine-1" },
  dashboards: { kind: "kibana", url: "http://127.0.0.1:5601" },
  enrichment: { url: "http://127.0.0.1:8080" },
  jupyter: { url: "http://127.0.0.1:8888", token: "tok-Jupyter-1" },
};
const dir = mkdtempSync(join(tmpdir(), "helk-smoke-endpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("endpoints", () => {
  it("accept the bare object and the `pulumi stack output --json` wrapping, with contract defaults", () => {
    const bare = parseEndpoints(endpoints, "x");
    expect(parseEndpoints({ endpoints, other: 1 }, "x")).toEqual(bare);
    expect(bare.kafka.eventTopics).toEqual(["winlogbeat"]);
    expect(bare.kafka.deadLetterTopic).toBe("helk-dead-letter");
    expect(parseEndpoints({ kafka: endpoints.kafka, engine: endpoints.engine }, "x")).toMatchObject({ dashboards: null, enrichment: null, jupyter: null });
  });

  it("name the source and every bad field", () => {
    const bad = { ...endpoints, kafka: { bootstrap: "" }, engine: { kind: "solr", url: "ftp://x" }, jupyter: { url: "http://j" } };
    let message = "";
    try {
      parseEndpoints(bad, "endpoints file e.json");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid endpoints in endpoints file e\.json:/);
    for (const field of ["kafka.bootstrap", "engine.kind", "engine.url: expected an http(s) URL", "jupyter.token"]) expect(message).toContain(field);
  });

  it("read a file, with clear errors for a missing file and for non-JSON", async () => {
    const file = join(dir, "endpoints.json");
    writeFileSync(file, JSON.stringify({ endpoints }));
    await expect(readEndpointsFile(file)).resolves.toMatchObject({ engine: { kind: "elasticsearch" } });
    await expect(readEndpointsFile(join(dir, "nope.json"))).rejects.toThrow(/cannot read endpoints file .*nope\.json: ENOENT/);
    writeFileSync(join(dir, "bad.json"), "{not json");
    await expect(readEndpointsFile(join(dir, "bad.json"))).rejects.toThrow(/endpoints file .*bad\.json is not JSON/);
  });

  it("let flags replace single values or give all of them", () => {
    const base = parseEndpoints(endpoints, "x");
    const merged = applyOverrides(base, { engineUrl: "http://10.0.0.1:9200", jupyterToken: "t2", kafkaTopics: ["winlogbeat:6"] });
    expect(merged.engine).toEqual({ ...endpoints.engine, url: "http://10.0.0.1:9200" });
    expect(merged.jupyter).toEqual({ url: endpoints.jupyter.url, token: "t2" });
    expect(merged.kafka.topics).toEqual([{ name: "winlogbeat", partitions: 6 }]);
    expect(base.engine.url).toBe("http://127.0.0.1:9200");

    const flagsOnly = applyOverrides(undefined, { kafkaBootstrap: "h:1", engineKind: "opensearch", engineUrl: "http://h:2", enrichmentUrl: "http://h:3" });
    expect(flagsOnly).toMatchObject({ kafka: { bootstrap: "h:1" }, engine: { kind: "opensearch" }, enrichment: { url: "http://h:3" }, jupyter: null });
    expect(() => applyOverrides(undefined, { kafkaBootstrap: "h:1" })).toThrow(/invalid endpoints in the command-line flags:\n {2}engine:/);
    expect(() => applyOverrides(base, { kafkaTopics: ["winlogbeat"] })).toThrow("--kafka-topic winlogbeat: expected NAME:PARTITIONS");
  });

  it("list every secret, including passwords inside URLs, and hide them", () => {
    const withUrlPassword = parseEndpoints({ ...endpoints, enrichment: { url: "http://u:p%40ss-Url@127.0.0.1:8080" } }, "x");
    const secrets = secretsOf(withUrlPassword);
    expect(secrets.sort()).toEqual(["p@ss-Url", "pw-Engine-1", "tok-Jupyter-1"].sort());
    expect(redact("a pw-Engine-1 b http://u:p%40ss-Url@h tok-Jupyter-1", secrets)).toBe("a *** b http://u:***@h ***");
  });
});

describe("endpoints from a Pulumi stack", () => {
  // A stand-in `pulumi` on PATH: no Pulumi CLI can be installed here; it checks the arguments it is given and
  // prints what `pulumi stack output --json --show-secrets` prints.
  const bin = join(dir, "bin");
  const args = join(dir, "pulumi-args");
  writeFileSync(join(dir, "outputs.json"), JSON.stringify({ endpoints, engineImage: "x" }));
  mkdirSync(bin);
  writeFileSync(
    join(bin, "pulumi"),
    `#!/bin/sh
echo "$@" > "${args}"
case "$*" in
  *"--stack dev"*) cat "${join(dir, "outputs.json")}" ;;
  *"--stack empty"*) echo '{"other": 1}' ;;
  *) echo "error: no stack named '$7' found" >&2; exit 255 ;;
esac
`,
  );
  chmodSync(join(bin, "pulumi"), 0o755);
  const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };

  it("run `pulumi stack output --json --show-secrets` for the stack and validate the `endpoints` output", async () => {
    await expect(readStackEndpoints("dev", { env })).resolves.toMatchObject({ jupyter: { token: "tok-Jupyter-1" } });
    expect(readFileSync(args, "utf8").trim()).toBe("stack output --json --show-secrets --non-interactive --stack dev");
  });

  it("report pulumi's own error, and a stack without an endpoints output", async () => {
    await expect(readStackEndpoints("prod", { env })).rejects.toThrow("pulumi stack output --stack prod failed: error: no stack named 'prod' found");
    await expect(readStackEndpoints("empty", { env })).rejects.toThrow("stack empty has no `endpoints` output (outputs: other)");
  });

  it("say so clearly when the pulumi CLI is not installed", async () => {
    await expect(readStackEndpoints("dev", { env: { ...process.env, PATH: join(dir, "empty-path") } })).rejects.toThrow(
      "the pulumi CLI is not installed (no `pulumi` on PATH); install it, or pass the endpoints with --endpoints FILE or the endpoint flags",
    );
  });
});
