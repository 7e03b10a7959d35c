#!/usr/bin/env -S node --import tsx
import { Command } from "commander";
import { registerServicesCommands } from "./cli.ts";

// `npm run services -- up|down|status`: the same commands as `helk services`, without loading the other parts.
const program = new Command("helk").showHelpAfterError();
registerServicesCommands(program);
try {
  await program.parseAsync(["services", ...process.argv.slice(2)], { from: "user" });
} catch (error) {
  console.error(`services: ${(error as Error).message}`);
  process.exitCode = 1;
}
