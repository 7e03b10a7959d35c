#!/usr/bin/env -S node --import tsx
/**
 * `npm run lab [-- <command>] [--stack <name>]`: the lab on a local Docker engine in one command (see lab.ts).
 * Exit code 0 when the stack is up and its smoke checks pass, 1 when a step failed (the message names it).
 */
import { Command } from "commander";
import { labDestroy, labLogins, LabStepError, labUp, UP_STEPS } from "./lab.ts";

const program = new Command("lab")
  .description("Bring a HELK stack up on the local Docker engine, smoke-test it and print where it answers; again: changes nothing")
  .showHelpAfterError();

const stackOption = ["--stack <name>", "stack to deploy: stacks/Pulumi.<name>.yaml", "lab"] as const;

program
  .command("up", { isDefault: true })
  .description(
    `the ${UP_STEPS} steps of the quick start: Pulumi CLI, Docker engine, local images (stacks that pull nothing), state backend ` +
      "(local when you have none), stack and passphrase (generated once, owner-only), the pinned ATT&CK bundle (fetched once, " +
      "verified), pulumi up, health checks, helk smoke, endpoints",
  )
  .option(...stackOption)
  .option("--attack-url <url>", "mirror of MITRE's attack-stix-data to fetch the pinned ATT&CK bundle from (its git blob id is checked)")
  .option("--attack-from-file <path>", "a copy of enterprise-attack-18.1.json you have (verified against the pin)")
  .option("--smoke-timeout <seconds>", "time budget of the smoke checks", (v) => Number(v), 120)
  .action(async (flags: { stack: string; attackUrl?: string; attackFromFile?: string; smokeTimeout: number }) => {
    await labUp({ stack: flags.stack, attackUrl: flags.attackUrl, attackFromFile: flags.attackFromFile, smokeTimeoutSeconds: flags.smokeTimeout });
  });

program
  .command("destroy")
  .description("remove every container, volume and network of the stack (state and passphrase kept unless --remove-stack)")
  .option(...stackOption)
  .option("--remove-stack", "also remove the stack's state and its generated passphrase")
  .action(async (flags: { stack: string; removeStack?: boolean }) => labDestroy({ stack: flags.stack, removeStack: flags.removeStack }));

program
  .command("logins")
  .description("print the endpoints with their passwords and tokens")
  .option(...stackOption)
  .action(async (flags: { stack: string }) => {
    await labLogins({ stack: flags.stack });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`[lab] ${err instanceof LabStepError ? err.message : err instanceof Error ? (process.env.HELK_DEBUG ? err.stack : err.message) : String(err)}\n`);
  process.exitCode = 1;
}
