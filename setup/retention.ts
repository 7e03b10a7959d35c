import type { Command } from "commander";
import { formatBytes } from "../lib/bytes.ts";
import * as retentionEnv from "../lib/contract/retention-env.ts";
import { RETENTION_INDEX_CLASSES, type ClassRetention, type RetentionClass, type RetentionPolicy } from "../lib/contract/retention-env.ts";
import { createEngine, type Engine } from "../lib/engine.ts";

/**
 * The retention job (`helk retention run`): Curator's job for HELK's daily indices. Per data class
 * (lib/contract/retention-env.ts) an index dated more than `days` days before today (UTC) is past retention, and
 * when the class has a size budget its oldest indices go until the rest fits.
 *
 * Who deletes by age depends on the engine: Elasticsearch gets an ILM policy per class, attached to each daily
 * index with the index's own date as origination date, so ILM deletes on the same day the job would; an OpenSearch
 * with the ISM plugin gets an ISM policy per class (attached to new indices by its template), and the job still
 * deletes by the name's date, since ISM counts from an index's creation, which for replayed old events is later.
 * Without either, the job deletes. Size budgets are always the job's: without rollover no lifecycle policy can
 * bound a class's total size.
 */

const DAY_MS = 86_400_000;

/** Who deletes indices past their days. */
export type Lifecycle = "ilm" | "ism" | "none";

/** The UTC day (midnight, epoch ms) in the name of a daily index `<prefix>YYYY.MM.DD`; undefined when there is none. */
export function indexDay(index: string, prefix: string): number | undefined {
  if (!index.startsWith(prefix)) return undefined;
  const match = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(index.slice(prefix.length));
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  // Date.UTC rolls 2026.02.30 over into March: such a name holds no date.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return time;
}

/** An index as the engine lists it: its name and the bytes all its copies take. */
export interface IndexSize {
  index: string;
  bytes: number;
}

/** What the job does with one index, and why. */
export interface RetentionDecision {
  index: string;
  class: RetentionClass;
  bytes: number;
  /** Days between the index's date and today (UTC); undefined when its name holds no date. */
  ageDays?: number;
  delete: boolean;
  reason: string;
}

/**
 * The decisions for every index of the classes' prefixes (others are left out): past the class's days (unless
 * `byAge` is false: a lifecycle policy deletes those), then, newest first, beyond the class's size budget. An index
 * whose name holds no date is kept, and so is the newest index of a class even when it alone exceeds the budget.
 */
export function planRetention(indices: IndexSize[], policy: RetentionPolicy, now: Date, options: { byAge: boolean }): RetentionDecision[] {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const decisions: RetentionDecision[] = [];
  for (const [name, prefix] of Object.entries(RETENTION_INDEX_CLASSES) as [RetentionClass, string][]) {
    const retention = policy[name];
    const dated: (RetentionDecision & { ageDays: number })[] = [];
    for (const { index, bytes } of indices) {
      if (!index.startsWith(prefix)) continue;
      const day = indexDay(index, prefix);
      if (day === undefined) decisions.push({ index, class: name, bytes, delete: false, reason: "no date in its name" });
      else dated.push({ index, class: name, bytes, ageDays: Math.round((today - day) / DAY_MS), delete: false, reason: "" });
    }
    dated.sort((a, b) => a.ageDays - b.ageDays);
    let kept = 0;
    for (const decision of dated) {
      if (options.byAge && decision.ageDays > retention.days) {
        decision.delete = true;
        decision.reason = `${decision.ageDays} days old, past ${retention.days}`;
      } else if (retention.maxBytes !== undefined && kept > 0 && kept + decision.bytes > retention.maxBytes) {
        decision.delete = true;
        decision.reason = `beyond the size budget: newer ${prefix}* indices hold ${formatBytes(kept)} of ${formatBytes(retention.maxBytes)}`;
      } else {
        kept += decision.bytes;
        decision.reason = keptReason(decision.ageDays, retention, options.byAge);
      }
      decisions.push(decision);
    }
  }
  return decisions;
}

function keptReason(ageDays: number, retention: ClassRetention, byAge: boolean): string {
  if (ageDays < 0) return "dated in the future";
  if (!byAge) return `${ageDays} days old; its lifecycle policy deletes it after ${retention.days}`;
  return `${ageDays} days old, within ${retention.days}`;
}

/** Elasticsearch has ILM; OpenSearch has ISM when its plugin answers. */
export async function detectLifecycle(engine: Engine): Promise<Lifecycle> {
  if (engine.kind === "elasticsearch") return "ilm";
  const { status } = await engine.request({ method: "GET", path: "/_plugins/_ism/policies", query: { size: 1 }, ignore: [400, 404, 405] });
  return status === 200 ? "ism" : "none";
}

/** Every index of the retention classes, with the bytes of all its copies (0 for a closed one). */
export async function listClassIndices(engine: Engine): Promise<IndexSize[]> {
  const patterns = Object.values(RETENTION_INDEX_CLASSES).map((prefix) => `${prefix}*`);
  const { body } = await engine.request<{ index: string; "store.size": string | null }[]>({
    method: "GET",
    path: `/_cat/indices/${patterns.join(",")}`,
    query: { format: "json", h: "index,store.size", bytes: "b", expand_wildcards: "open,closed" },
  });
  return body.map((row) => ({ index: row.index, bytes: Number(row["store.size"] ?? 0) }));
}

/** Name of the lifecycle policy (ILM or ISM) of a class. */
export function lifecyclePolicyName(name: RetentionClass): string {
  return `helk-${name === "processNetwork" ? "process-network" : name}-retention`;
}

/**
 * ILM policy of a class: delete `days + 1` days after the index's origination date (its name's day), which is the
 * day {@link planRetention} would delete it.
 */
export function ilmPolicy(retention: ClassRetention): object {
  return {
    policy: {
      _meta: { managed_by: "helk retention run" },
      phases: { delete: { min_age: `${retention.days + 1}d`, actions: { delete: {} } } },
    },
  };
}

/** ISM policy of a class: delete `days + 1` days after the index was created; new indices of the prefix get it. */
export function ismPolicy(retention: ClassRetention, prefix: string): object {
  return {
    policy: {
      description: `helk retention run: ${prefix}* kept ${retention.days} days`,
      default_state: "hot",
      states: [
        { name: "hot", actions: [], transitions: [{ state_name: "delete", conditions: { min_index_age: `${retention.days + 1}d` } }] },
        { name: "delete", actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [`${prefix}*`], priority: 100 }],
    },
  };
}

/** Puts the ILM policies and attaches each to the dated indices of its class that lack it. */
async function applyIlm(engine: Engine, policy: RetentionPolicy, indices: IndexSize[], log: (line: string) => void): Promise<void> {
  for (const [name, prefix] of Object.entries(RETENTION_INDEX_CLASSES) as [RetentionClass, string][]) {
    const policyName = lifecyclePolicyName(name);
    await engine.request({ method: "PUT", path: `/_ilm/policy/${policyName}`, body: ilmPolicy(policy[name]) });
    const dated = indices.flatMap(({ index }) => {
      const day = indexDay(index, prefix);
      return day === undefined ? [] : [{ index, day }];
    });
    if (dated.length === 0) continue;
    const { body } = await engine.request<Record<string, { settings?: { index?: { lifecycle?: { name?: string } } } }>>({
      method: "GET",
      path: `/${prefix}*/_settings/index.lifecycle.*`,
      query: { expand_wildcards: "open,closed" },
    });
    const unmanaged = dated.filter(({ index }) => body[index]?.settings?.index?.lifecycle?.name !== policyName);
    for (const { index, day } of unmanaged)
      await engine.request({
        method: "PUT",
        path: `/${index}/_settings`,
        body: { "index.lifecycle.name": policyName, "index.lifecycle.origination_date": day },
      });
    log(`ILM policy ${policyName}: delete ${policy[name].days + 1} days after each index's date (attached to ${unmanaged.length} more)`);
  }
}

/** Puts the ISM policies (updating a changed one), adds them to unmanaged indices and moves managed ones to the new version. */
async function applyIsm(engine: Engine, policy: RetentionPolicy, log: (line: string) => void): Promise<void> {
  for (const [name, prefix] of Object.entries(RETENTION_INDEX_CLASSES) as [RetentionClass, string][]) {
    const policyId = lifecyclePolicyName(name);
    const path = `/_plugins/_ism/policies/${policyId}`;
    const current = await engine.request<{ _seq_no?: number; _primary_term?: number }>({ method: "GET", path, ignore: [404] });
    const version = current.status === 200 ? { if_seq_no: current.body._seq_no ?? 0, if_primary_term: current.body._primary_term ?? 0 } : undefined;
    await engine.request({ method: "PUT", path, body: ismPolicy(policy[name], prefix), ...(version ? { query: version } : {}) });
    // Indices that already have a policy are reported as failures by `add`; `change_policy` moves those to this version.
    // 404: no index of the class yet (its template attaches the policy to the first).
    await engine.request({ method: "POST", path: `/_plugins/_ism/add/${prefix}*`, body: { policy_id: policyId }, ignore: [404] });
    await engine.request({ method: "POST", path: `/_plugins/_ism/change_policy/${prefix}*`, body: { policy_id: policyId }, ignore: [404] });
    log(`ISM policy ${policyId}: delete ${policy[name].days + 1} days after each index's creation`);
  }
}

/** Indices per DELETE request: their names go in the URL. */
const DELETE_BATCH = 25;

export interface RetentionReport {
  lifecycle: Lifecycle;
  decisions: RetentionDecision[];
  /** Indices deleted (none on a dry run). */
  deleted: string[];
}

/**
 * One run of the job: installs the lifecycle policies the engine supports, then deletes what {@link planRetention}
 * says (nothing on a dry run), logging each index with what was done and why.
 */
export async function runRetention(
  engine: Engine,
  policy: RetentionPolicy,
  options: { now?: Date; dryRun?: boolean; log?: (line: string) => void } = {},
): Promise<RetentionReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const lifecycle = await detectLifecycle(engine);
  const indices = await listClassIndices(engine);
  if (!options.dryRun) {
    if (lifecycle === "ilm") await applyIlm(engine, policy, indices, log);
    if (lifecycle === "ism") await applyIsm(engine, policy, log);
  }
  const decisions = planRetention(indices, policy, options.now ?? new Date(), { byAge: lifecycle !== "ilm" });
  const doomed = decisions.filter((d) => d.delete).map((d) => d.index);
  const deleted: string[] = [];
  if (!options.dryRun)
    for (let i = 0; i < doomed.length; i += DELETE_BATCH) {
      const batch = doomed.slice(i, i + DELETE_BATCH);
      // 404: gone meanwhile (a lifecycle policy, another run).
      await engine.request({ method: "DELETE", path: `/${batch.join(",")}`, query: { ignore_unavailable: true }, ignore: [404] });
      deleted.push(...batch);
    }
  for (const d of decisions)
    log(`${d.delete ? (options.dryRun ? "would delete" : "deleted") : "kept"} ${d.index} (${formatBytes(d.bytes)}; ${d.reason})`);
  log(
    `retention (${lifecycle === "none" ? "no lifecycle plugin: the job deletes by age" : `${lifecycle.toUpperCase()} deletes by age`}): ` +
      `${options.dryRun ? `${doomed.length} to delete` : `${deleted.length} deleted`}, ${decisions.length - doomed.length} kept`,
  );
  return { lifecycle, decisions, deleted };
}

/** `helk retention run`: the deployment's retention job, configured by env (lib/contract/retention-env.ts). */
export function registerRetentionCommands(program: Command): void {
  program
    .command("retention")
    .description("retention of HELK's daily indices (configured by env, see components/retention.ts)")
    .command("run")
    .description("delete the daily indices past their class's days or size (HELK_RETENTION_POLICY), install ILM/ISM policies where the engine has them")
    .option("--dry-run", "only list what would be deleted and kept; install no policy")
    .action(async (flags: { dryRun?: boolean }) => {
      const { engine: options, policy } = retentionEnv.fromEnv();
      const engine = createEngine(options);
      try {
        await runRetention(engine, policy, { dryRun: flags.dryRun ?? false });
      } finally {
        await engine.close();
      }
    });
}
