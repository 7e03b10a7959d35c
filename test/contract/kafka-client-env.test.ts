import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../enrichment/config.ts";
import { EnvContractError } from "../../lib/contract/env.ts";
import { helkKafkaAcls } from "../../lib/contract/kafka-acls.ts";
import { aclsJobFromEnv, clientFromEnv, KAFKA_ENV, toKafkaConfig, topicsJobFromEnv, toSecurityEnv } from "../../lib/contract/kafka-env.ts";
import { createCertificateAuthority } from "../../lib/pki.ts";

let dir: string;
let caFile: string;
let caPem: string;
let passwordFile: string;
const PASSWORD = "s3cret-Pa55word";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "helk-kafka-env-"));
  caPem = (await createCertificateAuthority({ commonName: "helk CA (env test)" })).certificatePem;
  caFile = join(dir, "ca.crt");
  writeFileSync(caFile, caPem);
  passwordFile = join(dir, "password");
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const brokers = { HELK_KAFKA_BROKERS: "127.0.0.1:9093" };
const secured = () => ({ ...brokers, HELK_KAFKA_CA_FILE: caFile, HELK_KAFKA_SASL_USERNAME: "enrichment", HELK_KAFKA_SASL_PASSWORD_FILE: passwordFile });

/** The message of what `read` throws (fails the test when it does not throw). */
function failure(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("Kafka client settings from the environment", () => {
  it("is plaintext without login when no security variable is set (the lab's default)", () => {
    const settings = clientFromEnv(brokers);
    expect(settings).toEqual({ brokers: ["127.0.0.1:9093"] });
    const config = toKafkaConfig(settings, { clientId: "t" });
    expect(config).toEqual({ clientId: "t", brokers: ["127.0.0.1:9093"] });
  });

  it("verifies the brokers against the CA file, never skipping verification", () => {
    const settings = clientFromEnv({ ...brokers, HELK_KAFKA_CA_FILE: caFile });
    expect(settings.tls).toEqual({ caFile, ca: caPem });
    expect(settings.sasl).toBeUndefined();
    expect(toKafkaConfig(settings, { clientId: "t" }).ssl).toEqual({ ca: [caPem], rejectUnauthorized: true });
  });

  it("logs in with SCRAM-SHA-512, the password read from its file without the final newline", () => {
    const config = toKafkaConfig(clientFromEnv(secured()), { clientId: "t" });
    expect(config.sasl).toEqual({ mechanism: "scram-sha-512", username: "enrichment", password: PASSWORD });
    expect(config.ssl).toEqual({ ca: [caPem], rejectUnauthorized: true });
  });

  it("takes brokers from a flag over the variable", () => {
    expect(clientFromEnv(secured(), { brokers: "a:1,b:2" }).brokers).toEqual(["a:1", "b:2"]);
  });

  it("round-trips what the deploy side writes", () => {
    const env = { ...brokers, ...toSecurityEnv({ caFile, sasl: { username: "shipper", passwordFile } }) };
    expect(env).toEqual({ ...brokers, HELK_KAFKA_CA_FILE: caFile, HELK_KAFKA_SASL_USERNAME: "shipper", HELK_KAFKA_SASL_PASSWORD_FILE: passwordFile });
    expect(clientFromEnv(env as Record<string, string>).sasl?.username).toBe("shipper");
    expect(toSecurityEnv(undefined)).toEqual({});
  });
});

describe("refused Kafka client settings", () => {
  it("a user name without a password file, and the reverse", () => {
    const noFile = failure(() => clientFromEnv({ ...brokers, HELK_KAFKA_CA_FILE: caFile, HELK_KAFKA_SASL_USERNAME: "enrichment" }));
    expect(noFile).toContain("HELK_KAFKA_SASL_PASSWORD_FILE (not set): required with HELK_KAFKA_SASL_USERNAME");
    const noUser = failure(() => clientFromEnv({ ...brokers, HELK_KAFKA_CA_FILE: caFile, HELK_KAFKA_SASL_PASSWORD_FILE: passwordFile }));
    expect(noUser).toContain("HELK_KAFKA_SASL_USERNAME (not set): required with HELK_KAFKA_SASL_PASSWORD_FILE");
  });

  it("a login without TLS", () => {
    const { HELK_KAFKA_CA_FILE: _ca, ...env } = secured();
    expect(failure(() => clientFromEnv(env))).toContain("HELK_KAFKA_CA_FILE (not set): required with HELK_KAFKA_SASL_USERNAME: logins are sent over TLS only");
  });

  it("a password given as a value, without showing it", () => {
    const message = failure(() => clientFromEnv({ ...secured(), [KAFKA_ENV.saslPassword]: "leaked-value" }));
    expect(message).toContain("HELK_KAFKA_SASL_PASSWORD (set): passwords are read from files only");
    expect(message).toContain("HELK_KAFKA_SASL_PASSWORD_FILE");
    expect(message).not.toContain("leaked-value");
  });

  it("files that cannot be read, naming the variable and the path", () => {
    const missing = join(dir, "missing");
    const message = failure(() => clientFromEnv({ ...secured(), HELK_KAFKA_CA_FILE: missing, HELK_KAFKA_SASL_PASSWORD_FILE: join(dir, "nope") }));
    expect(message).toContain(`HELK_KAFKA_CA_FILE (${missing}): cannot read the file: ENOENT`);
    expect(message).toContain(`HELK_KAFKA_SASL_PASSWORD_FILE (${join(dir, "nope")}): cannot read the file: ENOENT`);
  });

  it("a CA file without a certificate, and an empty password file", () => {
    const notPem = join(dir, "not-pem");
    writeFileSync(notPem, "hello\n");
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    const message = failure(() => clientFromEnv({ ...secured(), HELK_KAFKA_CA_FILE: notPem, HELK_KAFKA_SASL_PASSWORD_FILE: empty }));
    expect(message).toContain(`HELK_KAFKA_CA_FILE (${notPem}): no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`);
    expect(message).toContain(`HELK_KAFKA_SASL_PASSWORD_FILE (${empty}): the file is empty`);
  });

  it("a damaged certificate", () => {
    const damaged = join(dir, "damaged.crt");
    writeFileSync(damaged, caPem.replace(/(\n[A-Za-z0-9+/]{20})[A-Za-z0-9+/]{8}/, "$1AAAAAAAA"));
    expect(failure(() => clientFromEnv({ ...brokers, HELK_KAFKA_CA_FILE: damaged }))).toContain(`HELK_KAFKA_CA_FILE (${damaged}): certificate 1 of 1 does not parse`);
  });

  it("relative paths", () => {
    const message = failure(() => clientFromEnv({ ...secured(), HELK_KAFKA_CA_FILE: "ca.crt", HELK_KAFKA_SASL_PASSWORD_FILE: "password" }));
    expect(message).toContain('HELK_KAFKA_CA_FILE ("ca.crt"): must be an absolute path');
    expect(message).toContain('HELK_KAFKA_SASL_PASSWORD_FILE ("password"): must be an absolute path');
  });

  it("are errors of the env contract", () => {
    expect(() => clientFromEnv({ ...brokers, HELK_KAFKA_SASL_USERNAME: "x" })).toThrow(EnvContractError);
  });
});

describe("the readers of the Kafka client settings", () => {
  const engine = { HELK_ENGINE_KIND: "opensearch", HELK_ENGINE_URL: "http://127.0.0.1:9200" };

  it("the enrichment service: read at start, refused as a configuration error", () => {
    expect(loadConfig({ ...secured(), ...engine }).kafka.sasl?.username).toBe("enrichment");
    expect(loadConfig({ ...brokers, ...engine }).kafka).toEqual({ brokers: ["127.0.0.1:9093"] });
    expect(() => loadConfig({ ...brokers, ...engine, HELK_KAFKA_SASL_USERNAME: "enrichment" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...brokers, ...engine, HELK_KAFKA_SASL_USERNAME: "enrichment" })).toThrow(/HELK_KAFKA_SASL_PASSWORD_FILE \(not set\)/);
  });

  it("the kafka-topics job", () => {
    const topics = JSON.stringify([{ name: "winlogbeat", partitions: 1, replicationFactor: 1, retentionHours: 1 }]);
    const { kafka } = topicsJobFromEnv({ ...secured(), HELK_KAFKA_SASL_USERNAME: "admin", HELK_KAFKA_TOPICS: topics });
    expect(kafka.sasl?.username).toBe("admin");
    expect(kafka.tls?.caFile).toBe(caFile);
  });
});

describe("the ACLs of a secured cluster", () => {
  it("let the enrichment read its inputs in its group and write dead letters, and the shipper write events; nothing else", () => {
    expect(helkKafkaAcls({ eventTopics: ["winlogbeat", "nxlog"], deadLetterTopic: "helk-dead-letter", consumerGroup: "helk-enrichment" })).toEqual([
      { principal: "User:enrichment", resourceType: "topic", resourceName: "winlogbeat", operation: "read" },
      { principal: "User:enrichment", resourceType: "topic", resourceName: "nxlog", operation: "read" },
      { principal: "User:enrichment", resourceType: "group", resourceName: "helk-enrichment", operation: "read" },
      { principal: "User:enrichment", resourceType: "topic", resourceName: "helk-dead-letter", operation: "write" },
      { principal: "User:shipper", resourceType: "topic", resourceName: "winlogbeat", operation: "write" },
      { principal: "User:shipper", resourceType: "topic", resourceName: "nxlog", operation: "write" },
    ]);
  });

  it("are written for the names the kafka-acls job reads (the contract's defaults when unset)", () => {
    const { kafka, scope } = aclsJobFromEnv({ ...secured(), HELK_KAFKA_SASL_USERNAME: "admin" });
    expect(kafka.sasl?.username).toBe("admin");
    expect(scope).toEqual({ eventTopics: ["winlogbeat"], deadLetterTopic: "helk-dead-letter", consumerGroup: "helk-enrichment" });
    expect(aclsJobFromEnv({ ...brokers, HELK_INPUT_TOPICS: "a,b", HELK_CONSUMER_GROUP: "g" }).scope).toEqual({
      eventTopics: ["a", "b"],
      deadLetterTopic: "helk-dead-letter",
      consumerGroup: "g",
    });
  });
});
