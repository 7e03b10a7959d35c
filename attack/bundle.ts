import { buildAttackModel, type AttackModel } from "./model.ts";
import { defaultAttackSource, readBundleText, type SourceOptions } from "./source.ts";
import { AttackBundleError, parseStixBundle } from "./stix.ts";

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
