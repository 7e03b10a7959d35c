import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { projectRoot } from "../../lib/data.ts";

/** Project-relative paths of the files that `file` imports by a relative specifier (static, dynamic and type-only). */
export function relativeImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(resolve(projectRoot, file), "utf8"), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => relative(projectRoot, resolve(projectRoot, dirname(file), name)));
}

/** Packages `file` imports (`node:` built-ins left out): `zod`, `@pulumi/pulumi`, ... */
export function packageImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(resolve(projectRoot, file), "utf8"), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((name) => !name.startsWith(".") && !name.startsWith("node:"))
    .map((name) => name.split("/").slice(0, name.startsWith("@") ? 2 : 1).join("/"));
}

/** Every file reachable from `entries` through relative imports, project-relative and sorted. */
export function importClosure(entries: string[]): string[] {
  const seen = new Set<string>();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(...relativeImports(file));
  }
  return [...seen].sort();
}

/** The `.ts` files below a project folder. */
export function tsFilesUnder(folder: string): string[] {
  const dir = resolve(projectRoot, folder);
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && statSync(join(dir, name)).isFile())
    .map((name) => relative(projectRoot, join(dir, name)))
    .sort();
}
