import type { Logger } from "pino";
import { type Engine, EngineError } from "../lib/engine.ts";
import type { Metrics } from "./metrics.ts";
import { retrying, type RetryOptions } from "./retry.ts";
import type { IndexAction } from "./transforms/index.ts";

/** One document to index and what it came from (handed back if the engine rejects it). */
export interface SinkItem<S> {
  action: IndexAction;
  kind: "event" | "process_network";
  source: S;
}

export interface SinkRejection<S> {
  item: SinkItem<S>;
  status: number;
  reason: string;
}

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { reason?: string } };
}

interface BulkResponse {
  errors: boolean;
  items: Record<string, BulkItemResult>[];
}

/** Bulk requests stay well under the engines' default 100 MB request limit. */
const MAX_REQUEST_CHARS = 16 * 1024 * 1024;

interface Serialized<S> {
  item: SinkItem<S>;
  line: string;
}

/** The `_bulk` lines (action and document) that index one document. */
export function bulkLine(action: IndexAction): string {
  return `{"index":{"_index":"${action.index}","_id":"${action.id}"}}\n${JSON.stringify(action.doc)}\n`;
}

/** Item statuses worth another try: the engine was busy or broken, the document was fine. */
const retryableStatus = (status: number) => status === 429 || status >= 500;

/**
 * Bulk indexer: sends documents in requests of at most `maxDocs` (and 16 M characters), retries whole requests
 * that failed (no answer, 429/5xx, or any other error such as a 401 until credentials are fixed: a write is
 * never dropped) and single items the engine answered 429/5xx for, and returns the items the engine rejected
 * for good (mapping conflicts, bad values), each with the engine's reason.
 */
export class BulkSink {
  constructor(
    private readonly engine: Engine,
    private readonly options: { maxDocs: number; metrics: Metrics; log: Logger; retry: Omit<RetryOptions, "log"> },
  ) {}

  async index<S>(items: SinkItem<S>[]): Promise<SinkRejection<S>[]> {
    const rejected: SinkRejection<S>[] = [];
    let chunk: Serialized<S>[] = [];
    let bytes = 0;
    for (const item of items) {
      const line = bulkLine(item.action);
      if (chunk.length > 0 && (chunk.length >= this.options.maxDocs || bytes + line.length > MAX_REQUEST_CHARS)) {
        rejected.push(...(await this.indexChunk(chunk)));
        chunk = [];
        bytes = 0;
      }
      chunk.push({ item, line });
      bytes += line.length;
    }
    if (chunk.length > 0) rejected.push(...(await this.indexChunk(chunk)));
    return rejected;
  }

  private async indexChunk<S>(chunk: Serialized<S>[]): Promise<SinkRejection<S>[]> {
    const rejected: SinkRejection<S>[] = [];
    let pending = chunk;
    while (pending.length > 0) {
      const response = await retrying(
        `bulk request of ${pending.length} documents`,
        () => this.send(pending),
        (err) => err instanceof EngineError,
        { ...this.options.retry, log: this.options.log, onRetry: () => this.options.metrics.bulkRetries.inc() },
      );
      const again: Serialized<S>[] = [];
      response.items.forEach((entry, i) => {
        const serialized = pending[i]!;
        const item = serialized.item;
        const result = entry.index ?? Object.values(entry)[0]!;
        if (result.status < 300) this.options.metrics.indexed.inc({ kind: item.kind });
        else if (retryableStatus(result.status)) again.push(serialized);
        else rejected.push({ item, status: result.status, reason: itemReason(result) });
      });
      if (again.length > 0) {
        this.options.metrics.bulkRetries.inc();
        this.options.log.warn({ items: again.length }, "engine refused items for now (429/5xx); retrying them");
        await new Promise((r) => setTimeout(r, 500));
      }
      pending = again;
    }
    return rejected;
  }

  private async send<S>(items: Serialized<S>[]): Promise<BulkResponse> {
    let body = "";
    for (const { line } of items) body += line;
    const end = this.options.metrics.bulkSeconds.startTimer();
    try {
      const res = await this.engine.request<BulkResponse>({ method: "POST", path: "/_bulk", bulk: body });
      if (!Array.isArray(res.body?.items) || res.body.items.length !== items.length) {
        throw new EngineError(`bulk answer has ${res.body?.items?.length ?? "no"} items for ${items.length} documents`, 0);
      }
      return res.body;
    } finally {
      end();
    }
  }
}

function itemReason(result: BulkItemResult): string {
  const e = result.error;
  if (!e) return `engine answered ${result.status}`;
  const cause = e.caused_by?.reason ? ` (caused by: ${e.caused_by.reason})` : "";
  return `engine rejected the document (${result.status} ${e.type ?? "error"}): ${e.reason ?? ""}${cause}`;
}
