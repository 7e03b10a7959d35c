import { describe, expect, it } from "vitest";
import { MAX_KV_PAIRS, parseRuleName } from "../../enrichment/transforms/kv.ts";
import { eventsOf } from "./samples.ts";

describe("RuleName kv parsing (HELK's Logstash kv semantics)", () => {
  it("splits pairs on , and key/value on =, prefixes mitre_ and lower-cases keys", () => {
    expect(parseRuleName("technique_id=T1136,technique_name=Create Account")).toEqual({
      mitre_technique_id: "T1136",
      mitre_technique_name: "Create Account",
    });
    expect(parseRuleName("Technique_ID=T1055.011")).toEqual({ mitre_technique_id: "T1055.011" });
  });

  it("trims whitespace around keys and values", () => {
    expect(parseRuleName("  technique_id = T1003 ,  technique_name =  OS Credential Dumping  ")).toEqual({
      mitre_technique_id: "T1003",
      mitre_technique_name: "OS Credential Dumping",
    });
  });

  it("gives nothing for Sysmon's '-' and for bare rule names", () => {
    expect(parseRuleName("-")).toBeUndefined();
    expect(parseRuleName("Core Networking - Teredo (UDP-In)")).toBeUndefined();
    expect(parseRuleName("")).toBeUndefined();
  });

  it("skips bare names, empty pairs, empty keys and empty values between good pairs", () => {
    expect(parseRuleName("python.exe,technique_id=T1059,,=orphan,empty=, ,tactic=execution")).toEqual({
      mitre_technique_id: "T1059",
      mitre_tactic: "execution",
    });
    expect(parseRuleName(",,,=,")).toBeUndefined();
  });

  it("keeps every '=' after the first inside the value", () => {
    expect(parseRuleName("technique_id=T1059,query=a=b=c")).toEqual({ mitre_technique_id: "T1059", mitre_query: "a=b=c" });
  });

  it("collects different values of a repeated key into an array, a repeated identical value once", () => {
    expect(parseRuleName("technique_id=T1055,technique_id=T1055.011,technique_id=T1055")).toEqual({
      mitre_technique_id: ["T1055", "T1055.011"],
    });
    expect(parseRuleName("technique_id=T1055,TECHNIQUE_ID=T1055")).toEqual({ mitre_technique_id: "T1055" });
  });

  it("turns spaces and dots inside keys into _ so a tag never becomes an object path", () => {
    expect(parseRuleName("Technique Name=Create Account,a.b=c")).toEqual({
      mitre_technique_name: "Create Account",
      mitre_a_b: "c",
    });
  });

  it(`reads at most ${MAX_KV_PAIRS} pairs`, () => {
    const many = Array.from({ length: 100 }, (_, i) => `k${i}=v${i}`).join(",");
    const parsed = parseRuleName(many)!;
    expect(Object.keys(parsed)).toHaveLength(MAX_KV_PAIRS);
    expect(parsed.mitre_k0).toBe("v0");
    expect(parsed.mitre_k32).toBeUndefined();
  });

  it("never throws on any RuleName of a real recording", async () => {
    const names = new Set((await eventsOf("cmd_psh_stop_netprofm_eventlog_after_reboot.zip")).map((e) => e.RuleName).filter((r) => typeof r === "string"));
    expect(names.size).toBeGreaterThan(3);
    for (const name of names) expect(() => parseRuleName(name as string)).not.toThrow();
    expect(parseRuleName("Core Networking - IPHTTPS (TCP-In)")).toBeUndefined();
  });
});
