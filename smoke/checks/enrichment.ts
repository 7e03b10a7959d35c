import { EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX } from "../../lib/contract/names.ts";
import { EngineError, type Engine } from "../../lib/engine.ts";
import { retry, RetryExhausted } from "../../lib/retry.ts";
import type { StackEndpoints } from "../endpoints.ts";
import { excerpt, httpGet, under } from "../http.ts";
import { probeEvents, probeTag, type ProbeEvents } from "../probe.ts";
import { errorMessage, type CheckContext, type CheckGroup, type CheckOutcome } from "../runner.ts";
import type { KafkaSession } from "./kafka.ts";

const eventsPattern = `${EVENTS_INDEX_PREFIX}*`;
const processNetworkPattern = `${PROCESS_NETWORK_INDEX_PREFIX}*`;
const pollIntervalMs = 500;

/**
 * The enrichment service's own readiness, and the data path end to end: a tagged Sysmon process creation
 * and a connection of the same process go into the event topic, and must come out of the engine as an
 * enriched event (ATT&CK tactic added) and as a joined process/network document. Both need Kafka and the
 * engine; when either failed its own checks these are skipped, so that outage is reported once.
 */
export function enrichmentChecks(endpoints: StackEndpoints, kafka: KafkaSession, engine: Engine): CheckGroup {
  const service = endpoints.enrichment;
  const needs = ["kafka.metadata", "engine.health"];
  const notDeployed = async (): Promise<CheckOutcome> => ({ status: "skip", message: "the stack deploys no enrichment service (endpoints.enrichment is null)" });
  return {
    component: "enrichment",
    checks: [
      {
        id: "enrichment.ready",
        component: "enrichment",
        title: "/readyz reports ready",
        needs,
        async run({ signal }) {
          if (!service) return notDeployed();
          const res = await httpGet("enrichment", under(service.url, "readyz"), { signal });
          if (res.status !== 200) throw new Error(`enrichment at ${service.url} is not ready (${res.status}): ${excerpt(res.body)}`);
          return { status: "pass", message: `enrichment at ${service.url} ready` };
        },
      },
      {
        id: "enrichment.probe",
        component: "enrichment",
        title: `tagged Sysmon 1 + 3 enriched (${probeTag.tactic}) and joined`,
        needs: [...needs, "enrichment.ready"],
        async run(ctx) {
          if (!service) return notDeployed();
          return runProbe(endpoints, kafka, engine, ctx);
        },
      },
    ],
  };
}

async function runProbe(endpoints: StackEndpoints, kafka: KafkaSession, engine: Engine, ctx: CheckContext): Promise<CheckOutcome> {
  const probe = probeEvents();
  const topic = endpoints.kafka.eventTopics[0]!;
  const t0 = Date.now();
  let outcome: CheckOutcome | undefined;
  let failure: unknown;
  try {
    await kafka.use(async () => {
      const producer = await kafka.producer();
      // Same key: both land in one partition, in order, as a shipper keyed by host would send them.
      await producer.send({ topic, acks: -1, messages: probe.events.map((e) => ({ key: probe.hostName, value: JSON.stringify(e) })) });
    });

    const enriched = await waitForDocument(engine, eventsPattern, probe, ctx, { event_id: 1 });
    const tactics = (enriched.attack as { tactics?: unknown } | undefined)?.tactics;
    if (!Array.isArray(tactics) || !tactics.includes(probeTag.tactic)) {
      throw new Error(
        `enrichment indexed the probe's event 1 without ATT&CK tactic ${probeTag.tactic} for ${probeTag.techniqueId}: attack = ${excerpt(enriched.attack ?? null)}`,
      );
    }
    const enrichedAfter = Date.now() - t0;

    // The connection event itself is indexed too; waiting for it means the cleanup below finds every document.
    await waitForDocument(engine, eventsPattern, probe, ctx, { event_id: 3 });
    const joined = await waitForDocument(engine, processNetworkPattern, probe, ctx);
    if (joined.command_line !== probe.commandLine) {
      throw new Error(`enrichment's joined document lacks the process's command line: command_line = ${excerpt(joined.command_line ?? null)}`);
    }
    outcome = {
      status: "pass",
      message: `enriched event after ${seconds(enrichedAfter)}, joined document after ${seconds(Date.now() - t0)}, probe documents deleted`,
    };
  } catch (err) {
    failure = err;
  }
  // Clean up whatever the probe produced, also after a failure; a cleanup error only matters when it is the sole problem.
  try {
    await deleteProbeDocuments(engine, probe);
  } catch (err) {
    failure ??= new Error(`enrichment probe passed, but deleting its documents failed: ${errorMessage(err)}`);
  }
  if (failure !== undefined) throw failure;
  return outcome!;
}

/** Polls `pattern` until a document of the probe's process (and `match`) is searchable, or the deadline passes. */
async function waitForDocument(
  engine: Engine,
  pattern: string,
  probe: ProbeEvents,
  ctx: CheckContext,
  match: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const started = Date.now();
  const query = probeQuery(probe, match);
  let lastError: EngineError | undefined;
  const notYet = new Error("not indexed yet");
  const search = async () => {
    ctx.progress(`waiting for the probe's document in ${pattern} (${seconds(Date.now() - started)})`);
    try {
      const res = await engine.request<{ hits: { hits: Array<{ _source: Record<string, unknown> }> } }>({
        method: "POST",
        path: `/${pattern}/_search`,
        body: { size: 1, query },
        query: { ignore_unavailable: true, allow_no_indices: true },
      });
      const hit = res.body.hits.hits[0];
      if (hit) return hit._source;
    } catch (err) {
      // A daily index the service has just created answers 503 until its shards start: keep polling.
      // No answer at all (status 0) is an engine outage, reported at once.
      if (!(err instanceof EngineError) || !err.retryable || err.status === 0) throw err;
      lastError = err;
    }
    throw notYet;
  };
  try {
    return await retry("probe search", search, {
      initialDelayMs: pollIntervalMs,
      maxDelayMs: pollIntervalMs,
      maxElapsedMs: ctx.deadline - started,
      signal: ctx.signal,
    }, { isRetryable: (err) => err === notYet });
  } catch (err) {
    if (!(err instanceof RetryExhausted)) throw err;
    throw new Error(
      `enrichment: the probe's document (process_guid ${probe.processGuid}) did not appear in ${pattern} within ${seconds(Date.now() - started)}` +
        (lastError ? ` (last search error: ${lastError.message})` : ""),
    );
  }
}

function probeQuery(probe: ProbeEvents, match: Record<string, unknown>) {
  return {
    bool: {
      filter: [{ match_phrase: { process_guid: probe.processGuid } }, ...Object.entries(match).map(([field, value]) => ({ term: { [field]: value } }))],
    },
  };
}

/** Removes every document of the probe's process from both index patterns, so a smoke run leaves no data. */
async function deleteProbeDocuments(engine: Engine, probe: ProbeEvents): Promise<void> {
  // `_delete_by_query` only sees refreshed documents: refresh first so one indexed a moment ago goes too.
  await engine.request({
    method: "POST",
    path: `/${eventsPattern},${processNetworkPattern}/_refresh`,
    query: { ignore_unavailable: true, allow_no_indices: true },
  });
  await engine.request({
    method: "POST",
    path: `/${eventsPattern},${processNetworkPattern}/_delete_by_query`,
    body: { query: probeQuery(probe, {}) },
    query: { refresh: true, conflicts: "proceed", ignore_unavailable: true, allow_no_indices: true },
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
