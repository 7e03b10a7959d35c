import { aroundEach, inject } from "vitest";
import { checkServer } from "../../harness/process.ts";
import type { ProvidedServer } from "./endpoints.ts";

/**
 * Integration setup file: a test fails as soon as one of the run's servers dies while it runs, with the
 * server's name, exit and log tail, instead of waiting on client retries or its timeout. Later tests that
 * use the dead server fail through `serviceEndpoints()`; the others go on.
 */
aroundEach(async (runTest) => {
  const servers = Object.values(inject("helkServices").processes).filter((s): s is ProvidedServer => Boolean(s));
  if (servers.length === 0) return runTest(); // endpoints from env vars: not ours to watch
  let timer: NodeJS.Timeout | undefined;
  const died = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      for (const server of servers) {
        const error = checkServer(server);
        if (error) reject(error);
      }
    }, 500);
  });
  try {
    await Promise.race([runTest(), died]);
  } finally {
    clearInterval(timer);
  }
});
