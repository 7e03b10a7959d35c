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
    waiting: new Gauge({ name: "helk_enrichment_join_waiting", help: "Connections waiting for their process", registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
