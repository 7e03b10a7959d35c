import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { privateDir } from "../../attack/pin.ts";
import { withFetchedAttackBundle } from "../../components/stack.ts";
import { loadStackConfig } from "../../components/stack-file.ts";
import { describeEndpoints, ensurePassphrase, localStateDir, passphrasePath } from "../../lab/lab.ts";

const mode = (path: string): number => statSync(path).mode & 0o777;

describe("what the lab command keeps for the user", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "helk-lab-"));
    vi.stubEnv("XDG_CONFIG_HOME", join(home, "config"));
    vi.stubEnv("XDG_STATE_HOME", join(home, "state"));
  });
  afterEach(() => vi.unstubAllEnvs());

  it("generates a stack's passphrase once, owner-only, in an owner-only folder", async () => {
    const first = await ensurePassphrase("lab");
    expect(first).toEqual({ file: join(home, "config", "helk", "passphrases", "lab"), created: true });
    expect(first.file).toBe(passphrasePath("lab"));
    expect(mode(first.file)).toBe(0o600);
    expect(mode(join(home, "config", "helk"))).toBe(0o700);
    expect(mode(join(home, "config", "helk", "passphrases"))).toBe(0o700);
    const text = readFileSync(first.file, "utf8");
    expect(text.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await ensurePassphrase("lab")).toEqual({ file: first.file, created: false });
    expect(readFileSync(first.file, "utf8")).toBe(text);
    expect((await ensurePassphrase("e2e")).file).not.toBe(first.file);
  });

  it("keeps the local state folder owner-only, narrowing one that exists", () => {
    expect(localStateDir()).toBe(join(home, "state", "helk", "pulumi"));
    mkdirSync(localStateDir(), { recursive: true, mode: 0o755 });
    expect(mode(localStateDir())).toBe(0o755);
    privateDir(localStateDir());
    expect(mode(localStateDir())).toBe(0o700);
  });
});

describe("the lab's default ATT&CK bundle", () => {
  const lab = loadStackConfig("lab");
  it("is the verified copy in the cache, bind-mounted like attackBundleFile, on Docker only", () => {
    const dir = mkdtempSync(join(tmpdir(), "helk-bundle-"));
    const file = join(dir, "enterprise-attack-18.1.json");
    writeFileSync(file, "{}");
    expect(lab.enrichment.attackBundleFile).toBeUndefined();
    expect(withFetchedAttackBundle(lab, file).enrichment.attackBundleFile).toBe(file);
    expect(withFetchedAttackBundle(lab, undefined)).toBe(lab);
    const given = { ...lab, enrichment: { ...lab.enrichment, attackBundle: "/opt/helk/attack/bundle.json" } };
    expect(withFetchedAttackBundle(given, file)).toBe(given);
    const cluster = loadStackConfig("cluster");
    expect(withFetchedAttackBundle(cluster, file)).toBe(cluster);
  });
});

describe("the endpoints summary", () => {
  const endpoints = {
    kafka: { bootstrap: "127.0.0.1:9092", eventTopics: ["winlogbeat"], deadLetterTopic: "helk-dead-letter", topics: [{ name: "winlogbeat", partitions: 3, replicationFactor: 1 }] },
    engine: { kind: "elasticsearch" as const, url: "http://127.0.0.1:9200", username: "elastic", password: "s3cret-pw" },
    dashboards: { kind: "kibana" as const, url: "http://127.0.0.1:5601" },
    enrichment: { url: "http://127.0.0.1:8080" },
    jupyter: { url: "http://127.0.0.1:8888", token: "tok-123" },
  };
  it("masks passwords and tokens unless asked, and says how to see them", () => {
    const masked = describeEndpoints("lab", endpoints, { showSecrets: false });
    expect(masked).not.toMatch(/s3cret-pw|tok-123/);
    expect(masked).toContain("user elastic, password ********");
    expect(masked).toContain("npm run lab -- logins --stack lab");
    const shown = describeEndpoints("lab", endpoints, { showSecrets: true });
    expect(shown).toContain("password s3cret-pw");
    expect(shown).toContain("http://127.0.0.1:8888/?token=tok-123");
  });
});
