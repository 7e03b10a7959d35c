import { describe, expect, it } from "vitest";
import { Enricher, type IndexAction } from "../../enrichment/transforms/index.ts";
import { ProcessNetworkJoin } from "../../enrichment/transforms/join.ts";
import { normalize } from "../../enrichment/transforms/normalize.ts";
import { viewEvent } from "../../enrichment/transforms/shape.ts";
import { eventsOf, SYSMON } from "./samples.ts";

const RECORDING = "empire_shell_dcerpc_smb_service_dll_hijack.zip";
const events = await eventsOf(RECORDING);

/** The join computed directly over the raw recording: each connection with a process create of the same host and GUID. */
function independentJoin(raw: Record<string, unknown>[]): Map<string, Record<string, unknown>> {
  const key = (e: Record<string, unknown>) => `${String(e.Hostname).toLowerCase()}|${String(e.ProcessGuid).toLowerCase()}`;
  const processes = new Map<string, Record<string, unknown>>();
  for (const e of raw) if (e.Channel === SYSMON && e.EventID === 1) processes.set(key(e), e);
  const joined = new Map<string, Record<string, unknown>>();
  for (const e of raw) {
    if (e.Channel !== SYSMON || e.EventID !== 3) continue;
    const process = processes.get(key(e));
    if (process) joined.set(`${String(e.Hostname).toLowerCase()}|${e.RecordNumber}`, { connection: e, process });
  }
  return joined;
}

const doc = (e: Record<string, unknown>) => {
  const view = viewEvent(e);
  return normalize(view, view.channel, 0);
};

describe("process/network join over a real recording", () => {
  it("emits exactly the joins an independent computation over the raw file finds, with the process's fields", () => {
    const expected = independentJoin(events);
    expect(expected.size).toBeGreaterThan(5);
    const enricher = new Enricher<number>();
    const joined: IndexAction[] = [];
    events.forEach((e, i) => {
      const outcome = enricher.enrich(JSON.stringify(e), { tag: i, now: 0 });
      if (outcome.ok) joined.push(...outcome.joined);
    });
    // Whatever still waits once the stream ends gets no process.
    expect(enricher.expire(Number.MAX_SAFE_INTEGER).every((c) => !expected.has(`${c.doc.host_name}|${c.doc.record_number}`))).toBe(true);

    expect(new Set(joined.map((j) => `${j.doc.host_name}|${j.doc.record_number}`))).toEqual(new Set(expected.keys()));
    for (const j of joined) {
      const { connection, process } = expected.get(`${j.doc.host_name}|${j.doc.record_number}`) as Record<string, Record<string, unknown>>;
      expect(j.index).toMatch(/^helk-process-network-\d{4}\.\d{2}\.\d{2}$/);
      expect(j.doc.event_id).toBe(3);
      expect(j.doc.dst_ip).toBe(connection!.DestinationIp);
      expect(j.doc.process_path).toBe(process!.Image);
      expect(j.doc.command_line).toBe(process!.CommandLine);
      expect(j.doc.parent_process_path).toBe(process!.ParentImage);
      expect(j.doc.parent_command_line).toBe(process!.ParentCommandLine);
      expect(j.doc.hash_sha1).toBe(/SHA1=(\w+)/.exec(process!.Hashes as string)![1]!.toLowerCase());
      expect(j.doc.join_key).toBe(`${String(connection!.Hostname).toLowerCase()}|${String(connection!.ProcessGuid).toLowerCase()}`);
    }
  });
});

describe("join cache bounds and waiting", () => {
  const processCreate = events.find((e) => e.Channel === SYSMON && e.EventID === 1)!;
  const connection = events.find((e) => e.Channel === SYSMON && e.EventID === 3)!;
  const withGuid = (e: Record<string, unknown>, guid: string, utc = e.UtcTime) => doc({ ...e, ProcessGuid: guid, UtcTime: utc });
  const t0 = Date.parse("2020-01-01T00:00:00Z");

  it("a connection that arrives first waits and is joined when its process comes", () => {
    const join = new ProcessNetworkJoin<string>({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 10 });
    const conn = withGuid(connection, "{g1}");
    expect(join.connect({ doc: conn, id: "c1", tag: "offset-7" }, "h|{g1}", 0).kind).toBe("waiting");
    expect([...join.waitingTags()]).toEqual(["offset-7"]);
    const joined = join.addProcess(withGuid(processCreate, "{g1}"), "h|{g1}", t0);
    expect(joined.map((j) => j.tag)).toEqual(["offset-7"]);
    expect(joined[0]!.joined.command_line).toBe(processCreate.CommandLine);
    expect(join.waitingCount).toBe(0);
  });

  it("a connection whose process never comes is handed back once its wait is over", () => {
    const join = new ProcessNetworkJoin<number>({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 10 });
    join.connect({ doc: withGuid(connection, "{g2}"), id: "c2", tag: 2 }, "h|{g2}", 0);
    expect(join.expire(999)).toEqual([]);
    expect(join.expire(1_000).map((c) => c.id)).toEqual(["c2"]);
    expect(join.waitingCount).toBe(0);
  });

  it("gives up a new connection at once when too many wait", () => {
    const join = new ProcessNetworkJoin<number>({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 2 });
    for (const i of [1, 2]) expect(join.connect({ doc: withGuid(connection, `{w${i}}`), id: `c${i}`, tag: i }, `h|{w${i}}`, 0).kind).toBe("waiting");
    expect(join.connect({ doc: withGuid(connection, "{w3}"), id: "c3", tag: 3 }, "h|{w3}", 0).kind).toBe("overflow");
  });

  it("keeps at most maxEntries processes, evicting the least recently used", () => {
    const join = new ProcessNetworkJoin<number>({ maxEntries: 3, maxAgeMs: 3600_000, waitMs: 0, maxWaiting: 10 });
    for (const g of ["a", "b", "c"]) join.addProcess(withGuid(processCreate, g), `h|${g}`, t0);
    expect(join.connect({ doc: withGuid(connection, "a"), id: "x", tag: 0 }, "h|a", 0).kind).toBe("joined"); // a is now recent
    join.addProcess(withGuid(processCreate, "d"), "h|d", t0);
    expect(join.size).toBe(3);
    expect(join.evicted).toBe(1);
    expect(join.connect({ doc: withGuid(connection, "b"), id: "y", tag: 0 }, "h|b", 0).kind).toBe("waiting"); // b evicted
    expect(join.connect({ doc: withGuid(connection, "a"), id: "z", tag: 0 }, "h|a", 0).kind).toBe("joined");
  });

  it("evicts processes the service has not seen for maxAgeMs of its own clock, whatever their event times", () => {
    const join = new ProcessNetworkJoin<number>({ maxEntries: 100, maxAgeMs: 60_000, waitMs: 0, maxWaiting: 10 });
    // Event times out of order and years apart (skewed clocks) decide nothing; when the service saw them does.
    join.addProcess(withGuid(processCreate, "old", "2031-01-01 00:00:00.000"), "h|old", t0);
    join.addProcess(withGuid(processCreate, "used", "2019-01-01 00:00:00.000"), "h|used", t0 + 10_000);
    join.addProcess(withGuid(processCreate, "mid", "2020-06-01 00:00:00.000"), "h|mid", t0 + 30_000);
    expect(join.connect({ doc: withGuid(connection, "used"), id: "u", tag: 0 }, "h|used", t0 + 50_000).kind).toBe("joined"); // seen again
    join.addProcess(withGuid(processCreate, "new"), "h|new", t0 + 61_000);
    expect(join.size).toBe(3); // "old", seen at t0, aged out
    expect(join.evicted).toBe(1);
    join.addProcess(withGuid(processCreate, "newer"), "h|newer", t0 + 95_000);
    expect(join.evicted).toBe(2); // "mid" (seen at +30 s) aged out; "used" was seen again at +50 s
    expect(join.connect({ doc: withGuid(connection, "mid"), id: "m", tag: 0 }, "h|mid", t0 + 95_000).kind).toBe("waiting");
    expect(join.connect({ doc: withGuid(connection, "used"), id: "v", tag: 0 }, "h|used", t0 + 95_000).kind).toBe("joined");
  });

  it("joins a connection with its process however far apart their event times are, in either order", () => {
    const join = new ProcessNetworkJoin<number>({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 10 });
    const process = withGuid(processCreate, "{p}", "2020-01-01 00:00:00.000");
    join.addProcess(process, "h|{p}", t0);
    const early = join.connect({ doc: withGuid(connection, "{p}", "2019-12-26 00:00:00.000"), id: "early", tag: 1 }, "h|{p}", t0);
    expect(early.kind).toBe("joined");
    const late = withGuid(connection, "{q}", "2021-02-04 00:00:00.000");
    expect(join.connect({ doc: late, id: "late", tag: 2 }, "h|{q}", t0).kind).toBe("waiting");
    const joined = join.addProcess(withGuid(processCreate, "{q}", "2020-01-01 00:00:00.000"), "h|{q}", t0 + 500);
    expect(joined.map((j) => j.id)).toEqual(["late"]);
    // Both times are on the joined document: the connection's as @timestamp, the process's beside it.
    expect(joined[0]!.joined["@timestamp"]).toBe("2021-02-04T00:00:00.000Z");
    expect(joined[0]!.joined.process_timestamp).toBe("2020-01-01T00:00:00.000Z");
    if (early.kind === "joined") expect(early.joined.joined.process_timestamp).toBe(process["@timestamp"]);
  });
});
