import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startJupyter } from "../../harness/jupyter.ts";
import { startKafka } from "../../harness/kafka.ts";
import { processesUsing } from "../../harness/process.ts";
import { endpointsOf, testKafka } from "../setup/endpoints.ts";

// Private servers (not the run's shared ones), so killing them hurts no other suite.

describe("a server killed mid-run", () => {
  it("is reported by name with its exit and log tail, and clients fail instead of hanging", async () => {
    const kafka = await startKafka({ heap: "256m" });
    try {
      const producer = testKafka("harness-lifecycle", kafka.brokers).producer();
      await producer.connect();
      await producer.send({ topic: `lifecycle-${randomUUID()}`, messages: [{ value: "before the kill" }] });

      process.kill(kafka.pid, "SIGKILL");
      await kafka.exited;

      expect(() => kafka.assertRunning()).toThrow(new RegExp(`^Kafka \\(pid ${kafka.pid}\\) was killed by SIGKILL; log tail:\\n`));
      // What an integration suite sees through serviceEndpoints() when its Kafka died.
      const endpoints = endpointsOf({
        kafkaBrokers: kafka.brokers,
        engineUrl: "http://127.0.0.1:1",
        jupyterUrl: "http://127.0.0.1:1",
        jupyterToken: "unused",
        processes: { kafka: { name: kafka.name, pid: kafka.pid, logFile: kafka.logFile, dataDir: kafka.dataDir } },
      });
      expect(() => endpoints.kafkaBrokers).toThrow(`Kafka (pid ${kafka.pid}) was killed by SIGKILL; log tail:`);
      expect(endpoints.engineUrl).toBe("http://127.0.0.1:1"); // other servers' fields stay readable

      const started = Date.now();
      await expect(producer.send({ topic: "after-the-kill", messages: [{ value: "x" }] })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(30_000);
      await producer.disconnect().catch(() => undefined);
    } finally {
      await kafka.stop();
    }
    expect(processesUsing(kafka.dataDir)).toEqual([]);
    expect(existsSync(kafka.dataDir)).toBe(false);
  });
});

describe("a server that cannot start", () => {
  it("fails with the server's own log tail instead of waiting for the timeout", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const started = Date.now();
      await expect(startKafka({ port, heap: "256m", readyTimeoutMs: 120_000 })).rejects.toThrow(
        new RegExp(`Kafka \\(pid \\d+\\) exited with code 1; log tail:[\\s\\S]*127\\.0\\.0\\.1:${port}: Address already in use`),
      );
      expect(Date.now() - started).toBeLessThan(90_000);
    } finally {
      blocker.close();
    }
  });
});

describe("Kafka data", () => {
  it("is kept across restarts when asked and wiped otherwise", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "helk-kafka-kept-"));
    const topic = `kept-${randomUUID()}`;
    const topicsOf = async (brokers: string[]) => {
      const admin = testKafka("harness-lifecycle", brokers).admin();
      await admin.connect();
      try {
        return await admin.listTopics();
      } finally {
        await admin.disconnect();
      }
    };
    try {
      const first = await startKafka({ dataDir, keepData: true, heap: "256m" });
      try {
        const admin = testKafka("harness-lifecycle", first.brokers).admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
        await admin.disconnect();
      } finally {
        await first.stop();
      }
      expect(existsSync(join(dataDir, "kafka-logs"))).toBe(true);

      const second = await startKafka({ dataDir, keepData: true, heap: "256m" });
      try {
        expect(await topicsOf(second.brokers)).toContain(topic);
      } finally {
        await second.stop();
      }

      // The same directory without keepData: its Kafka log dirs are wiped and formatted anew.
      const wiped = await startKafka({ dataDir, heap: "256m" });
      try {
        expect(await topicsOf(wiped.brokers)).not.toContain(topic);
      } finally {
        await wiped.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("stopping Jupyter", () => {
  it("ends its kernels too: no process of the run is left", async () => {
    const jupyter = await startJupyter();
    const headers = { Authorization: `token ${jupyter.token}` };
    const response = await fetch(`${jupyter.url}/api/kernels`, { method: "POST", headers });
    expect(response.status).toBe(201);
    // The kernel's command line names its connection file in the run directory.
    const running = processesUsing(jupyter.dataDir);
    expect(running.length).toBeGreaterThanOrEqual(2);
    await jupyter.stop();
    expect(processesUsing(jupyter.dataDir)).toEqual([]);
    expect(jupyter.exit).toBeDefined();
  });
});
