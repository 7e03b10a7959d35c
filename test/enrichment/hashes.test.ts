import { describe, expect, it } from "vitest";
import { splitHashes } from "../../enrichment/transforms/hashes.ts";
import { eventsOf, first, isSysmon, WITH_RECORD_NUMBERS } from "./samples.ts";

describe("Sysmon Hashes split", () => {
  it("splits a real process-create Hashes value into lower-case hash_* fields", async () => {
    const event = first(await eventsOf(WITH_RECORD_NUMBERS), (e) => isSysmon(1)(e) && typeof e.Hashes === "string", "Sysmon 1 with Hashes");
    const hashes = event.Hashes as string;
    const sha256 = /SHA256=([0-9A-F]{64})/.exec(hashes)![1]!;
    const fields = splitHashes(hashes);
    expect(fields.hash_sha256).toBe(sha256.toLowerCase());
    expect(fields.hash_sha1).toMatch(/^[0-9a-f]{40}$/);
    expect(fields.hash_md5).toMatch(/^[0-9a-f]{32}$/);
    expect(fields.hash_imphash).toMatch(/^[0-9a-f]{32}$/);
  });

  it("handles one algorithm, odd spacing, and skips malformed parts", () => {
    expect(splitHashes("SHA256=ABCD")).toEqual({ hash_sha256: "abcd" });
    expect(splitHashes(" MD5 = 00FF , junk, =x, SHA1=")).toEqual({ hash_md5: "00ff" });
  });
});
