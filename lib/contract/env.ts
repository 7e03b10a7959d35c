import { z } from "zod";

/**
 * What the deploy side and the runtime side of HELK agree on about a container's environment. The components
 * write env only through the `toEnv` functions of this folder; the processes in the image read it only through
 * the matching `fromEnv`, which parse with the same zod schemas.
 */

/** Keys of the credentials every renderer can inject (Kubernetes: keys of the credentials Secret). */
export type CredentialKey = "engine-password" | "dashboards-password" | "jupyter-token";

/** An env value as the deploy side writes it: plain text, or a credential the renderer injects. */
export type EnvValue = string | { credential: CredentialKey };

type HttpClientEnvShape<P extends string, K extends readonly [string, ...string[]]> = Record<`${P}_KIND`, z.ZodEnum<{ [k in K[number]]: k }>> &
  Record<`${P}_URL`, z.ZodURL> &
  Record<`${P}_USERNAME`, z.ZodOptional<z.ZodString>> &
  Record<`${P}_PASSWORD`, z.ZodOptional<z.ZodString>>;

/**
 * What a client of an HTTP server reads, under one prefix: which product (one of `kinds`), its http(s) URL and
 * the optional basic-auth login. Returns the variable names and their schema.
 */
export function httpClientEnv<P extends string, const K extends readonly [string, ...string[]]>(prefix: P, kinds: K) {
  const names = { kind: `${prefix}_KIND`, url: `${prefix}_URL`, username: `${prefix}_USERNAME`, password: `${prefix}_PASSWORD` } as const;
  const shape = {
    [names.kind]: z.enum(kinds),
    [names.url]: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    [names.username]: z.string().min(1).optional(),
    [names.password]: z.string().optional(),
  } as HttpClientEnvShape<P, K>;
  return { names, shape };
}

/** A comma-separated list with empty items dropped; at least one item. */
export const commaList = (what: string) =>
  z
    .string()
    .transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x !== ""))
    .refine((items) => items.length > 0, `must list at least one ${what} (comma-separated)`);

/** A whole number written in decimal, within [min, max]. */
export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** JSON text holding what `schema` accepts; `what` names the expected shape in the message when it is not JSON. */
export const jsonText = <S extends z.ZodType>(schema: S, what: string) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: `must be JSON: ${what}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** `"true"` or `"false"` (default false), as a boolean. */
export const flag = () => z.enum(["true", "false"]).default("false").transform((v) => v === "true");

/** The settings that are set, as env entries under the variable names `names` gives them. */
export function namedEnv<K extends string>(names: Record<K, string>, settings: Partial<Record<K, string | undefined>>): Record<string, string> {
  const entries = (Object.keys(names) as K[]).flatMap((key) => (settings[key] === undefined ? [] : [[names[key], settings[key]]]));
  return Object.fromEntries(entries);
}

/** The reverse of {@link namedEnv}: the settings whose variables are set in `env`. */
export function namedSettings<K extends string>(names: Record<K, string>, env: Record<string, unknown>): Partial<Record<K, string>> {
  const entries = (Object.keys(names) as K[]).flatMap((key) => (env[names[key]] === undefined ? [] : [[key, String(env[names[key]])]]));
  return Object.fromEntries(entries) as Partial<Record<K, string>>;
}

/** Thrown for an environment that does not satisfy a contract; the message names every bad variable. */
export class EnvContractError extends Error {
  override name = "EnvContractError";
}

/**
 * Parses the `HELK_*` variables of `env` (empty values count as unset) with `schema`. The error names every
 * bad or missing variable and why, and never shows a password's value.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  what: string,
  makeError: (message: string) => Error = (message) => new EnvContractError(message),
): z.output<S> {
  const relevant = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("HELK_") && v !== undefined && v !== ""));
  const parsed = schema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `${issue.keys.join(", ")}: not read by this process (unknown variable)`;
    const variable = String(issue.path[0] ?? "?");
    const value = relevant[variable];
    const shown = value === undefined ? "not set" : /(PASSWORD|TOKEN)$/.test(variable) ? "set" : `"${value}"`;
    // Inside a JSON variable, where in its value.
    const inside = issue.path.length > 1 ? `${issue.path.slice(1).join(".")}: ` : "";
    return `${variable} (${shown}): ${inside}${value === undefined && issue.code === "invalid_type" ? "required" : issue.message}`;
  });
  throw makeError(`invalid ${what}:\n  ${problems.join("\n  ")}`);
}
