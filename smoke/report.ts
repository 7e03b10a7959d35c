import type { CheckResult, CheckStatus, Component, SmokeReport } from "./runner.ts";

/** A plain-text table for people: one row per check, then a summary line. `color` adds ANSI colours. */
export function formatTable(report: SmokeReport, options: { color?: boolean } = {}): string {
  const paint: Record<CheckStatus, (s: string) => string> = options.color
    ? { pass: (s) => `\x1b[32m${s}\x1b[0m`, fail: (s) => `\x1b[31m${s}\x1b[0m`, skip: (s) => `\x1b[33m${s}\x1b[0m` }
    : { pass: (s) => s, fail: (s) => s, skip: (s) => s };
  const rows = report.checks.map((c) => [c.id, c.status.toUpperCase(), formatSeconds(c.durationMs), c.message]);
  const header = ["CHECK", "RESULT", "TIME", "DETAILS"];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], status?: CheckStatus): string =>
    cells
      .map((cell, i) => {
        if (i === 3) return oneLine(cell);
        const padded = i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
        return i === 1 && status ? paint[status](padded) : padded;
      })
      .join("  ");
  const { pass, fail, skip } = report.summary;
  return [
    line(header),
    ...report.checks.map((c, i) => line(rows[i]!, c.status)),
    "",
    `${report.ok ? "OK" : "FAILED"}: ${pass} passed, ${fail} failed, ${skip} skipped in ${formatSeconds(report.durationMs)}`,
    "",
  ].join("\n");
}

export function formatJson(report: SmokeReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * JUnit XML as CI systems read it: `<testsuites>` with one `<testsuite>` per component and one
 * `<testcase>` per check; a failed check has a `<failure>`, a skipped one a `<skipped>` with the reason.
 */
export function formatJunit(report: SmokeReport): string {
  const components = [...new Set(report.checks.map((c) => c.component))];
  const suites = components.map((component) => junitSuite(component, report.checks.filter((c) => c.component === component), report.startedAt));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites ${attrs({ name: "helk smoke", ...counts(report.checks), time: secondsAttr(report.durationMs), timestamp: report.startedAt })}>`,
    ...suites,
    `</testsuites>`,
    "",
  ].join("\n");
}

function junitSuite(component: Component, checks: CheckResult[], timestamp: string): string {
  const totalMs = checks.reduce((sum, c) => sum + c.durationMs, 0);
  const cases = checks.map((c) => {
    const open = `    <testcase ${attrs({ classname: `helk.smoke.${component}`, name: c.id, time: secondsAttr(c.durationMs) })}`;
    if (c.status === "pass") return `${open}>\n      <system-out>${text(`${c.title}: ${c.message}`)}</system-out>\n    </testcase>`;
    if (c.status === "skip") return `${open}>\n      <skipped ${attrs({ message: c.message })}/>\n    </testcase>`;
    return `${open}>\n      <failure ${attrs({ message: c.message, type: "SmokeCheckFailed" })}>${text(`${c.title}: ${c.message}`)}</failure>\n    </testcase>`;
  });
  return [`  <testsuite ${attrs({ name: `helk smoke ${component}`, ...counts(checks), time: secondsAttr(totalMs), timestamp })}>`, ...cases, `  </testsuite>`].join("\n");
}

function counts(checks: CheckResult[]): Record<string, number> {
  return {
    tests: checks.length,
    failures: checks.filter((c) => c.status === "fail").length,
    errors: 0,
    skipped: checks.filter((c) => c.status === "skip").length,
  };
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${text(String(v)).replace(/"/g, "&quot;").replace(/\n/g, "&#10;")}"`)
    .join(" ");
}

/** XML character data: escaped, and without the control characters XML 1.0 cannot carry at all. */
function text(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

function secondsAttr(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

function oneLine(value: string): string {
  return value.replace(/\s*\n\s*/g, " ⏎ ");
}
