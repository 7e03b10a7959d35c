import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The service's Prometheus metrics (issue 4, Operations). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "helk_enrichment_" });
  const registers = [registry];
  return {
    registry,
    eventsIn: new Counter({ name: "helk_enrichment_events_in_total", help: "Kafka messages read", labelNames: ["topic"], registers }),
    indexed: new Counter({
      name: "helk_enrichment_indexed_total",
      help: "Documents the engine accepted, by kind (event, process_network)",
      labelNames: ["kind"],
      registers,
    }),
    deadLettered: new Counter({
      name: "helk_enrichment_dead_lettered_total",
      help: "Messages sent to the dead-letter topic, by stage (parse: rejected by a transform; index: rejected by the engine)",
      labelNames: ["stage"],
      registers,
    }),
    joined: new Counter({ name: "helk_enrichment_joined_total", help: "Network connections joined with their process", registers }),
    unjoined: new Counter({
      name: "helk_enrichment_unjoined_total",
      help: "Network connections whose process was found neither in the cache nor in the index",
      registers,
    }),
    bulkSeconds: new Histogram({
      name: "helk_enrichment_bulk_seconds",
      help: "Latency of bulk requests to the engine",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    bulkInFlight: new Gauge({ name: "helk_enrichment_bulk_requests_in_flight", help: "Bulk requests sent and not answered yet", registers }),
    bulkRetries: new Counter({ name: "helk_enrichment_bulk_retries_total", help: "Bulk requests (or items) retried after no answer, 429 or 5xx", registers }),
    consumerLag: new Gauge({
      name: "helk_enrichment_consumer_lag",
      help: "Messages behind the partition's high watermark at the last batch",
      labelNames: ["topic", "partition"],
      registers,
    }),
    cacheSize: new Gauge({ name: "helk_enrichment_join_cache_entries", help: "Process contexts in the join cache", registers }),
    cacheBytes: new Gauge({ name: "helk_enrichment_join_cache_bytes", help: "Estimated bytes of the process contexts in the join cache (capped by HELK_JOIN_CACHE_BYTES)", registers }),
    waiting: new Gauge({ name: "helk_enrichment_join_waiting", help: "Connections waiting for their process", registers }),
    waitingBytes: new Gauge({
      name: "helk_enrichment_join_waiting_bytes",
      help: "Estimated bytes of the connections waiting for their process, their messages included (capped by HELK_JOIN_WAITING_BYTES)",
      registers,
    }),
    stalled: new Gauge({
      name: "helk_enrichment_pipeline_stalled",
      help: "1 while writes have failed, or nothing was written while work waited, for HELK_STALL_AFTER_MS or more (/readyz says why)",
      registers,
    }),
    paused: new Gauge({ name: "helk_enrichment_consumption_paused", help: "1 while consumption is paused: a stall, or the engine blocking writes (/readyz says why)", registers }),
    peakRss: new Gauge({
      name: "helk_enrichment_peak_rss_bytes",
      help: "Largest resident set size of the process so far (VmHWM)",
      registers,
      collect() {
        this.set(process.resourceUsage().maxRSS * 1024);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
