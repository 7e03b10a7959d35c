import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retentionPolicy } from "../../components/retention.ts";
import { parseHelkConfig } from "../../components/config.ts";
import { toEnv } from "../../lib/contract/retention-env.ts";
import { projectRoot } from "../../lib/data.ts";
import { createEngine, type Engine } from "../../lib/engine.ts";
import { runRetention } from "../../setup/retention.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";

// The retention job against the harness's real OpenSearch, which has no ISM plugin: the job itself deletes.
// Its "today" is 2000-01-01 (the run's clock is an option of the job), so every other index of the shared engine
// (recordings of 2019 on, today's events) is in its future and kept: only this suite's indices can go.
const NOW = new Date("2000-01-01T12:00:00Z");
const dayName = (prefix: string, daysBack: number) =>
  `${prefix}${new Date(NOW.getTime() - daysBack * 86_400_000).toISOString().slice(0, 10).replaceAll("-", ".")}`;

const events = Object.fromEntries([0, 10, 40, 400].map((days) => [days, dayName("helk-events-", days)])) as Record<0 | 10 | 40 | 400, string>;
const processNetwork40 = dayName("helk-process-network-", 40);
const alerts40 = dayName("helk-alerts-", 40);
const created = [...Object.values(events), processNetwork40, alerts40];
// The defaults: events and process-network 30 days, alerts 365.
const policy = retentionPolicy(parseHelkConfig({ target: "docker" }).retention);

let engine: Engine;
const exists = async (index: string) => (await engine.request({ method: "HEAD", path: `/${index}`, ignore: [404] })).status === 200;

beforeAll(async () => {
  engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl });
  for (const index of created) {
    await engine.request({ method: "DELETE", path: `/${index}`, ignore: [404] });
    await engine.request({ method: "PUT", path: `/${index}`, body: { settings: { number_of_shards: 1, number_of_replicas: 0 } } });
    await engine.request({ method: "PUT", path: `/${index}/_doc/1`, query: { refresh: "true" }, body: { "@timestamp": NOW.toISOString() } });
  }
});

afterAll(async () => {
  if (!engine) return;
  await engine.request({ method: "DELETE", path: `/${created.join(",")}`, query: { ignore_unavailable: true }, ignore: [404] });
  await engine.close();
});

describe("the retention job on the real OpenSearch", () => {
  it("as deployed (`helk retention run --dry-run`, env from the component): lists what it would delete and deletes nothing", async () => {
    const env = toEnv({ kind: "opensearch", url: serviceEndpoints().engineUrl, secured: false }, policy) as Record<string, string>;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "cli/helk.ts", "retention", "run", "--dry-run"], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    // By the real clock all of this suite's indices are decades old.
    for (const index of [events[40], events[400], processNetwork40]) expect(stdout).toMatch(new RegExp(`^would delete ${index.replaceAll(".", "\\.")} \\(`, "m"));
    expect(stdout).toMatch(/^retention \(no lifecycle plugin: the job deletes by age\): \d+ to delete, \d+ kept$/m);
    for (const index of created) expect(await exists(index), index).toBe(true);
  });

  it("deletes exactly the indices dated past their class's days: events 40 and 400 days back, not 10 or today", async () => {
    const lines: string[] = [];
    const report = await runRetention(engine, policy, { now: NOW, log: (line) => lines.push(line) });
    expect(report.lifecycle).toBe("none");
    expect([...report.deleted].sort()).toEqual([events[40], events[400], processNetwork40].sort());
    for (const index of [events[0], events[10], alerts40]) expect(await exists(index), index).toBe(true);
    for (const index of [events[40], events[400], processNetwork40]) expect(await exists(index), index).toBe(false);
    expect(lines.find((l) => l.startsWith(`deleted ${events[400]} `))).toMatch(/; 400 days old, past 30\)$/);
    expect(lines.find((l) => l.startsWith(`kept ${events[10]} `))).toMatch(/; 10 days old, within 30\)$/);
    expect(lines.find((l) => l.startsWith(`kept ${alerts40} `))).toMatch(/; 40 days old, within 365\)$/);
  });
});
