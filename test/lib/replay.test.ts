import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { recording, recordingLines } from "../../lib/datasets.ts";
import { convertNxlogEvent, inputLines, replayMessage, STDIN } from "../../lib/replay.ts";

const RECORDING = recording("cmd_psexec_lsa_secrets_dump.zip").path;
const recorded: string[] = [];
for await (const line of recordingLines(RECORDING)) recorded.push(line);
const nxlogEvent = JSON.parse(recorded[0]!) as Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), "helk-replay-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

const unusedStdin = () => Readable.from([]);

describe("replay inputs", () => {
  it("reads a recording zip as its JSON lines", async () => {
    expect(await collect(inputLines(RECORDING, unusedStdin()))).toEqual(recorded);
  });

  it("reads a plain JSON-lines file (CRLF or LF, blank lines skipped), whatever its name", async () => {
    const path = join(dir, "events.zip.txt");
    writeFileSync(path, `${recorded[0]}\r\n\r\n${recorded[1]}\nnot json at all\n${recorded[2]}`);
    expect(await collect(inputLines(path, unusedStdin()))).toEqual([recorded[0], recorded[1], "not json at all", recorded[2]]);
  });

  it("reads standard input for -, lines split across chunks", async () => {
    const text = `${recorded[0]}\n${recorded[1]}\n`;
    const stdin = Readable.from([text.slice(0, 17), text.slice(17, 400), text.slice(400)]);
    expect(await collect(inputLines(STDIN, stdin))).toEqual([recorded[0], recorded[1]]);
  });

  it("says which file is missing", async () => {
    await expect(collect(inputLines(join(dir, "absent.jsonl"), unusedStdin()))).rejects.toThrow(/absent\.jsonl/);
  });
});

describe("replay messages", () => {
  it("keys nxlog events by host and converts them to the asked shape", () => {
    const line = recorded[0]!;
    expect(replayMessage(line, "nxlog")).toEqual({ key: String(nxlogEvent.Hostname).toLowerCase(), value: line, notJson: false });
    expect(JSON.parse(replayMessage(line, "winlogbeat7").value)).toEqual(JSON.parse(JSON.stringify(convertNxlogEvent(nxlogEvent, "winlogbeat7"))));
  });

  it("sends events of other shapes as they are, keyed by their host", () => {
    const winlogbeat = JSON.stringify(convertNxlogEvent(nxlogEvent, "winlogbeat7"));
    expect(replayMessage(winlogbeat, "winlogbeat6")).toEqual({ key: String(nxlogEvent.Hostname).toLowerCase(), value: winlogbeat, notJson: false });
    const azure = JSON.stringify({ Computer: "WS1.corp", Channel: "Security", EventID: 4624, EventData: "{}" });
    expect(replayMessage(azure, "winlogbeat7")).toEqual({ key: "ws1.corp", value: azure, notJson: false });
  });

  it("sends a line that is not JSON as it is, never throwing", () => {
    expect(replayMessage('{"Channel": "Security", "EventID":', "winlogbeat7")).toEqual({ key: "", value: '{"Channel": "Security", "EventID":', notJson: true });
    expect(replayMessage("[1, 2]", "nxlog")).toEqual({ key: "", value: "[1, 2]", notJson: false });
  });
});
