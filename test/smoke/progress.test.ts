import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ProgressLine } from "../../smoke/progress.ts";
import type { CheckResult, SmokeCheck } from "../../smoke/runner.ts";

const probe: SmokeCheck = { id: "enrichment.probe", component: "enrichment", title: "", run: async () => ({ status: "pass", message: "" }) };
const result = (status: CheckResult["status"]): CheckResult => ({ id: probe.id, component: "enrichment", title: "", status, message: "", durationMs: 1500 });

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 60, write: (text: string) => writes.push(text) } };
}

describe("progress line", () => {
  it("on a terminal redraws one line in place with what is being waited for, and clears it at the end", async () => {
    const { writes, out } = stream(true);
    const progress = new ProgressLine(out);
    progress.begin(11);
    progress.started(probe);
    progress.waiting(probe, "waiting for the probe's document in helk-events-* (2.0s)");
    await sleep(450);
    expect(writes.length).toBeGreaterThanOrEqual(1);
    const line = writes.at(-1)!;
    expect(line).toMatch(/^\r\x1b\[2Ksmoke 0\/11 done · enrichment\.probe waiting for the probe's.*…$/);
    // Cut to the terminal's width (60 columns here) so it never wraps.
    expect(line.replace("\r\x1b[2K", "").length).toBeLessThan(60);
    expect(writes.every((w) => !w.includes("\n"))).toBe(true);
    progress.finished(result("pass"));
    progress.stop();
    expect(writes.at(-1)).toBe("\r\x1b[2K");
    const count = writes.length;
    await sleep(300);
    expect(writes.length).toBe(count);
  });

  it("elsewhere writes a line per finished check and at most one waiting line per check every 5 s", () => {
    const { writes, out } = stream(false);
    const progress = new ProgressLine(out);
    progress.begin(2);
    progress.started(probe);
    progress.waiting(probe, "waiting (0.5s)");
    progress.waiting(probe, "waiting (1.0s)");
    progress.finished(result("fail"));
    progress.stop();
    expect(writes).toEqual(["… enrichment.probe: waiting (0.5s)\n", "[1/2] enrichment.probe fail (1.5s)\n"]);
  });
});
