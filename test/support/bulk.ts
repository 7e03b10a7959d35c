import type { Engine } from "../../lib/engine.ts";

/**
 * Bulk-indexes action/document line pairs in requests of `perRequest` documents. Item-level 5xx (a dynamic
 * mapping update that timed out on a loaded machine) are sent again, as the enrichment sink does; any other
 * item error, or a 5xx still there after 5 attempts, fails naming the first failed item.
 */
export async function bulkIndexLines(engine: Engine, lines: unknown[], perRequest = 2000): Promise<void> {
  for (let i = 0; i < lines.length; i += 2 * perRequest) {
    let batch = lines.slice(i, i + 2 * perRequest);
    for (let attempt = 1; batch.length > 0; attempt++) {
      const res = await engine.request<{ items: { index: { status: number; error?: unknown } }[] }>({ method: "POST", path: "/_bulk", bulk: batch });
      const failed = res.body.items.map((item, k) => ({ item, k })).filter(({ item }) => item.index.error);
      if (failed.some(({ item }) => item.index.status < 500) || (failed.length > 0 && attempt === 5)) {
        throw new Error(`bulk indexing failed for ${failed.length} documents: ${JSON.stringify(failed[0]!.item)}`);
      }
      batch = failed.flatMap(({ k }) => [batch[2 * k], batch[2 * k + 1]]);
    }
  }
}
