/**
 * The Docker containers of a deployed stack, as the Docker CLI reports them: every container of a stack is named
 * `<helk:name>-...`. Used by the lab command to wait for health and by e2e to check jobs and replacements.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { poll, RetryExhausted } from "../lib/retry.ts";

const exec = promisify(execFile);

export interface ContainerState {
  name: string;
  id: string;
  status: string;
  /** Health-check status; undefined for containers without one (the one-shot jobs). */
  health?: string;
  exitCode: number;
}

export async function docker(args: string[]): Promise<string> {
  return (await exec("docker", args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

export async function stackContainers(prefix: string): Promise<ContainerState[]> {
  const ids = (await docker(["ps", "-aq", "--filter", `name=^${prefix}-`])).split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse(await docker(["inspect", ...ids])) as Array<{
    Id: string;
    Name: string;
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
  }>;
  return inspected.map((c) => ({
    name: c.Name.replace(/^\//, ""),
    id: c.Id,
    status: c.State.Status,
    health: c.State.Health?.Status,
    exitCode: c.State.ExitCode,
  }));
}

/**
 * Waits until every service container is healthy and every one-shot job exited 0. Throws naming the containers
 * when one turns unhealthy or a job fails, or when the time is up; `onWait` hears each change of the summary.
 */
export async function waitHealthy(prefix: string, timeoutMs: number, onWait: (summary: string) => void = () => undefined): Promise<ContainerState[]> {
  let last = "";
  try {
    return await poll(`health of ${prefix}`, async () => {
      const containers = await stackContainers(prefix);
      const pending = containers.filter((c) => (c.health ? c.health !== "healthy" : c.status !== "exited" && c.status !== "running"));
      const broken = containers.filter((c) => c.health === "unhealthy" || (c.status === "exited" && c.exitCode !== 0));
      if (broken.length > 0)
        throw new Error(`unhealthy: ${broken.map((c) => `${c.name} (${c.status}, exit ${c.exitCode}, ${c.health ?? "no health check"}; see docker logs ${c.name})`).join(", ")}`);
      if (containers.length > 0 && pending.length === 0) return containers;
      const summary = containers.map((c) => `${c.name}=${c.health ?? c.status}`).join(" ") || "no containers yet";
      if (summary !== last) onWait(summary);
      last = summary;
      return undefined;
    }, { initialDelayMs: 2_000, maxDelayMs: 2_000, maxElapsedMs: timeoutMs });
  } catch (error) {
    if (!(error instanceof RetryExhausted)) throw error;
    throw new Error(`not healthy after ${Math.round(timeoutMs / 1000)} s: ${last}`);
  }
}
