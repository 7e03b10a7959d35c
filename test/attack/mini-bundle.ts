import { randomUUID } from "node:crypto";

/** A small but complete ATT&CK bundle (matrix, tactics, techniques, revocation, detection chain) for loader tests. */
export function miniBundle(specVersion: "2.0" | "2.1" = "2.0"): { type: "bundle"; id: string; spec_version?: string; objects: Record<string, unknown>[] } {
  const id = (type: string) => `${type}--${randomUUID()}`;
  const spec = specVersion === "2.1" ? { spec_version: "2.1" } : {};
  const ref = (attackId: string, path: string) => [{ source_name: "mitre-attack", external_id: attackId, url: `https://attack.mitre.org/${path}` }];
  const persistence = { type: "x-mitre-tactic", id: id("x-mitre-tactic"), ...spec, name: "Persistence", x_mitre_shortname: "persistence", external_references: ref("TA0003", "tactics/TA0003") };
  const execution = { type: "x-mitre-tactic", id: id("x-mitre-tactic"), ...spec, name: "Execution", x_mitre_shortname: "execution", external_references: ref("TA0002", "tactics/TA0002") };
  const matrix = { type: "x-mitre-matrix", id: id("x-mitre-matrix"), ...spec, name: "Enterprise ATT&CK", tactic_refs: [execution.id, persistence.id], external_references: ref("enterprise-attack", "matrices/enterprise") };
  const technique = (attackId: string, name: string, tactics: string[], extra: Record<string, unknown> = {}) => ({
    type: "attack-pattern",
    id: id("attack-pattern"),
    ...spec,
    name,
    kill_chain_phases: tactics.map((phase_name) => ({ kill_chain_name: "mitre-attack", phase_name })),
    x_mitre_platforms: ["Windows"],
    x_mitre_is_subtechnique: attackId.includes("."),
    external_references: ref(attackId, `techniques/${attackId.replace(".", "/")}`),
    ...extra,
  });
  const createAccount = technique("T1136", "Create Account", ["persistence"]);
  const localAccount = technique("T1136.001", "Local Account", ["persistence"]);
  const oldOne = technique("T1000", "Old Create Account", ["persistence", "execution"], { revoked: true });
  const analytic = {
    type: "x-mitre-analytic",
    id: id("x-mitre-analytic"),
    ...spec,
    name: "Analytic 0001",
    x_mitre_platforms: ["Windows"],
    x_mitre_log_source_references: [{ name: "WinEventLog:Security", channel: "EventCode=4720" }],
    external_references: ref("AN0001", "detectionstrategies/DET0001#AN0001"),
  };
  const strategy = { type: "x-mitre-detection-strategy", id: id("x-mitre-detection-strategy"), ...spec, name: "Account creation", x_mitre_analytic_refs: [analytic.id], external_references: ref("DET0001", "detectionstrategies/DET0001") };
  const rel = (relationship_type: string, source_ref: string, target_ref: string) => ({ type: "relationship", id: id("relationship"), ...spec, relationship_type, source_ref, target_ref });
  return {
    type: "bundle",
    id: id("bundle"),
    ...(specVersion === "2.0" ? { spec_version: "2.0" } : {}),
    objects: [
      persistence,
      execution,
      matrix,
      createAccount,
      localAccount,
      oldOne,
      analytic,
      strategy,
      rel("subtechnique-of", localAccount.id, createAccount.id),
      rel("revoked-by", oldOne.id, localAccount.id),
      rel("detects", strategy.id, createAccount.id),
    ],
  };
}
