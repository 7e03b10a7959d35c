/**
 * Which event-log channels the service accepts. Patterns are matched case-insensitively; `*` matches any
 * run of characters. An exact (non-pattern) entry also fixes the spelling: `security` becomes `Security`.
 */
export const DEFAULT_KNOWN_CHANNELS = [
  "Security", "System", "Application", "Setup", "ForwardedEvents", "Windows PowerShell", "Directory Service",
  "DNS Server", "DFS Replication", "File Replication Service", "Key Management Service", "HardwareEvents",
  "Internet Explorer", "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-PowerShell/Operational",
  "Microsoft-Windows-*", "Microsoft-Exchange-*", "MSExchange*",
];

export class ChannelFilter {
  private readonly exact = new Map<string, string>();
  private readonly patterns: RegExp[] = [];
  /** Answers per channel seen: a stream has few distinct channels. Bounded against floods of made-up names. */
  private readonly seen = new Map<string, string | null>();

  constructor(known: readonly string[] = DEFAULT_KNOWN_CHANNELS) {
    for (const entry of known) {
      if (entry.includes("*")) {
        const body = entry.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
        this.patterns.push(new RegExp(`^${body}$`, "i"));
      } else this.exact.set(entry.toLowerCase(), entry);
    }
  }

  /** The channel's canonical spelling, or undefined when it is not a known channel. */
  canonical(channel: string): string | undefined {
    const cached = this.seen.get(channel);
    if (cached !== undefined) return cached ?? undefined;
    const answer = this.exact.get(channel.toLowerCase()) ?? (this.patterns.some((p) => p.test(channel)) ? channel : null);
    if (this.seen.size < 1_000) this.seen.set(channel, answer);
    return answer ?? undefined;
  }
}
