import { describeIssue, HelkConfigError } from "./config/errors.ts";
import { crossFieldProblems } from "./config/rules.ts";
import { resolveConfig, type HelkConfig } from "./config/resolve.ts";
import { helkConfigSchema } from "./config/schema.ts";

/**
 * The HELK config, in layers (components/config/): `schema.ts` the shape, per-field checks and defaults;
 * `rules.ts` the checks between fields; `resolve.ts` the derived values; `errors.ts` the messages by key path;
 * `pulumi-keys.ts` the flat `helk:` keys of a stack file. {@link parseHelkConfig} is the one entry.
 */
export { HelkConfigError } from "./config/errors.ts";
export { CONFIG_NAMESPACE, helkSettings } from "./config/pulumi-keys.ts";
export { CREDENTIAL_SETTINGS, credentialProblems, missingAttackSource } from "./config/rules.ts";
export { matchingDashboards, publishedHost, type HelkConfig } from "./config/resolve.ts";
export { helkConfigSchema, type HelkConfigInput, type SecretValue } from "./config/schema.ts";

/** Validates a whole deployment (the `helk:` keys without their prefix, as nested objects). */
export function parseHelkConfig(raw: unknown): HelkConfig {
  const result = helkConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new HelkConfigError(result.error.issues.map(describeIssue));
  const parsed = result.data;
  const problems = crossFieldProblems(parsed);
  if (problems.length > 0) throw new HelkConfigError(problems);
  return resolveConfig(parsed);
}
