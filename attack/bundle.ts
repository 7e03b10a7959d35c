import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import chain from "stream-chain";
import { parser } from "stream-json";
import { pick } from "stream-json/filters/pick.js";
import { streamArray } from "stream-json/streamers/stream-array.js";
import { buildAttackModel, type AttackModel } from "./model.ts";
import { defaultAttackSource, isGzip, readBundleBytes, readBundleText, type SourceOptions } from "./source.ts";
import { addStixObject, AttackBundleError, emptyStixObjects, parseStixBundle } from "./stix.ts";

export type { AttackModel } from "./model.ts";
export { AttackBundleError } from "./stix.ts";

export interface LoadOptions extends SourceOptions {
  /** ATT&CK release to record when the bundle does not name one (STIX 2.0 bundles have no collection object). */
  version?: string;
}

/**
 * Loads an Enterprise ATT&CK STIX bundle (2.0 as in `mitre/cti` or 2.1 as in `attack-stix-data`) from a path or
 * URL, plain or gzipped, validates it, and builds the model. Malformed bundles throw {@link AttackBundleError}
 * naming the object id and field at fault.
 */
export async function loadAttackBundle(source: string | URL, opts: LoadOptions = {}): Promise<AttackModel> {
  const { text, name } = await readBundleText(source, opts);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AttackBundleError(`ATT&CK bundle ${name}: not JSON: ${(err as Error).message}`);
  }
  return buildAttackModel(parseStixBundle(json, name), name, opts.version);
}

/** The objects technique lookups are built from; relationships only of these kinds. */
const TECHNIQUE_OBJECT_TYPES: ReadonlySet<string> = new Set(["attack-pattern", "x-mitre-tactic", "x-mitre-matrix", "x-mitre-collection", "relationship"]);
const TECHNIQUE_RELATIONSHIPS: ReadonlySet<string> = new Set(["revoked-by", "subtechnique-of"]);

/**
 * The model with what technique lookups (`AttackLookup`) need and nothing else: techniques with their tactics in
 * matrix order, parents and revocations. The bundle is read object by object (a streaming JSON parser over the
 * gunzipped bytes), and only those objects are validated and kept, so the whole bundle (33 MB of text, several
 * times that parsed) is never in memory: what the enrichment service loads at start-up. Groups, software,
 * mitigations and detection strategies stay empty; {@link loadAttackBundle} reads everything.
 */
export async function loadTechniqueModel(source: string | URL, opts: LoadOptions = {}): Promise<AttackModel> {
  const { bytes, name } = await readBundleBytes(source, opts);
  const stix = emptyStixObjects();
  const input = Readable.from([bytes]);
  const objects = chain([isGzip(bytes) ? input.pipe(createGunzip()) : input, parser(), pick({ filter: "objects" }), streamArray()]);
  let count = 0;
  try {
    for await (const { key, value } of objects as AsyncIterable<{ key: number; value: unknown }>) {
      count++;
      const { type, relationship_type } = (value ?? {}) as { type?: unknown; relationship_type?: unknown };
      if (typeof type === "string" && !TECHNIQUE_OBJECT_TYPES.has(type)) continue;
      if (type === "relationship" && !TECHNIQUE_RELATIONSHIPS.has(String(relationship_type))) continue;
      addStixObject(stix, value, key, name);
    }
  } catch (err) {
    if (err instanceof AttackBundleError) throw err;
    const corruptGzip = (err as NodeJS.ErrnoException).code?.startsWith("Z_");
    throw new AttackBundleError(`ATT&CK bundle ${name}: ${corruptGzip ? "gzip data is corrupt" : "not JSON"}: ${(err as Error).message}`);
  }
  if (count === 0) throw new AttackBundleError(`ATT&CK bundle ${name}: not a STIX bundle: no objects`, undefined, "objects");
  return buildAttackModel(stix, name, opts.version);
}

/** Loads the bundle from {@link defaultAttackSource}; a failure names every place tried. */
export async function loadDefaultAttackBundle(opts: LoadOptions = {}): Promise<AttackModel> {
  const { source, tried } = defaultAttackSource();
  try {
    return await loadAttackBundle(source, opts);
  } catch (err) {
    if (err instanceof AttackBundleError || tried.length === 0) throw err;
    throw new Error(`no usable ATT&CK bundle; tried: ${tried.join("; ")}. Last error: ${(err as Error).message}`, { cause: err });
  }
}
