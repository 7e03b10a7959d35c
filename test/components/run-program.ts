/**
 * Runs the Pulumi program (index.ts) against Pulumi's mocks in a process of its own, for tests of a program that
 * fails: as under the real language host, a failure ends in an unhandled rejection, which a test file's own
 * process must not see. Usage: `node --import tsx run-program.ts <stack> [<ProgramOptions as JSON>]`.
 * Prints one JSON line `{ declared: string[], error?: string }`; exit code 1 when the program failed.
 */
import { runProgram, type Declared } from "./pulumi-harness.ts";

const [stack, options = "{}"] = process.argv.slice(2);
const declared: Declared[] = [];

function report(error?: unknown): void {
  const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ declared: declared.map((d) => d.name), error: message })}\n`);
  process.exit(error === undefined ? 0 : 1);
}

process.on("unhandledRejection", report);
runProgram(stack!, { ...JSON.parse(options), declared }).then(
  // Checks on resource outputs (a job's exit code) settle after the last registration.
  () => setTimeout(() => report(), 500),
  report,
);
