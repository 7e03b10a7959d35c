import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AttackBundleError, loadAttackBundle, loadDefaultAttackBundle, loadTechniqueModel } from "../../attack/bundle.ts";
import { defaultAttackSource, ENTERPRISE_ATTACK_PIN } from "../../attack/source.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { attackBundlePath } from "../../lib/data.ts";
import { miniBundle } from "./mini-bundle.ts";

const dir = mkdtempSync(join(tmpdir(), "helk-attack-"));
const write = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe("loadAttackBundle formats", () => {
  it("reads STIX 2.0 and 2.1, plain and gzipped, from a path or file: URL", async () => {
    const v20 = JSON.stringify(miniBundle("2.0"));
    const v21 = JSON.stringify(miniBundle("2.1"));
    const sources = [write("a.json", v20), write("b.json.gz", gzipSync(v20)), pathToFileURL(write("c.json", v21)), write("d.bin", gzipSync(v21))];
    for (const source of sources) {
      const model = await loadAttackBundle(source, { version: "18.1" });
      expect(model.techniques.map((t) => t.id), String(source)).toEqual(["T1136", "T1136.001"]);
      expect(model.tactics.map((t) => t.shortname)).toEqual(["execution", "persistence"]);
      const lookup = AttackLookup.fromModel(model);
      expect(lookup.resolve("t1000")).toMatchObject({ technique_id: "T1136.001", parent_id: "T1136", status: "revoked", requested_id: "T1000" });
    }
    expect((await loadAttackBundle(sources[0]!)).specVersion).toBe("2.0");
    expect((await loadAttackBundle(sources[2]!)).specVersion).toBe("2.1");
  });

  it("builds the detection chain down to Windows event sources", async () => {
    const model = await loadAttackBundle(write("chain.json", JSON.stringify(miniBundle())));
    const technique = model.techniquesById.get("T1136")!;
    expect(technique.detectionStrategies).toEqual(["DET0001"]);
    expect(model.detectionStrategies.get("DET0001")).toMatchObject({ analytics: ["AN0001"], techniques: ["T1136"] });
    expect(model.analytics.get("AN0001")!.logSources[0]!.events).toEqual([{ channel: "Security", eventId: 4720 }]);
  });
});

describe("malformed bundles", () => {
  const broken = (mutate: (objects: Record<string, unknown>[]) => void): string => {
    const bundle = miniBundle();
    mutate(bundle.objects);
    return write(`broken-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(bundle));
  };
  const failure = async (path: string): Promise<AttackBundleError> => {
    const err = await loadAttackBundle(path).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AttackBundleError);
    return err as AttackBundleError;
  };

  it("names the object id and the field when a technique has no name", async () => {
    let badId = "";
    const err = await failure(broken((objects) => {
      const t = objects.find((o) => o.type === "attack-pattern")!;
      badId = t.id as string;
      delete t.name;
    }));
    expect(err.objectId).toBe(badId);
    expect(err.field).toBe("name");
    expect(err.message).toContain(badId);
    expect(err.message).toMatch(/field name/);
  });

  it("names the nested field of a bad external reference and of a bad kill chain phase", async () => {
    const ref = await failure(broken((objects) => {
      (objects.find((o) => o.type === "x-mitre-analytic")!.external_references as { external_id: unknown }[])[0]!.external_id = 42;
    }));
    expect(ref.field).toBe("external_references[0].external_id");
    expect(ref.objectId).toMatch(/^x-mitre-analytic--/);
    const phase = await failure(broken((objects) => {
      (objects.find((o) => o.type === "attack-pattern")!.kill_chain_phases as Record<string, unknown>[])[0]!.phase_name = "";
    }));
    expect(phase.field).toBe("kill_chain_phases[0].phase_name");
  });

  it("names a log source reference without a channel and a relationship with a bad ref", async () => {
    const log = await failure(broken((objects) => {
      delete (objects.find((o) => o.type === "x-mitre-analytic")!.x_mitre_log_source_references as Record<string, unknown>[])[0]!.channel;
    }));
    expect(log.field).toBe("x_mitre_log_source_references[0].channel");
    const rel = await failure(broken((objects) => {
      objects.find((o) => o.type === "relationship")!.target_ref = "not-an-id";
    }));
    expect(rel.objectId).toMatch(/^relationship--/);
    expect(rel.field).toBe("target_ref");
  });

  it("names the matrix field when a tactic it lists is missing", async () => {
    const err = await failure(broken((objects) => {
      objects.splice(objects.findIndex((o) => o.type === "x-mitre-tactic"), 1);
    }));
    expect(err.objectId).toMatch(/^x-mitre-matrix--/);
    expect(err.field).toBe("tactic_refs[1]");
  });

  it("rejects text that is not JSON or not a bundle, and names the file", async () => {
    const notJson = write("not.json", "{ nope");
    await expect(loadAttackBundle(notJson)).rejects.toThrow(`ATT&CK bundle ${notJson}: not JSON`);
    const notBundle = write("array.json", "[1,2]");
    await expect(loadAttackBundle(notBundle)).rejects.toThrow(/not a STIX bundle/);
    await expect(loadAttackBundle(join(dir, "missing.json"))).rejects.toThrow(/cannot read file: ENOENT/);
  });
});

describe("loadTechniqueModel (streamed, techniques only)", () => {
  /** Every id's context from both lookups, in id order. */
  const contexts = (lookup: AttackLookup, ids: string[]) => ids.map((id) => lookup.resolve(id));

  it("gives the same lookup as the whole model, for the pinned v18.1 bundle and STIX 2.0 / 2.1, plain or gzipped", async () => {
    const v20 = JSON.stringify(miniBundle("2.0"));
    const v21 = JSON.stringify(miniBundle("2.1"));
    for (const source of [attackBundlePath(), write("s20.json", v20), write("s20.json.gz", gzipSync(v20)), pathToFileURL(write("s21.json", v21))]) {
      const full = await loadAttackBundle(source);
      const lean = await loadTechniqueModel(source);
      const ids = [...full.techniquesById.keys()];
      expect(ids.length, String(source)).toBeGreaterThan(1);
      expect([...lean.techniquesById.keys()]).toEqual(ids);
      expect(contexts(AttackLookup.fromModel(lean), ids)).toEqual(contexts(AttackLookup.fromModel(full), ids));
      expect(lean.groups.size).toBe(0); // what the lookup does not need is not kept
    }
  });

  it("names the object and field of a malformed technique, and tells corrupt gzip, bad JSON and a non-bundle apart", async () => {
    const bundle = miniBundle();
    const technique = bundle.objects.find((o) => o.type === "attack-pattern")!;
    delete technique.name;
    const err = await loadTechniqueModel(write("lean-broken.json", JSON.stringify(bundle))).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AttackBundleError);
    expect((err as AttackBundleError).objectId).toBe(technique.id);
    expect((err as AttackBundleError).field).toBe("name");

    const gz = gzipSync(JSON.stringify(miniBundle()));
    await expect(loadTechniqueModel(write("lean-cut.json.gz", gz.subarray(0, gz.length / 2)))).rejects.toThrow(/gzip data is corrupt/);
    await expect(loadTechniqueModel(write("lean-not.json", "{ nope"))).rejects.toThrow(/not JSON/);
    await expect(loadTechniqueModel(write("lean-array.json", "[1,2]"))).rejects.toThrow(/not a STIX bundle/);
  });
});

describe("bundles at http URLs", () => {
  const body = gzipSync(JSON.stringify(miniBundle()));
  const sha256 = createHash("sha256").update(body).digest("hex");
  let server: Server;
  let requests = 0;
  let base = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      if (req.url === "/enterprise-attack.json.gz") res.end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("downloads once with a matching sha256, then serves the copy from the cache", async () => {
    const cacheDir = join(dir, "cache");
    const url = `${base}/enterprise-attack.json.gz`;
    const first = await loadAttackBundle(url, { sha256, cacheDir });
    expect(first.techniques).toHaveLength(2);
    const second = await loadAttackBundle(new URL(url), { sha256: sha256.toUpperCase(), cacheDir });
    expect(second.techniques).toHaveLength(2);
    expect(requests).toBe(1);
  });

  it("takes the checksum from HELK_ATTACK_SHA256 when the caller passes none", async () => {
    vi.stubEnv("HELK_ATTACK_SHA256", sha256);
    try {
      expect((await loadAttackBundle(`${base}/enterprise-attack.json.gz`, { cacheDir: join(dir, "env-pin") })).techniques).toHaveLength(2);
      vi.stubEnv("HELK_ATTACK_SHA256", "f".repeat(64));
      await expect(loadAttackBundle(`${base}/enterprise-attack.json.gz`, { cacheDir: join(dir, "env-pin-2") })).rejects.toThrow(/pinned f{64}/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("refuses a download without a pin or with the wrong checksum", async () => {
    const url = `${base}/enterprise-attack.json.gz`;
    await expect(loadAttackBundle(url, { cacheDir: join(dir, "c2") })).rejects.toThrow(/refusing to download without a pinned sha256/);
    await expect(loadAttackBundle(url, { sha256: "0".repeat(64), cacheDir: join(dir, "c3") })).rejects.toThrow(`sha256 is ${sha256}, pinned ${"0".repeat(64)}`);
    await expect(loadAttackBundle(`${base}/missing.json`, { sha256, cacheDir: join(dir, "c4") })).rejects.toThrow(/HTTP 404/);
  });
});

describe("default bundle source", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("prefers HELK_ATTACK_BUNDLE, then the shared data, then the pinned official bundle", () => {
    vi.stubEnv("HELK_CACHE_DIR", join(dir, "empty-cache"));
    vi.stubEnv("HELK_ATTACK_BUNDLE", "/somewhere/bundle.json");
    expect(defaultAttackSource().source).toBe("/somewhere/bundle.json");
    vi.stubEnv("HELK_ATTACK_BUNDLE", "");
    expect(defaultAttackSource(() => join(dir, "a.json"))).toEqual({ source: join(dir, "a.json"), tried: [] });
    const fallback = defaultAttackSource(() => {
      throw new Error("HELK data not found: looked in X");
    });
    expect(fallback).toEqual({ source: ENTERPRISE_ATTACK_PIN.url, tried: ["HELK data not found: looked in X", ENTERPRISE_ATTACK_PIN.url] });
  });

  it("checks a download of the pinned official bundle against its git blob id", async () => {
    expect(ENTERPRISE_ATTACK_PIN).toMatchObject({ version: "18.1", url: expect.stringContaining("/attack-stix-data/7ad8a86f41edc91dd37de0487b0c2f44ae3a3af7/enterprise-attack/enterprise-attack-18.1.json") });
    const fetchSpy = vi.fn(async () => new Response(JSON.stringify(miniBundle())));
    await expect(loadAttackBundle(ENTERPRISE_ATTACK_PIN.url, { cacheDir: join(dir, "pin"), fetch: fetchSpy })).rejects.toThrow(
      `pinned ${ENTERPRISE_ATTACK_PIN.gitBlob}; not using it`,
    );
    expect(fetchSpy).toHaveBeenCalledWith(ENTERPRISE_ATTACK_PIN.url, expect.anything());
  });

  it("loads from HELK_ATTACK_BUNDLE and names what was tried when that fails", async () => {
    vi.stubEnv("HELK_ATTACK_BUNDLE", write("env.json", JSON.stringify(miniBundle())));
    expect((await loadDefaultAttackBundle()).techniques).toHaveLength(2);
    vi.stubEnv("HELK_ATTACK_BUNDLE", join(dir, "nothing-here.json"));
    await expect(loadDefaultAttackBundle()).rejects.toThrow(/no usable ATT&CK bundle; tried: HELK_ATTACK_BUNDLE\. Last error: .*nothing-here\.json: cannot read file: ENOENT/);
  });
});
