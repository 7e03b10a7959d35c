import { describe, expect, it } from "vitest";
import type { RetentionPolicy } from "../../lib/contract/retention-env.ts";
import { indexDay, lifecyclePolicyName, planRetention, type IndexSize } from "../../setup/retention.ts";

const NOW = new Date("2026-12-02T16:00:00Z");
const GiB = 2 ** 30;

/** `helk-events-YYYY.MM.DD` of the day `days` before {@link NOW}. */
function daysBack(prefix: string, days: number): string {
  return `${prefix}${new Date(NOW.getTime() - days * 86_400_000).toISOString().slice(0, 10).replaceAll("-", ".")}`;
}

const policy: RetentionPolicy = { events: { days: 30 }, processNetwork: { days: 30 }, alerts: { days: 365 } };
const deleted = (indices: IndexSize[], p = policy, byAge = true) =>
  planRetention(indices, p, NOW, { byAge })
    .filter((d) => d.delete)
    .map((d) => d.index);

describe("the date of a daily index", () => {
  it("is read from the name after the class's prefix, as a UTC day", () => {
    expect(indexDay("helk-events-2026.11.02", "helk-events-")).toBe(Date.UTC(2026, 10, 2));
    expect(indexDay("helk-process-network-2024.02.29", "helk-process-network-")).toBe(Date.UTC(2024, 1, 29));
  });

  it("is none for names that hold no real day or belong to another prefix", () => {
    for (const name of ["helk-events-2026.02.30", "helk-events-2025.02.29", "helk-events-2026.13.01", "helk-events-2026.11.2", "helk-events-2026.11.02-reindexed", "helk-events-latest"])
      expect(indexDay(name, "helk-events-"), name).toBeUndefined();
    expect(indexDay("helk-alerts-2026.11.02", "helk-events-")).toBeUndefined();
  });
});

describe("which indices the retention job deletes", () => {
  it("deletes exactly those dated more than the class's days before today", () => {
    const indices = [0, 10, 29, 30, 31, 40, 400].map((days) => ({ index: daysBack("helk-events-", days), bytes: 1 }));
    expect(deleted(indices)).toEqual([daysBack("helk-events-", 31), daysBack("helk-events-", 40), daysBack("helk-events-", 400)]);
  });

  it("applies each class's own days, keeps undated names and future dates, and ignores other indices", () => {
    const indices = [
      { index: daysBack("helk-alerts-", 40), bytes: 1 },
      { index: daysBack("helk-alerts-", 366), bytes: 1 },
      { index: daysBack("helk-process-network-", 31), bytes: 1 },
      { index: "helk-events-archive", bytes: 1 },
      { index: daysBack("helk-events-", -3), bytes: 1 },
      { index: "helk-mitre-attack-18.1-1", bytes: 1 },
    ];
    const decisions = planRetention(indices, policy, NOW, { byAge: true });
    expect(decisions.filter((d) => d.delete).map((d) => d.index)).toEqual([daysBack("helk-process-network-", 31), daysBack("helk-alerts-", 366)]);
    expect(decisions.map((d) => d.index)).not.toContain("helk-mitre-attack-18.1-1");
    expect(decisions.find((d) => d.index === "helk-events-archive")).toMatchObject({ delete: false, reason: "no date in its name" });
    expect(decisions.find((d) => d.index === daysBack("helk-events-", -3))).toMatchObject({ delete: false, reason: "dated in the future" });
  });

  it("keeps the newest indices within a size budget and deletes the older ones, never the newest alone", () => {
    const sized = { ...policy, events: { days: 30, maxBytes: 5 * GiB } };
    const indices = [0, 1, 2, 3].map((days) => ({ index: daysBack("helk-events-", days), bytes: 2 * GiB }));
    // Newest first: 2 + 2 = 4 GiB fit in 5, the third would make 6.
    expect(deleted(indices, sized)).toEqual([daysBack("helk-events-", 2), daysBack("helk-events-", 3)]);
    const reason = planRetention(indices, sized, NOW, { byAge: true }).find((d) => d.delete)!.reason;
    expect(reason).toBe("beyond the size budget: newer helk-events-* indices hold 4 GiB of 5 GiB");
    expect(deleted([{ index: daysBack("helk-events-", 0), bytes: 9 * GiB }], sized)).toEqual([]);
  });

  it("leaves ages to the lifecycle policy when there is one, but still enforces sizes", () => {
    const sized = { ...policy, events: { days: 30, maxBytes: GiB } };
    const indices = [0, 400].map((days) => ({ index: daysBack("helk-events-", days), bytes: GiB }));
    expect(deleted(indices, policy, false)).toEqual([]);
    expect(deleted(indices, sized, false)).toEqual([daysBack("helk-events-", 400)]);
  });

  it("names one lifecycle policy per class", () => {
    expect([lifecyclePolicyName("events"), lifecyclePolicyName("processNetwork"), lifecyclePolicyName("alerts")]).toEqual([
      "helk-events-retention",
      "helk-process-network-retention",
      "helk-alerts-retention",
    ]);
  });
});
