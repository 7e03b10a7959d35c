import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { helkCommand } from "../../components/setup.ts";
import { ENRICHMENT_DOCKERFILE } from "../../components/enrichment.ts";
import { projectRoot } from "../../lib/data.ts";
import { importClosure, packageImports } from "./imports.ts";

// What the enrichment image holds, read from its Dockerfile's COPY lines and the context's .dockerignore (the lead
// checks the built image itself with Docker). The image must run the service and every setup job, and nothing else.

const dockerfile = readFileSync(resolve(projectRoot, ENRICHMENT_DOCKERFILE), "utf8");
const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

/** Sources of the final stage's COPY instructions (from the build context, not from another stage). */
const copied = [...finalStage.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1));

/** Top-level names the context leaves out: `.dockerignore` lines without a slash or wildcard in the middle. */
const ignored = readFileSync(resolve(projectRoot, ".dockerignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));
const ignoredBy = (path: string) =>
  ignored.some((pattern) => {
    const top = path.split("/")[0]!;
    return pattern.startsWith("*.") ? !path.includes("/") && path.endsWith(pattern.slice(1)) : top === pattern || path === pattern;
  });

/** Tracked files of the project the COPY lines take into the image. */
const imageFiles = execFileSync("git", ["ls-files"], { cwd: projectRoot, encoding: "utf8" })
  .split("\n")
  .filter((path) => path !== "" && !ignoredBy(path))
  .filter((path) => copied.some((source) => path === source || path.startsWith(`${source.replace(/\/$/, "")}/`)))
  .sort();

/** The image's entry points: the default command (the service) and the `helk` CLI the setup jobs run. */
const serviceEntry = /"([\w/.-]+\.ts)"\]\s*$/m.exec(finalStage.slice(finalStage.lastIndexOf("CMD")))![1]!;
const cliEntry = helkCommand().find((arg) => arg.endsWith(".ts"))!;

describe("enrichment image contents", () => {
  it("copies explicit folders, never the whole context", () => {
    expect(copied).not.toContain(".");
    expect(copied).toEqual(["package.json", "package-lock.json", "tsconfig.json", "attack", "cli", "dashboards", "detections", "enrichment", "lib", "setup", "smoke"]);
  });

  it("holds every file the service and the setup jobs import", () => {
    const needed = importClosure([serviceEntry, cliEntry]);
    expect(needed).toContain("enrichment/main.ts");
    expect(needed.filter((file) => !imageFiles.includes(file))).toEqual([]);
  });

  // The image installs with `npm ci --omit=dev`: "dependencies" is exactly what its files import, plus the loader
  // its commands run with (`node --import tsx`); the Pulumi program's packages stay in "devDependencies".
  describe("production dependencies", () => {
    const { dependencies, devDependencies } = JSON.parse(readFileSync(resolve(projectRoot, "package.json"), "utf8")) as Record<
      "dependencies" | "devDependencies",
      Record<string, string>
    >;
    const imported = new Set(imageFiles.filter((file) => file.endsWith(".ts")).flatMap(packageImports));
    const loaders = [...finalStage.matchAll(/"--import",\s*"([^"]+)"/g)].map((m) => m[1]!);

    it("lists every package the image's files import", () => {
      expect(imported).toContain("kafkajs");
      expect([...imported].filter((name) => !(name in dependencies))).toEqual([]);
    });

    it("lists nothing else, so the deploy side's packages stay out of the image", () => {
      expect(loaders).toEqual(["tsx"]);
      expect(Object.keys(dependencies).filter((name) => !imported.has(name) && !loaders.includes(name))).toEqual([]);
      for (const deployOnly of ["@pulumi/pulumi", "@pulumi/docker", "@pulumi/kubernetes", "@pulumi/random", "cdk8s", "cdk8s-plus-27", "constructs"])
        expect(devDependencies, deployOnly).toHaveProperty([deployOnly]);
    });
  });

  it("holds no development tooling, tests, stacks or Pulumi program", () => {
    const devOnly = /^(harness|test|bench|e2e|lab|stacks|components)\/|^index\.ts$|^Pulumi\.yaml$|\.test\.ts$/;
    expect(imageFiles.filter((file) => devOnly.test(file))).toEqual([]);
  });

  it("holds only TypeScript sources, the Sigma converter's Python, the Dockerfile and the package manifests", () => {
    expect(imageFiles.filter((file) => !file.endsWith(".ts"))).toEqual([
      "detections/python/convert.py",
      "detections/python/requirements.txt",
      "enrichment/Dockerfile",
      "package-lock.json",
      "package.json",
      "tsconfig.json",
    ]);
  });
});
