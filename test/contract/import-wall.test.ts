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
