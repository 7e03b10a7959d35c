import type { Logger } from "pino";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { EngineError, errorReason, type Engine } from "../lib/engine.ts";
import { alertActions, installAlertsTemplate, type MatchedEvent } from "./alerts.ts";
import { readRules, type DetectionRule } from "./rules.ts";

export interface SchedulerOptions {
  /** Events searched. Default `helk-events-*` (joined process-network documents repeat their Sysmon 3 event). */
  eventsPattern?: string;
  /** Time between runs. Default 10 000 ms. */
  intervalMs?: number;
  /**
   * A run reads events indexed up to this long ago, so documents indexed just before it (not yet visible to
   * search: refresh interval 1 s) are read by the next run instead of being skipped. Default 3000 ms.
   */
  settleMs?: number;
  /**
   * A run also re-reads events indexed this long before its checkpoint. `indexed_at` is stamped when the engine
   * takes a document in, but search sees it only once its bulk request has ended and a refresh followed: under
   * load that can be seconds after a run has moved past it. Merges make the re-read write nothing twice.
   * Default 60 000 ms.
   */
  rereadMs?: number;
  /** How far back a rule seen for the first time starts. Default 3 600 000 ms (one hour). */
  firstLookbackMs?: number;
  /** Matches one rule handles per run; the rest waits for the next run. Default 500. */
  maxMatchesPerRule?: number;
  /** Rules searched per `_msearch` request. Default 50. */
  rulesPerRequest?: number;
  log?: Logger;
  registry?: Registry;
}

/** Per rule: events indexed before `checkpoint` (epoch ms) have been searched. */
export const STATE_INDEX = "helk-detection-state";

interface RuleState {
  rule_id: string;
  checkpoint: number;
  last_run: string;
  last_matches: number;
  /** Whether the last run handled every match up to its window's end (else the next one continues its page). */
  complete?: boolean;
  last_error?: string;
}

export interface RunResult {
  rules: number;
  matches: number;
  alertsWritten: number;
  errors: { ruleId: string; message: string }[];
}

/**
 * Runs the deployed Sigma rules (helk-detection-rules) over the events indexed since each rule's last run and
 * writes alerts to helk-alerts-*. Work per run is bounded by `maxMatchesPerRule` per rule; a rule with more
 * matches continues where it stopped at the next run. Rule state lives in helk-detection-state, so a restart
 * (or another scheduler) continues from the last checkpoint; alerts are idempotent, so a repeated window only
 * rewrites the same alerts.
 */
export class DetectionScheduler {
  private readonly eventsPattern: string;
  private readonly intervalMs: number;
  private readonly settleMs: number;
  private readonly rereadMs: number;
  private readonly firstLookbackMs: number;
  private readonly maxMatches: number;
  private readonly rulesPerRequest: number;
  private readonly metrics;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private templateInstalled = false;

  constructor(private readonly engine: Engine, private readonly options: SchedulerOptions = {}) {
    this.eventsPattern = options.eventsPattern ?? "helk-events-*";
    this.intervalMs = options.intervalMs ?? 10_000;
    this.settleMs = options.settleMs ?? 3_000;
    this.rereadMs = options.rereadMs ?? 60_000;
    this.firstLookbackMs = options.firstLookbackMs ?? 3_600_000;
    this.maxMatches = options.maxMatchesPerRule ?? 500;
    this.rulesPerRequest = options.rulesPerRequest ?? 50;
    const registers = options.registry ? [options.registry] : [];
    this.metrics = {
      runs: new Counter({ name: "helk_detections_runs_total", help: "Scheduler runs", registers }),
      rules: new Gauge({ name: "helk_detections_rules", help: "Rules run at the last run", registers }),
      matches: new Counter({ name: "helk_detections_matches_total", help: "Events matched by a rule", registers }),
      alerts: new Counter({ name: "helk_detections_alerts_written_total", help: "Alerts created or updated", registers }),
      ruleErrors: new Counter({ name: "helk_detections_rule_errors_total", help: "Rule searches the engine refused", registers }),
      runSeconds: new Histogram({ name: "helk_detections_run_seconds", help: "Duration of a run", buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60], registers }),
      latency: new Histogram({
        name: "helk_detections_alert_latency_seconds",
        help: "From an event being indexed to its alert being written",
        buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 120],
        registers,
      }),
    };
  }

  /** Runs every `intervalMs` until {@link stop}; a run never overlaps the previous one. */
  start(): void {
    const tick = async () => {
      this.running = this.runOnce().catch((error: Error) => this.options.log?.error({ err: error }, "detection run failed"));
      await this.running;
      if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run over every deployed rule. */
  async runOnce(now = Date.now()): Promise<RunResult> {
    const endTimer = this.metrics.runSeconds.startTimer();
    if (!this.templateInstalled) {
      await installAlertsTemplate(this.engine);
      this.templateInstalled = true;
    }
    const rules = await readRules(this.engine);
    const states = await this.readStates();
    const windowEnd = now - this.settleMs;
    const result: RunResult = { rules: rules.length, matches: 0, alertsWritten: 0, errors: [] };
    const newStates: RuleState[] = [];
    for (let i = 0; i < rules.length; i += this.rulesPerRequest) {
      const batch = rules.slice(i, i + this.rulesPerRequest);
      const starts = batch.map((rule) => this.windowStart(states.get(rule.rule_id), now));
      const responses = await this.search(batch, starts, windowEnd);
      const actions: unknown[] = [];
      const matched: MatchedEvent[] = [];
      batch.forEach((rule, j) => {
        const response = responses[j]!;
        const start = starts[j]!;
        const checkpoint = states.get(rule.rule_id)?.checkpoint ?? start;
        if ("error" in response) {
          const message = errorReason(response) ?? JSON.stringify(response.error);
          result.errors.push({ ruleId: rule.rule_id, message });
          this.metrics.ruleErrors.inc();
          // An error does not stop the other rules. A refused query (4xx) would be refused again, so the rule moves
          // on with its error recorded; an overloaded or failing engine (429, 5xx) gets the same window next run.
          const refused = response.status >= 400 && response.status < 500 && response.status !== 429;
          newStates.push({ rule_id: rule.rule_id, checkpoint: refused ? Math.max(checkpoint, windowEnd) : checkpoint, last_run: new Date(now).toISOString(), last_matches: 0, last_error: message });
          return;
        }
        const events = response.hits.hits.map(toMatchedEvent);
        // Matches before the checkpoint were re-read (counted and timed when first read, unless they came late).
        const fresh = events.filter((event) => Date.parse(event.indexedAt) >= checkpoint);
        result.matches += fresh.length;
        matched.push(...fresh);
        actions.push(...alertActions(rule, events, new Date()));
        newStates.push({
          rule_id: rule.rule_id,
          checkpoint: nextCheckpoint(events, start, windowEnd, this.maxMatches),
          last_run: new Date(now).toISOString(),
          last_matches: events.length,
          complete: events.length < this.maxMatches,
        });
      });
      if (actions.length > 0) {
        result.alertsWritten += await this.writeAlerts(actions);
        this.observeLatency(matched, Date.now());
      }
    }
    await this.writeStates(newStates);
    this.metrics.runs.inc();
    this.metrics.rules.set(rules.length);
    this.metrics.matches.inc(result.matches);
    endTimer();
    this.options.log?.info({ ...result, errors: result.errors.length }, "detection run");
    return result;
  }

  /** Where a rule's search starts: behind its checkpoint by the re-read span, or at it while paging through matches. */
  private windowStart(state: RuleState | undefined, now: number): number {
    if (state === undefined) return now - this.firstLookbackMs;
    return state.complete === false ? state.checkpoint : state.checkpoint - this.rereadMs;
  }

  private async search(rules: readonly DetectionRule[], starts: readonly number[], windowEnd: number): Promise<SearchResponse[]> {
    const lines: unknown[] = [];
    rules.forEach((rule, i) => {
      lines.push(
        { index: this.eventsPattern, ignore_unavailable: true, allow_no_indices: true },
        {
          size: this.maxMatches,
          _source: ["@timestamp", "host_name", "indexed_at"],
          sort: [{ indexed_at: "asc" }],
          query: {
            bool: {
              filter: [
                { range: { indexed_at: { gte: starts[i], lt: windowEnd, format: "epoch_millis" } } },
                { query_string: { query: rule.query, allow_leading_wildcard: true } },
              ],
            },
          },
        },
      );
    });
    const { body } = await this.engine.request<{ responses: SearchResponse[] }>({ method: "POST", path: "/_msearch", bulk: lines });
    return body.responses;
  }

  private async writeAlerts(actions: unknown[]): Promise<number> {
    const { body } = await this.engine.request<BulkResponse>({ method: "POST", path: "/_bulk", bulk: actions });
    const failed = body.items.map((item) => item.update).filter((r) => r.error);
    if (failed.length > 0) {
      throw new EngineError(`${failed.length} alert writes failed, first: ${errorReason(failed[0]) ?? JSON.stringify(failed[0]!.error)}`, failed[0]!.status);
    }
    const written = body.items.filter((item) => item.update.result !== "noop").length;
    this.metrics.alerts.inc(written);
    return written;
  }

  private async readStates(): Promise<Map<string, RuleState>> {
    const { status, body } = await this.engine.request<{ hits: { hits: { _source: RuleState }[] } }>({
      method: "POST",
      path: `/${STATE_INDEX}/_search`,
      body: { size: 10_000 },
      ignore: [404],
    });
    return status === 404 ? new Map() : new Map(body.hits.hits.map((hit) => [hit._source.rule_id, hit._source]));
  }

  private async writeStates(states: readonly RuleState[]): Promise<void> {
    if (states.length === 0) return;
    await this.engine.request({
      method: "POST",
      path: "/_bulk",
      bulk: states.flatMap((state) => [{ index: { _index: STATE_INDEX, _id: state.rule_id } }, state]),
    });
  }

  /** Records how long after indexing each match's alert was written (the scheduler's latency metric). */
  private observeLatency(events: readonly MatchedEvent[], writtenAt: number): void {
    for (const event of events) this.metrics.latency.observe((writtenAt - Date.parse(event.indexedAt)) / 1000);
  }
}

interface SearchResponse {
  status: number;
  hits: { hits: { _index: string; _id: string; _source: { "@timestamp": string; host_name: string; indexed_at: string } }[] };
}
interface BulkResponse {
  items: { update: { result?: string; status: number; error?: unknown } }[];
}

function toMatchedEvent(hit: SearchResponse["hits"]["hits"][number]): MatchedEvent {
  // The engine writes indexed_at with as many fraction digits as its clock gives: made canonical (ms) to compare as text.
  const indexedAt = new Date(Date.parse(hit._source.indexed_at)).toISOString();
  return { index: hit._index, id: hit._id, timestamp: hit._source["@timestamp"], indexedAt, host: hit._source.host_name };
}

/**
 * Where the next run starts: the window's end when every match was handled; else the last handled match's
 * indexing time (the next run re-reads that millisecond, which only rewrites the same alerts), or one
 * millisecond past it when a whole page shares one millisecond, so a run always makes progress.
 */
export function nextCheckpoint(events: readonly MatchedEvent[], start: number, windowEnd: number, pageSize: number): number {
  if (events.length < pageSize) return Math.max(start, windowEnd);
  const first = Date.parse(events[0]!.indexedAt);
  const last = Date.parse(events[events.length - 1]!.indexedAt);
  return first === last ? last + 1 : last;
}

/** The earliest checkpoint of any rule (epoch ms; 0 before the first run): every event indexed before it was searched by every rule. */
export async function searchedUntil(engine: Engine): Promise<number> {
  await engine.request({ method: "POST", path: `/${STATE_INDEX}/_refresh`, ignore: [404] });
  const { status, body } = await engine.request<{ aggregations: { low: { value: number | null } } }>({
    method: "POST",
    path: `/${STATE_INDEX}/_search`,
    body: { size: 0, aggs: { low: { min: { field: "checkpoint" } } } },
    ignore: [404],
  });
  return status === 404 ? 0 : (body.aggregations.low.value ?? 0);
}
