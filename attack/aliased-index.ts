import { EngineError, type Engine } from "../lib/engine.ts";

/** Progress of a bulk load: documents indexed so far out of the total. */
export type ProgressListener = (done: number, total: number) => void;

export interface AliasedIndexSpec {
  /** The name readers use, e.g. `helk-mitre-attack`. */
  alias: string;
  /** The concrete index behind the alias, e.g. `helk-mitre-attack-18.1-20261129t213000z`; must start with `${alias}-`. */
  index: string;
  mappings: Record<string, unknown>;
  /** Documents with their `_id`. */
  docs: readonly { id: string; doc: Record<string, unknown> }[];
  onProgress?: ProgressListener;
  /** Documents per `_bulk` request. Default 1000. */
  batchSize?: number;
}

export interface AliasedIndexResult {
  index: string;
  count: number;
  /** Indices removed: the ones the alias pointed at before, and leftovers of failed loads. */
  deleted: string[];
}

/**
 * Fills a fresh versioned index, then points the alias at it and only it in one `_aliases` call (readers never see
 * a half-loaded or empty index), then deletes every other `${alias}-*` index, so loading twice leaves one copy.
 * A concrete index that squats on the alias name is removed in the same atomic call.
 */
export async function replaceAliasedIndex(engine: Engine, spec: AliasedIndexSpec): Promise<AliasedIndexResult> {
  if (!spec.index.startsWith(`${spec.alias}-`) || spec.index !== spec.index.toLowerCase()) {
    throw new Error(`index ${spec.index} must be lower case and start with ${spec.alias}-`);
  }
  await engine.request({ method: "DELETE", path: `/${spec.index}`, ignore: [404] });
  await engine.request({
    method: "PUT",
    path: `/${spec.index}`,
    body: { settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: "-1" }, mappings: spec.mappings },
  });
  const batchSize = spec.batchSize ?? 1000;
  for (let start = 0; start < spec.docs.length; start += batchSize) {
    const batch = spec.docs.slice(start, start + batchSize);
    const res = await engine.request<BulkResponse>({
      method: "POST",
      path: `/${spec.index}/_bulk`,
      bulk: batch.flatMap(({ id, doc }) => [{ index: { _id: id } }, doc]),
    });
    if (res.body.errors) {
      const failed = res.body.items.map((i) => i.index).find((i) => i?.error);
      throw new EngineError(`bulk into ${spec.index} rejected document ${failed?._id}: ${JSON.stringify(failed?.error)}`, failed?.status ?? 400, res.body);
    }
    spec.onProgress?.(start + batch.length, spec.docs.length);
  }
  await engine.request({ method: "PUT", path: `/${spec.index}/_settings`, body: { index: { refresh_interval: null } } });
  await engine.request({ method: "POST", path: `/${spec.index}/_refresh` });
  const count = (await engine.request<{ count: number }>({ method: "GET", path: `/${spec.index}/_count` })).body.count;
  if (count !== spec.docs.length) throw new Error(`${spec.index} holds ${count} documents after loading ${spec.docs.length}`);

  const existing = await engine.request<Record<string, { aliases?: Record<string, unknown> }>>({
    method: "GET",
    path: `/${spec.alias}*/_alias`,
    query: { expand_wildcards: "open,closed" },
  });
  const others = Object.keys(existing.body).filter((name) => name !== spec.index && (name === spec.alias || name.startsWith(`${spec.alias}-`)));
  const squatter = others.includes(spec.alias);
  await engine.request({
    method: "POST",
    path: "/_aliases",
    body: {
      actions: [
        ...others.filter((name) => name !== spec.alias && existing.body[name]?.aliases?.[spec.alias]).map((index) => ({ remove: { index, alias: spec.alias } })),
        ...(squatter ? [{ remove_index: { index: spec.alias } }] : []),
        { add: { index: spec.index, alias: spec.alias } },
      ],
    },
  });
  const deleted = others.filter((name) => name !== spec.alias);
  for (const index of deleted) await engine.request({ method: "DELETE", path: `/${index}`, ignore: [404] });
  return { index: spec.index, count, deleted: squatter ? [spec.alias, ...deleted] : deleted };
}

interface BulkResponse {
  errors: boolean;
  items: { index?: { _id?: string; status?: number; error?: unknown } }[];
}

/** A lower-case, index-name-safe stamp of the current time, e.g. `20261129t213000123z`, to version indices. */
export function indexStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:.]/g, "").toLowerCase();
}
