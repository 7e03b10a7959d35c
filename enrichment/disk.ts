import type { Logger } from "pino";
import type { Engine } from "../lib/engine.ts";
import { backoffDelay } from "../lib/retry.ts";

/** A disk watermark as the engine reads it: a share of the disk used, or an amount of space left free. */
export type Watermark = { usedRatio: number } | { freeBytes: number };

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };

/**
 * Parses a `cluster.routing.allocation.disk.watermark.*` value: `95%` or `0.95` (share of the disk used), or a
 * byte size such as `500mb` or `1b` (space that must stay free). Throws on anything else.
 */
export function parseWatermark(value: string): Watermark {
  const text = value.trim().toLowerCase();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) return { usedRatio: Number(percent[1]) / 100 };
  if (/^\d*\.\d+$|^[01]$/.test(text)) return { usedRatio: Number(text) };
  const bytes = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|pb)$/.exec(text);
  if (bytes) return { freeBytes: Number(bytes[1]) * UNITS[bytes[2]!]! };
  throw new Error(`not a disk watermark: ${JSON.stringify(value)}`);
}

/**
 * Whether a node's disk is past a watermark. A share leaves `total × (1 − share)` free, at most `maxHeadroomBytes`
 * when the engine has one (Elasticsearch 8+: `...flood_stage.max_headroom`).
 */
export function pastWatermark(disk: { totalBytes: number; availableBytes: number }, watermark: Watermark, maxHeadroomBytes?: number): boolean {
  if ("freeBytes" in watermark) return disk.availableBytes < watermark.freeBytes;
  let mustStayFree = disk.totalBytes * (1 - watermark.usedRatio);
  if (maxHeadroomBytes !== undefined) mustStayFree = Math.min(mustStayFree, maxHeadroomBytes);
  return disk.availableBytes < mustStayFree;
}

const DISK_SETTINGS = "cluster.routing.allocation.disk";

/** A cluster setting's value in effect: transient over persistent over the default (flat settings). */
function effective(settings: Record<string, Record<string, string> | undefined>, key: string): string | undefined {
  return settings.transient?.[key] ?? settings.persistent?.[key] ?? settings.defaults?.[key];
}

interface NodeFs {
  roles?: string[];
  fs?: { total?: { total_in_bytes?: number; available_in_bytes?: number } };
}

/**
 * The engine's flood-stage write block (`index.blocks.read_only_allow_delete`, set when a node's disk passes the
 * flood-stage watermark): while the sink reports it, a watch asks the engine, with capped backoff, whether every
 * data node is back under the watermark (or the check is off); then it lifts the block from `indices` itself,
 * since an engine whose disk check was turned off, or an older one, never releases it.
 */
export class DiskGuard {
  private watching: Promise<void> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly options: {
      /** Index patterns whose block is lifted (the indices the service writes). */
      indices: string[];
      maxDelayMs: number;
      log: Logger;
      /** The block is lifted: writes may go on. */
      onReleased: () => void;
      /** True once the service stops: the watch ends. */
      stopped: () => boolean;
    },
  ) {}

  /** The sink met the block: watches until disk space is back, then lifts it (one watch at a time). */
  blocked(): void {
    this.watching ??= this.watch().finally(() => (this.watching = undefined));
  }

  private async watch(): Promise<void> {
    for (let round = 0; !this.options.stopped(); round++) {
      await new Promise((r) => setTimeout(r, backoffDelay(round, { initialDelayMs: 1000, maxDelayMs: this.options.maxDelayMs })));
      try {
        const full = await this.fullNodes();
        if (full.length > 0) {
          if (round % 10 === 0) this.options.log.warn({ nodes: full }, "engine disk still past its flood-stage watermark; consumption stays paused");
          continue;
        }
        await this.engine.request({
          method: "PUT",
          path: `/${this.options.indices.join(",")}/_settings`,
          query: { ignore_unavailable: true, allow_no_indices: true, expand_wildcards: "all" },
          body: { "index.blocks.read_only_allow_delete": null },
        });
        this.options.log.info({ indices: this.options.indices }, "engine disk back under its flood-stage watermark: write block lifted, consuming again");
        this.options.onReleased();
        return;
      } catch (err) {
        this.options.log.warn({ err: (err as Error).message }, "checking the engine's disk failed; trying again");
      }
    }
  }

  /** Data nodes past the flood-stage watermark now (none when the engine's disk check is off). */
  private async fullNodes(): Promise<string[]> {
    const settings = await this.engine.request<Record<string, Record<string, string>>>({
      method: "GET",
      path: "/_cluster/settings",
      // No filter_path: it does not match flat (dotted) keys; this runs only while writes are blocked.
      query: { include_defaults: true, flat_settings: true },
    });
    if (effective(settings.body, `${DISK_SETTINGS}.threshold_enabled`) === "false") return [];
    const watermark = parseWatermark(effective(settings.body, `${DISK_SETTINGS}.watermark.flood_stage`) ?? "95%");
    const headroom = effective(settings.body, `${DISK_SETTINGS}.watermark.flood_stage.max_headroom`);
    const headroomBytes = headroom === undefined || headroom === "-1" ? undefined : (parseWatermark(headroom) as { freeBytes: number }).freeBytes;
    const stats = await this.engine.request<{ nodes: Record<string, NodeFs & { name?: string }> }>({
      method: "GET",
      path: "/_nodes/stats/fs",
      query: { filter_path: "nodes.*.name,nodes.*.roles,nodes.*.fs.total" },
    });
    return Object.entries(stats.body.nodes ?? {})
      .filter(([, node]) => node.roles === undefined || node.roles.some((role) => role === "data" || role.startsWith("data_")))
      .filter(([, node]) => {
        const total = node.fs?.total;
        if (total?.total_in_bytes === undefined || total.available_in_bytes === undefined) return false;
        return pastWatermark({ totalBytes: total.total_in_bytes, availableBytes: total.available_in_bytes }, watermark, headroomBytes);
      })
      .map(([id, node]) => node.name ?? id);
  }
}

/** Whether an engine error (of an item or a whole request) is the flood-stage disk block. */
export function isDiskBlock(type: string | undefined, reason: string | undefined): boolean {
  return type === "cluster_block_exception" && /read.only.allow.delete|flood.stage/i.test(reason ?? "");
}
