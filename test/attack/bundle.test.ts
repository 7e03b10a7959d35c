import { beforeAll, describe, expect, it } from "vitest";
import { loadAttackBundle, type AttackModel } from "../../attack/bundle.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { attackBundlePath } from "../../lib/data.ts";

let model: AttackModel;
let lookup: AttackLookup;
beforeAll(async () => {
  model = await loadAttackBundle(attackBundlePath());
  lookup = AttackLookup.fromModel(model);
});

describe("Enterprise ATT&CK v18.1 model", () => {
  it("has 691 active techniques, 475 of them sub-techniques, and 14 tactics in matrix order", () => {
    expect(model.version).toBe("18.1");
    expect(model.specVersion).toBe("2.0");
    expect(model.techniques).toHaveLength(691);
    expect(model.techniques.filter((t) => t.isSubtechnique)).toHaveLength(475);
    expect(model.tactics.map((t) => t.shortname)).toEqual([
      "reconnaissance", "resource-development", "initial-access", "execution", "persistence", "privilege-escalation",
      "defense-evasion", "credential-access", "discovery", "lateral-movement", "collection", "command-and-control",
      "exfiltration", "impact",
    ]);
    expect(model.tactics[4]).toMatchObject({ id: "TA0003", name: "Persistence" });
  });

  it("links groups, software, mitigations and the detection chain to techniques", () => {
    const lsass = model.techniquesById.get("T1003.001")!;
    expect(lsass.groups).toContain("G0007"); // APT28
    expect(lsass.software).toContain("S0002"); // Mimikatz
    expect(lsass.mitigations).toContain("M1043"); // Credential Access Protection
    expect(lsass.detectionStrategies.length).toBeGreaterThan(0);
    // Every active technique has a v18 detection strategy with analytics.
    for (const t of model.techniques) expect(t.detectionStrategies.length, t.id).toBeGreaterThan(0);
    const logons = [...model.analytics.values()].flatMap((a) => a.logSources).filter((s) => s.name === "WinEventLog:Security" && s.channel.includes("4624"));
    expect(logons.length).toBeGreaterThan(0);
    expect(logons[0]!.events).toContainEqual({ channel: "Security", eventId: 4624 });
    const sysmon1 = [...model.analytics.values()].flatMap((a) => a.logSources).find((s) => s.name === "WinEventLog:Sysmon" && s.channel === "EventCode=1");
    expect(sysmon1?.events).toEqual([{ channel: "Microsoft-Windows-Sysmon/Operational", eventId: 1 }]);
  });
});

describe("AttackLookup over v18.1", () => {
  it("resolves T1136 to Create Account in persistence", () => {
    expect(lookup.resolve("T1136")).toEqual({
      technique_id: "T1136",
      technique_name: "Create Account",
      tactics: ["persistence"],
      platforms: expect.arrayContaining(["Windows", "Linux", "macOS"]),
      is_subtechnique: false,
      url: "https://attack.mitre.org/techniques/T1136",
      status: "found",
      requested_id: "T1136",
    });
  });

  it("gives T1055.011 its parent T1055, whatever the case and spacing of the id", () => {
    for (const id of ["T1055.011", " t1055.011 ", "T1055/011"]) {
      expect(lookup.resolve(id)).toMatchObject({ technique_id: "T1055.011", is_subtechnique: true, parent_id: "T1055", parent_name: "Process Injection", status: "found" });
    }
  });

  it("resolves a revoked technique to its replacement via revoked-by", () => {
    const revoked = [...model.techniquesById.values()].filter((t) => t.revoked);
    expect(revoked.length).toBeGreaterThan(100);
    // T1066 "Indicator Removal from Tools" was revoked by T1027.005.
    expect(lookup.resolve("T1066")).toMatchObject({ technique_id: "T1027.005", technique_name: "Indicator Removal from Tools", status: "revoked", requested_id: "T1066", parent_id: "T1027" });
    for (const t of revoked) {
      const ctx = lookup.resolve(t.id);
      expect(ctx.status).toBe("revoked");
      expect(model.techniquesById.get(ctx.technique_id)!.revoked, `${t.id} → ${ctx.technique_id}`).toBe(false);
    }
  });

  it("answers unknown ids with status unknown instead of throwing", () => {
    expect(lookup.resolve("T9999.999")).toEqual({ technique_id: "T9999.999", status: "unknown", requested_id: "T9999.999" });
    expect(lookup.resolve("")).toMatchObject({ status: "unknown" });
    expect(lookup.resolve(undefined as unknown as string)).toMatchObject({ status: "unknown" });
  });

  it("hands out the same frozen object for every lookup of an id", () => {
    const a = lookup.resolve("T1136");
    expect(lookup.resolve("T1136")).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
});
