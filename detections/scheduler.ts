import type { Logger } from "pino";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { EngineError, errorReason, type Engine } from "../lib/engine.ts";
import { alertActions, installAlertsTemplate, type MatchedEvent } from "./alerts.ts";
import { RULES_ALIAS, type DetectionRule } from "./rules.ts";

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
  /** Where the very first run starts. Default 3 600 000 ms (one hour) ago. */
  firstLookbackMs?: number;
  /** Events one run reads at most; the rest waits for the next run. Default 5000. */
  maxEventsPerRun?: number;
  /** Events matched against every rule in one percolate request. Default 200. */
  percolateBatch?: number;
  log?: Logger;
  registry?: Registry;
}

/** The scheduler's checkpoint: events indexed before `checkpoint` (epoch ms) have been matched against every rule. */
export const STATE_INDEX = "helk-detection-state";
const STATE_ID = "scheduler";

interface SchedulerState {
  checkpoint: number;
  last_run: string;
  last_events: number;
  last_matches: number;
}

export interface RunResult {
  events: number;
  matches: number;
  alertsWritten: number;
  checkpoint: number;
}

/** An event as read for matching: where it is, and its document (without the unindexed shipper envelope). */
interface EventHit {
  _index: string;
  _id: string;
  _source: Record<string, unknown> & { "@timestamp": string; host_name: string; indexed_at: string };
}

/**
 * Runs the deployed Sigma rules (helk-detection-rules, stored as percolator queries) over the events indexed
 * since the last run and writes alerts to helk-alerts-*. Each run reads at most `maxEventsPerRun` events in
 * indexing order and matches them, `percolateBatch` at a time, against every rule in one request each; what is
 * left waits for the next run. The checkpoint lives in helk-detection-state, so a restart continues where the
 * last run stopped; alerts are idempotent, so a repeated window only rewrites the same alerts. A rule deployed
 * later sees the events indexed after that.
 */
export class DetectionScheduler {
  private readonly eventsPattern: string;
  private readonly intervalMs: number;
  private readonly settleMs: number;
  private readonly firstLookbackMs: number;
  private readonly maxEvents: number;
  private readonly percolateBatch: number;
  private readonly metrics;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private templateInstalled = false;

  constructor(
    private readonly engine: Engine,
    private readonly options: SchedulerOptions = {},
  ) {
    this.eventsPattern = options.eventsPattern ?? "helk-events-*";
    this.intervalMs = options.intervalMs ?? 10_000;
    this.settleMs = options.settleMs ?? 3_000;
    this.firstLookbackMs = options.firstLookbackMs ?? 3_600_000;
    this.maxEvents = options.maxEventsPerRun ?? 5_000;
    this.percolateBatch = options.percolateBatch ?? 200;
    const registers = options.registry ? [options.registry] : [];
    this.metrics = {
      runs: new Counter({ name: "helk_detections_runs_total", help: "Scheduler runs", registers }),
      events: new Counter({ name: "helk_detections_events_total", help: "Events matched against the rules", registers }),
      matches: new Counter({ name: "helk_detections_matches_total", help: "(rule, event) matches", registers }),
      alerts: new Counter({ name: "helk_detections_alerts_written_total", help: "Alerts created or updated", registers }),
      behind: new Gauge({ name: "helk_detections_checkpoint_age_seconds", help: "How far behind now the checkpoint is after a run", registers }),
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

  /** One run: the events indexed since the checkpoint (bounded) against every deployed rule. */
  async runOnce(now = Date.now()): Promise<RunResult> {
    const endTimer = this.metrics.runSeconds.startTimer();
    if (!this.templateInstalled) {
      await installAlertsTemplate(this.engine);
      this.templateInstalled = true;
    }
    const start = (await this.readState())?.checkpoint ?? now - this.firstLookbackMs;
    const windowEnd = Math.max(start, now - this.settleMs);
    const hits = await this.newEvents(start, windowEnd);
    const events = hits.map(toMatchedEvent);
    const result: RunResult = { events: hits.length, matches: 0, alertsWritten: 0, checkpoint: nextCheckpoint(events, start, windowEnd, this.maxEvents) };
    for (let i = 0; i < hits.length; i += this.percolateBatch) {
      const batch = hits.slice(i, i + this.percolateBatch);
      const actions: unknown[] = [];
      const matched: MatchedEvent[] = [];
      for (const { rule, slots } of await this.percolate(batch)) {
        const ruleEvents = slots.map((slot) => events[i + slot]!);
        result.matches += ruleEvents.length;
        matched.push(...ruleEvents);
        actions.push(...alertActions(rule, ruleEvents, new Date()));
      }
      if (actions.length > 0) {
        result.alertsWritten += await this.writeAlerts(actions);
        this.observeLatency(matched, Date.now());
      }
    }
    await this.writeState({ checkpoint: result.checkpoint, last_run: new Date(now).toISOString(), last_events: hits.length, last_matches: result.matches });
    this.metrics.runs.inc();
    this.metrics.events.inc(hits.length);
    this.metrics.matches.inc(result.matches);
    this.metrics.behind.set((Date.now() - result.checkpoint) / 1000);
    endTimer();
    this.options.log?.info(result, "detection run");
    return result;
  }

  private async newEvents(start: number, windowEnd: number): Promise<EventHit[]> {
    const { body } = await this.engine.request<{ hits: { hits: EventHit[] } }>({
      method: "POST",
      path: `/${this.eventsPattern}/_search`,
      query: { ignore_unavailable: true, allow_no_indices: true },
      body: {
        size: this.maxEvents,
        _source: { excludes: ["envelope"] },
        sort: [{ indexed_at: "asc" }],
        query: { range: { indexed_at: { gte: start, lt: windowEnd, format: "epoch_millis" } } },
      },
    });
    return body.hits.hits;
  }

  /** The rules matching at least one of `batch`, each with the positions of the events it matched. */
  private async percolate(batch: readonly EventHit[]): Promise<{ rule: DetectionRule; slots: number[] }[]> {
    const { status, body } = await this.engine.request<{ hits: { hits: { _source: { rule: DetectionRule }; fields?: { _percolator_document_slot?: number[] } }[] } }>({
      method: "POST",
      path: `/${RULES_ALIAS}/_search`,
      body: {
        size: 10_000,
        _source: ["rule"],
        query: { percolate: { field: "percolator_query", documents: batch.map((hit) => hit._source) } },
      },
      ignore: [404],
    });
    if (status === 404) return []; // no rules deployed yet
    return body.hits.hits.map((hit) => ({ rule: hit._source.rule, slots: hit.fields?._percolator_document_slot ?? [0] }));
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

  private async readState(): Promise<SchedulerState | undefined> {
    const { status, body } = await this.engine.request<{ _source: SchedulerState }>({ method: "GET", path: `/${STATE_INDEX}/_doc/${STATE_ID}`, ignore: [404] });
    return status === 404 ? undefined : body._source;
  }

  private async writeState(state: SchedulerState): Promise<void> {
    await this.engine.request({ method: "PUT", path: `/${STATE_INDEX}/_doc/${STATE_ID}`, body: state, query: { refresh: "true" } });
  }

  /** Records how long after indexing each match's alert was written (the scheduler's latency metric). */
  private observeLatency(events: readonly MatchedEvent[], writtenAt: number): void {
    for (const event of events) this.metrics.latency.observe((writtenAt - Date.parse(event.indexedAt)) / 1000);
  }
}

interface BulkResponse {
  items: { update: { result?: string; status: number; error?: unknown } }[];
}

function toMatchedEvent(hit: EventHit): MatchedEvent {
  // The engine writes indexed_at with as many fraction digits as its clock gives: made canonical (ms) to compare as text.
  const indexedAt = new Date(Date.parse(hit._source.indexed_at)).toISOString();
  return { index: hit._index, id: hit._id, timestamp: hit._source["@timestamp"], indexedAt, host: hit._source.host_name };
}

/**
 * Where the next run starts: the window's end when every event was read; else the last read event's indexing
 * time (the next run re-reads that millisecond, which only rewrites the same alerts), or one millisecond past
 * it when a whole page shares one millisecond, so a run always makes progress.
 */
export function nextCheckpoint(events: readonly MatchedEvent[], start: number, windowEnd: number, pageSize: number): number {
  if (events.length < pageSize) return Math.max(start, windowEnd);
  const first = Date.parse(events[0]!.indexedAt);
  const last = Date.parse(events[events.length - 1]!.indexedAt);
  return first === last ? last + 1 : last;
}
