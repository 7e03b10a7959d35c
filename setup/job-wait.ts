import { readFileSync } from "node:fs";
import { join } from "node:path";
import { httpsJson } from "../lib/https-json.ts";

/** Where Kubernetes mounts a pod's service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** How a pod reaches its cluster's API server: the standard in-cluster env and service-account files. */
export interface InClusterApi {
  url: string;
  namespace: string;
  /** Read at each request: projected tokens are rotated by the kubelet. */
  token: () => string;
  ca: Buffer;
}

/**
 * The API server of the cluster this pod runs in (KUBERNETES_SERVICE_HOST/PORT, files in `accountDir`). Fails
 * naming what is missing: outside a pod, or in a pod without the service-account token mounted.
 */
export function inClusterApi(env: NodeJS.ProcessEnv = process.env, accountDir = SERVICE_ACCOUNT_DIR): InClusterApi {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error("KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set: not running in a Kubernetes pod");
  const read = (name: string) => {
    try {
      return readFileSync(join(accountDir, name));
    } catch (error) {
      throw new Error(`no service-account ${name} at ${accountDir} (is the token volume mounted?): ${(error as Error).message}`);
    }
  };
  return {
    url: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    namespace: read("namespace").toString("utf8").trim(),
    token: () => read("token").toString("utf8").trim(),
    ca: read("ca.crt"),
  };
}

export type JobState = { state: "complete" } | { state: "failed"; reason: string } | { state: "pending" };

/** Whether a Job in the pod's namespace has completed, failed for good, or neither yet (or does not exist yet). */
export async function jobState(api: InClusterApi, name: string): Promise<JobState> {
  const res = await httpsJson(`${api.url}/apis/batch/v1/namespaces/${encodeURIComponent(api.namespace)}/jobs/${encodeURIComponent(name)}`, {
    method: "GET",
    headers: { Authorization: `Bearer ${api.token()}` },
    tls: { ca: api.ca },
  });
  if (res.status === 404) return { state: "pending" };
  if (res.status !== 200) throw new Error(`reading Job ${api.namespace}/${name}: HTTP ${res.status}: ${res.body?.message ?? res.body}`);
  const conditions: { type: string; status: string; reason?: string; message?: string }[] = res.body.status?.conditions ?? [];
  const holds = (type: string) => conditions.find((c) => c.type === type && c.status === "True");
  if (holds("Complete")) return { state: "complete" };
  const failed = holds("Failed");
  if (failed) return { state: "failed", reason: [failed.reason, failed.message].filter(Boolean).join(": ") || "Failed" };
  return { state: "pending" };
}

/**
 * Waits until every named Job has completed: what an init container runs so that a workload starts only after
 * the setup Jobs it needs, whichever tool applied the manifests. Fails at once when one of them failed for good
 * (the pod is retried by its controller), and after `waitSeconds` naming those still pending.
 */
export async function waitForJobs(
  api: InClusterApi,
  names: string[],
  options: { waitSeconds: number; pollMs?: number; log?: (line: string) => void },
): Promise<void> {
  const log = options.log ?? ((line: string) => console.error(line));
  const deadline = Date.now() + options.waitSeconds * 1000;
  let pending = [...names];
  log(`waiting for setup Jobs ${pending.join(", ")} in ${api.namespace}`);
  while (pending.length > 0) {
    const states = await Promise.all(pending.map(async (name) => [name, await jobState(api, name)] as const));
    for (const [name, state] of states) {
      if (state.state === "failed") throw new Error(`setup Job ${name} failed (${state.reason}); not starting`);
      if (state.state === "complete") log(`setup Job ${name} complete`);
    }
    pending = states.filter(([, state]) => state.state === "pending").map(([name]) => name);
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`setup Jobs ${pending.join(", ")} did not complete within ${options.waitSeconds} s`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 5_000));
  }
}
