import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadAttackBundle } from "../../attack/bundle.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { convertRules, summarize, type RuleReport } from "../../detections/convert.ts";
import { sigmaFieldMap } from "../../detections/fields.ts";
import { attackContext, detectionRules } from "../../detections/rules.ts";
import { attackBundlePath, projectRoot } from "../../lib/data.ts";

const RULES = join(projectRoot, "test", "detections", "rules");
const byId = (reports: RuleReport[], suffix: string) => reports.find((r) => r.id?.endsWith(suffix) || r.file.includes(suffix));

describe("Sigma field mapping", () => {
  it("maps each Windows name a normalized field is first filled from, and only that one", () => {
    const map = sigmaFieldMap();
    expect(map).toMatchObject({ Image: "process_path", CommandLine: "command_line.keyword", ParentImage: "parent_process_path", User: "user_name", EventID: "event_id", Channel: "channel", DestinationPort: "dst_port" });
    // normalize.ts fills process_path from NewProcessName only when Image is absent: searched raw instead.
    expect(map.NewProcessName).toBeUndefined();
    expect(map.SubjectUserName).toBeUndefined();
  });
});

describe("converting rules with pySigma", () => {
  let reports: RuleReport[];
  beforeAll(async () => {
    reports = await convertRules({ sources: [RULES] });
  }, 900_000);

  it("converts a process-creation rule onto the Sysmon channel and the normalized fields", () => {
    const rule = byId(reports, "0001")!;
    expect(rule.outcome).toBe("converted");
    expect(rule.query).toContain("channel:Microsoft\\-Windows\\-Sysmon\\/Operational");
    expect(rule.query).toContain("event_id:1");
    expect(rule.query).toContain("process_path:*\\\\mimikatz.exe");
    expect(rule.query).toContain("command_line.keyword:*sekurlsa\\:\\:logonpasswords*");
    expect(rule.query).toMatch(/NOT parent_process_path:\*\\\\explorer.exe/);
    expect(rule.fields).toEqual([
      { sigma: "Image", helk: "process_path" },
      { sigma: "CommandLine", helk: "command_line.keyword" },
      { sigma: "ParentImage", helk: "parent_process_path" },
    ]);
    expect(rule.unmapped_fields).toEqual([]);
  });

  it("reports fields HELK does not index, keeps raw event data fields under event_data", () => {
    const rule = byId(reports, "0002")!;
    expect(rule.outcome).toBe("converted");
    expect(rule.unmapped_fields).toEqual(["Provider_Name"]);
    expect(rule.fields).toContainEqual({ sigma: "ServiceFileName", helk: "event_data.ServiceFileName" });
    expect(rule.query).toContain("channel:System");
  });

  it("refuses a log source with no Windows channel, and reports an invalid rule by its file", () => {
    expect(byId(reports, "0003")).toMatchObject({ outcome: "unsupported", reason: expect.stringContaining("no Windows event channel") });
    expect(byId(reports, "invalid.yml")).toMatchObject({ outcome: "invalid", reason: expect.stringMatching(/detection/i) });
    expect(summarize(reports)).toEqual({ rules: 4, converted: 2, withUnmappedFields: 1, unsupported: 1, notSelected: 0, invalid: 1 });
  });

  it("selects by level, status and tag", async () => {
    const selected = await convertRules({ sources: [RULES], selection: { levels: ["high", "critical"], tags: ["attack.t1003.001"] } });
    expect(selected.filter((r) => r.outcome === "converted").map((r) => r.id)).toEqual(["0b6d2c9e-2a55-4c57-9a39-7c1a1d0c0001"]);
    expect(byId(selected, "0002")).toMatchObject({ outcome: "not_selected", reason: "level medium not in high, critical" });
    const byStatus = await convertRules({ sources: [RULES], selection: { statuses: ["experimental"] } });
    expect(byStatus.filter((r) => r.outcome === "converted" || r.outcome === "unsupported").map((r) => r.id)).toEqual(["0b6d2c9e-2a55-4c57-9a39-7c1a1d0c0002"]);
  }, 120_000);

  it("gives runnable rules ATT&CK context and leaves rules with unindexed fields out", async () => {
    const lookup = AttackLookup.fromModel(await loadAttackBundle(attackBundlePath()));
    const rules = detectionRules(reports, lookup);
    expect(rules.map((r) => r.rule_id)).toEqual(["0b6d2c9e-2a55-4c57-9a39-7c1a1d0c0001"]);
    expect(rules[0]!.attack.techniques[0]).toMatchObject({ technique_id: "T1003.001", technique_name: "LSASS Memory", status: "found", parent_id: "T1003" });
    expect(rules[0]!.attack.tactics).toContain("credential-access");
  }, 120_000);
});

describe("ATT&CK context from Sigma tags", () => {
  it("keeps tactic tags, skips group and software tags, marks ids without a bundle unknown", () => {
    const context = attackContext(["attack.t1059.001", "attack.execution", "attack.g0016", "attack.s0002", "detection.threat-hunting", "cve.2021-1675"], undefined);
    expect(context.techniques).toEqual([{ technique_id: "T1059.001", status: "unknown", requested_id: "T1059.001" }]);
    expect(context.tactics).toEqual(["execution"]);
  });
});
