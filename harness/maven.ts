import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { cacheDir } from "../lib/cache-dir.ts";
import { ensureBuilt } from "./cache.ts";

const run = promisify(execFile);

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
}

/** A pom whose only job is to pull `artifacts` and their runtime dependencies. */
function resolverPom(name: string, artifacts: readonly MavenArtifact[]): string {
  const dependencies = artifacts
    .map(
      (a) =>
        `    <dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId>` +
        `<version>${a.version}</version></dependency>`,
    )
    .join("\n");
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>helk.harness</groupId>
  <artifactId>${name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${dependencies}
  </dependencies>
</project>
`;
}

/**
 * Resolves `artifacts` with Maven (from Maven Central into the local Maven repository) and copies the jars into
 * `<cache>/<name>/libs`, once per machine. Returns the cache directory of this artifact set.
 */
export async function resolveJars(name: string, artifacts: readonly MavenArtifact[]): Promise<string> {
  const dir = join(cacheDir(), name);
  const pom = resolverPom(name, artifacts);
  await ensureBuilt(dir, pom, async () => {
    const libs = join(dir, "libs");
    rmSync(libs, { recursive: true, force: true });
    writeFileSync(join(dir, "pom.xml"), pom);
    try {
      await run(
        "mvn",
        ["-B", "-q", "-f", join(dir, "pom.xml"), "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${libs}`],
        { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
      );
    } catch (error) {
      const { stdout = "", stderr = "", message } = error as { stdout?: string; stderr?: string; message: string };
      const output = `${stdout}\n${stderr}`.trim().split("\n").slice(-30).join("\n");
      throw new Error(`Maven could not resolve ${name} (${join(dir, "pom.xml")}): ${message}\n${output}`);
    }
  });
  return dir;
}

/** The classpath of every jar in a resolved artifact set, for `java -cp`. */
export function classpath(dir: string, ...extra: string[]): string {
  return [...extra, join(dir, "libs", "*")].join(":");
}
