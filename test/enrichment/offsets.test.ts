import { describe, expect, it } from "vitest";
import { CommitTracker } from "../../enrichment/offsets.ts";

const at = (partition: number, offset: number) => ({ topic: "t", partition, offset: String(offset) });

describe("CommitTracker", () => {
  it("commits a partition only up to its oldest unfinished batch, whatever order batches finish in", () => {
    const tracker = new CommitTracker();
    const first = tracker.hold([at(0, 0)]);
    tracker.take("t", 0, "99");
    const second = tracker.hold([at(0, 100)]);
    tracker.take("t", 0, "199");
    expect(tracker.due([])).toEqual([{ topic: "t", partition: 0, offset: "0" }]);

    second(); // the later batch is written first: nothing may be committed past the earlier one
    expect(tracker.due([])).toEqual([{ topic: "t", partition: 0, offset: "0" }]);
    first();
    expect(tracker.due([])).toEqual([{ topic: "t", partition: 0, offset: "200" }]);
  });

  it("keeps partitions apart and reports only those that moved on since their last commit", () => {
    const tracker = new CommitTracker();
    const p0 = tracker.hold([at(0, 10)]);
    tracker.take("t", 0, "19");
    tracker.take("t", 1, "4");
    expect(tracker.due([])).toEqual([at(0, 10), at(1, 5)]);
    tracker.done([at(0, 10), at(1, 5)]);
    expect(tracker.due([])).toEqual([]);
    p0();
    expect(tracker.due([])).toEqual([at(0, 20)]);
  });

  it("never commits past a message still waiting (a connection waiting for its process)", () => {
    const tracker = new CommitTracker();
    tracker.take("t", 0, "49");
    expect(tracker.due([at(0, 30), at(0, 12), at(1, 3)])).toEqual([at(0, 12)]);
  });

  it("a hold over several partitions holds each at its own lowest offset", () => {
    const tracker = new CommitTracker();
    tracker.take("t", 0, "99");
    tracker.take("t", 1, "99");
    const release = tracker.hold([at(0, 40), at(1, 70), at(0, 20)]);
    expect(tracker.due([])).toEqual([at(0, 20), at(1, 70)]);
    release();
    expect(tracker.due([])).toEqual([at(0, 100), at(1, 100)]);
  });

  it("forgets revoked partitions, so work still in flight for them commits nothing", () => {
    const tracker = new CommitTracker();
    tracker.take("t", 0, "9");
    tracker.take("t", 1, "9");
    const release = tracker.hold([at(0, 0), at(1, 0)]);
    tracker.keepOnly(new Set(["t:1"]));
    expect(tracker.due([])).toEqual([at(1, 0)]);
    release();
    expect(tracker.due([])).toEqual([at(1, 10)]);
  });

  it("a redelivered (lower) batch does not move the taken position back", () => {
    const tracker = new CommitTracker();
    tracker.take("t", 0, "99");
    tracker.done([at(0, 100)]);
    const again = tracker.hold([at(0, 50)]);
    tracker.take("t", 0, "79");
    expect(tracker.due([])).toEqual([]);
    again();
    expect(tracker.due([])).toEqual([]);
  });
});
