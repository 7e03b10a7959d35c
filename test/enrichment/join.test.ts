import { describe, expect, it } from "vitest";
import { Enricher, type IndexAction } from "../../enrichment/transforms/index.ts";
import { approximateBytes, type JoinOptions, ProcessNetworkJoin, processContext } from "../../enrichment/transforms/join.ts";
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

/** Join options with the given bounds and no byte caps (the byte caps have their own tests). */
const bounds = (b: Omit<JoinOptions, "maxBytes" | "maxWaitingBytes">): JoinOptions => ({ ...b, maxBytes: Infinity, maxWaitingBytes: Infinity });

describe("join cache bounds and waiting", () => {
  const processCreate = events.find((e) => e.Channel === SYSMON && e.EventID === 1)!;
  const connection = events.find((e) => e.Channel === SYSMON && e.EventID === 3)!;
  const withGuid = (e: Record<string, unknown>, guid: string, utc = e.UtcTime) => doc({ ...e, ProcessGuid: guid, UtcTime: utc });
  const t0 = Date.parse("2020-01-01T00:00:00Z");

  it("a connection that arrives first waits and is joined when its process comes", () => {
    const join = new ProcessNetworkJoin<string>(bounds({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 10 }));
    const conn = withGuid(connection, "{g1}");
    expect(join.connect({ doc: conn, id: "c1", tag: "offset-7" }, "h|{g1}", 0).kind).toBe("waiting");
    expect([...join.waitingTags()]).toEqual(["offset-7"]);
    const joined = join.addProcess(withGuid(processCreate, "{g1}"), "h|{g1}", t0);
    expect(joined.map((j) => j.tag)).toEqual(["offset-7"]);
    expect(joined[0]!.joined.command_line).toBe(processCreate.CommandLine);
    expect(join.waitingCount).toBe(0);
  });

  it("a connection whose process never comes is handed back once its wait is over", () => {
    const join = new ProcessNetworkJoin<number>(bounds({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 10 }));
    join.connect({ doc: withGuid(connection, "{g2}"), id: "c2", tag: 2 }, "h|{g2}", 0);
    expect(join.expire(999)).toEqual([]);
    expect(join.expire(1_000).map((c) => c.id)).toEqual(["c2"]);
    expect(join.waitingCount).toBe(0);
  });

  it("gives up a new connection at once when too many wait", () => {
    const join = new ProcessNetworkJoin<number>(bounds({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 2 }));
    for (const i of [1, 2]) expect(join.connect({ doc: withGuid(connection, `{w${i}}`), id: `c${i}`, tag: i }, `h|{w${i}}`, 0).kind).toBe("waiting");
    expect(join.connect({ doc: withGuid(connection, "{w3}"), id: "c3", tag: 3 }, "h|{w3}", 0).kind).toBe("overflow");
  });

  it("keeps at most maxEntries processes, evicting the least recently used", () => {
    const join = new ProcessNetworkJoin<number>(bounds({ maxEntries: 3, maxAgeMs: 3600_000, waitMs: 0, maxWaiting: 10 }));
    for (const g of ["a", "b", "c"]) join.addProcess(withGuid(processCreate, g), `h|${g}`, t0);
    expect(join.connect({ doc: withGuid(connection, "a"), id: "x", tag: 0 }, "h|a", 0).kind).toBe("joined"); // a is now recent
    join.addProcess(withGuid(processCreate, "d"), "h|d", t0);
    expect(join.size).toBe(3);
    expect(join.evicted).toBe(1);
    expect(join.connect({ doc: withGuid(connection, "b"), id: "y", tag: 0 }, "h|b", 0).kind).toBe("waiting"); // b evicted
    expect(join.connect({ doc: withGuid(connection, "a"), id: "z", tag: 0 }, "h|a", 0).kind).toBe("joined");
  });

  it("evicts processes the service has not seen for maxAgeMs of its own clock, whatever their event times", () => {
    const join = new ProcessNetworkJoin<number>(bounds({ maxEntries: 100, maxAgeMs: 60_000, waitMs: 0, maxWaiting: 10 }));
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
    const join = new ProcessNetworkJoin<number>(bounds({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 10 }));
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

  it("keeps the cached contexts under maxBytes, evicting the least recently used, and accounts bytes exactly as entries come and go", () => {
    const one = approximateBytes(processContext(withGuid(processCreate, "p0"))) + 200;
    const join = new ProcessNetworkJoin<number>({ ...bounds({ maxEntries: 1_000, maxAgeMs: 3600_000, waitMs: 0, maxWaiting: 10 }), maxBytes: 5 * one });
    for (let i = 0; i < 40; i++) {
      join.addProcess(withGuid(processCreate, `p${i}`), `h|p${i}`, t0 + i);
      expect(join.bytes).toBeLessThanOrEqual(5 * one);
    }
    expect(join.size).toBeGreaterThanOrEqual(4);
    expect(join.size).toBeLessThanOrEqual(5);
    expect(join.evicted).toBe(40 - join.size);
    // The newest stay, the oldest went.
    expect(join.connect({ doc: withGuid(connection, "p39"), id: "n", tag: 0 }, "h|p39", t0).kind).toBe("joined");
    expect(join.connect({ doc: withGuid(connection, "p0"), id: "o", tag: 0 }, "h|p0", t0).kind).toBe("waiting");
    // The same process again replaces its entry: its bytes are not counted twice.
    const before = join.bytes;
    join.addProcess(withGuid(processCreate, "p39"), "h|p39", t0 + 100);
    expect(join.bytes).toBe(before);
  });

  it("a larger context takes more of the byte budget than a small one", () => {
    const small = approximateBytes(processContext(withGuid(processCreate, "s")));
    const large = approximateBytes(processContext(doc({ ...processCreate, ProcessGuid: "l", CommandLine: "x".repeat(10_000) })));
    expect(large - small).toBeGreaterThanOrEqual(10_000 - String(processCreate.CommandLine).length);
    expect(approximateBytes("é".repeat(10))).toBe(approximateBytes("e".repeat(10))); // Latin-1: one byte each
    expect(approximateBytes("€".repeat(10)) - approximateBytes("e".repeat(10))).toBe(10); // two bytes above it
  });

  it("gives up a connection at once when the waiting ones would exceed maxWaitingBytes, counting what the caller keeps, and frees their bytes", () => {
    const kept = 100_000;
    const join = new ProcessNetworkJoin<number>({ ...bounds({ maxEntries: 10, maxAgeMs: 60_000, waitMs: 1_000, maxWaiting: 1_000 }), maxWaitingBytes: 2.5 * kept });
    expect(join.connect({ doc: withGuid(connection, "{a}"), id: "a", tag: 1 }, "h|{a}", 0, kept).kind).toBe("waiting");
    expect(join.connect({ doc: withGuid(connection, "{b}"), id: "b", tag: 2 }, "h|{b}", 0, kept).kind).toBe("waiting");
    expect(join.waitingBytes).toBeGreaterThan(2 * kept);
    expect(join.connect({ doc: withGuid(connection, "{c}"), id: "c", tag: 3 }, "h|{c}", 0, kept).kind).toBe("overflow");
    expect(join.waitingCount).toBe(2);
    // A small one still fits; bytes return when connections are joined or expire.
    expect(join.connect({ doc: withGuid(connection, "{d}"), id: "d", tag: 4 }, "h|{d}", 0).kind).toBe("waiting");
    join.addProcess(withGuid(processCreate, "{a}"), "h|{a}", t0);
    expect(join.expire(1_000).map((c) => c.id).sort()).toEqual(["b", "d"]);
    expect(join.waitingBytes).toBe(0);
    expect(join.waitingCount).toBe(0);
  });
});
