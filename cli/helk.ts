#!/usr/bin/env -S node --import tsx
import { Command } from "commander";
import { registerSmokeCommands } from "../smoke/cli.ts";
import { registerAttackCommands } from "../attack/cli.ts";
import { registerDashboardsCommands } from "../dashboards/cli.ts";
import { registerSetupCommands } from "../setup/commands.ts";
import { registerRetentionCommands } from "../setup/retention.ts";
import { registerEnrichmentCommands } from "../enrichment/cli.ts";
import { registerDetectionsCommands } from "../detections/cli.ts";

// Each part of the system registers its own subcommands here.
const program = new Command("helk").description("HELK as code: operate a deployed HELK stack").showHelpAfterError();
registerAttackCommands(program);
registerSmokeCommands(program);
registerDashboardsCommands(program);
registerSetupCommands(program);
registerRetentionCommands(program);
registerEnrichmentCommands(program);
registerDetectionsCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // A failed command's message names what went wrong and where; the stack is for debugging (HELK_DEBUG=1).
  process.stderr.write(`helk: ${process.env.HELK_DEBUG && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
