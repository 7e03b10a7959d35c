import { describe, expect, it } from "vitest";
import { loadAttackBundle } from "../../attack/bundle.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { attackBundlePath } from "../../lib/data.ts";
import { Enricher } from "../../enrichment/transforms/index.ts";
import { eventsOf, first, isSysmon, WITH_RECORD_NUMBERS } from "./samples.ts";

const lookup = AttackLookup.fromModel(await loadAttackBundle(attackBundlePath()));
const enricher = new Enricher({ attack: lookup });
const processCreate = first(await eventsOf(WITH_RECORD_NUMBERS), isSysmon(1), "Sysmon process create");

const attackOf = (ruleName: string) => {
  const outcome = enricher.enrich(JSON.stringify({ ...processCreate, RuleName: ruleName }), { tag: undefined });
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.event.doc.attack as Record<string, unknown> | undefined;
};

describe("ATT&CK context from the RuleName technique id (ATT&CK v18.1)", () => {
  it("adds name, tactics, platforms and URL of a technique", () => {
    const attack = attackOf("technique_id=T1136,technique_name=Create Account");
    expect(attack).toMatchObject({ technique_id: "T1136", technique_name: "Create Account", status: "found", is_subtechnique: false });
    expect(attack!.tactics).toContain("persistence");
    expect(attack!.platforms).toContain("Windows");
    expect(attack!.url).toBe("https://attack.mitre.org/techniques/T1136");
  });

  it("names the parent of a sub-technique", () => {
    expect(attackOf("technique_id=T1055.011")).toMatchObject({
      technique_id: "T1055.011",
      is_subtechnique: true,
      parent_id: "T1055",
      parent_name: "Process Injection",
      status: "found",
    });
  });

  it("maps a revoked id to its replacement, keeping the id asked for", () => {
    // T1086 (PowerShell) was revoked by T1059.001.
    expect(attackOf("technique_id=T1086")).toMatchObject({ technique_id: "T1059.001", requested_id: "T1086", status: "revoked" });
  });

  it("flags an unknown id and still indexes the event", () => {
    expect(attackOf("technique_id=T9999")).toMatchObject({ technique_id: "T9999", status: "unknown" });
  });

  it("adds no context when the rule carries no technique id", () => {
    expect(attackOf("-")).toBeUndefined();
    expect(attackOf("technique_name=Create Account")).toBeUndefined();
  });

  it("uses the first of several technique ids", () => {
    expect(attackOf("technique_id=T1003,technique_id=T1136")).toMatchObject({ technique_id: "T1003" });
  });
});
