import { describe, expect, it } from "vitest";
import { relativeImports, tsFilesUnder } from "./imports.ts";

/** Folders whose code ships or deploys; they never import development tooling. */
const PRODUCT = ["attack", "cli", "components", "dashboards", "detections", "enrichment", "lib", "setup", "smoke"];
const DEV_TOOLING = /^(harness|test|bench|e2e)\//;

/** `file -> imported` for every import of development tooling from the given files. */
function wallBreaches(files: string[]): string[] {
  return files.flatMap((file) => relativeImports(file).filter((target) => DEV_TOOLING.test(target)).map((target) => `${file} -> ${target}`));
}

describe("product code imports no development tooling", () => {
  const files = [...PRODUCT.flatMap(tsFilesUnder), "index.ts"];

  it("reads every product folder", () => {
    for (const folder of PRODUCT) expect(tsFilesUnder(folder).length, folder).toBeGreaterThan(0);
  });

  it("has no import of harness/, test/, bench/ or e2e/", () => expect(wallBreaches(files)).toEqual([]));

  it("would report one (checked on a file of the harness importing its own cache)", () => {
    expect(wallBreaches(["harness/maven.ts"])).toEqual(["harness/maven.ts -> harness/cache.ts"]);
  });
});

/** `a<->b` for each pair of the given folders whose files import each other, sorted. */
function mutualImports(folders: string[]): string[] {
  const edges = new Set<string>();
  for (const folder of folders)
    for (const file of tsFilesUnder(folder))
      for (const target of relativeImports(file)) {
        const to = target.split("/")[0]!;
        if (to !== folder && folders.includes(to)) edges.add(`${folder}->${to}`);
      }
  return [...edges]
    .map((edge) => edge.split("->") as [string, string])
    .filter(([from, to]) => from < to && edges.has(`${to}->${from}`))
    .map(([from, to]) => `${from}<->${to}`)
    .sort();
}

/** `file -> imported` for every import by the given files of a file outside `folder`. */
function importsLeaving(folder: string, files: string[]): string[] {
  return files.flatMap((file) => relativeImports(file).filter((target) => !target.startsWith(`${folder}/`)).map((target) => `${file} -> ${target}`));
}

describe("folders depend one way", () => {
  it("no two product folders import each other (smoke uses dashboards, never the reverse)", () => {
    expect(mutualImports(PRODUCT)).toEqual([]);
  });

  // lib/ is what every other folder shares: what two of them agree on lives in lib/contract/, never in one of them.
  it("lib imports nothing outside lib (no enrichment/, attack/, components/, ...)", () => {
    expect(importsLeaving("lib", tsFilesUnder("lib"))).toEqual([]);
  });

  it("would report one (checked on the service's templates, which read the channel mappings)", () => {
    expect(importsLeaving("lib", ["enrichment/templates.ts"])).toContain("enrichment/templates.ts -> enrichment/transforms/channels/index.ts");
  });

  it("benchmarks import no tests (what both use lives in harness/ or product code)", () => {
    const breaches = tsFilesUnder("bench").flatMap((file) => relativeImports(file).filter((t) => t.startsWith("test/")).map((t) => `${file} -> ${t}`));
    expect(breaches).toEqual([]);
  });
});
