import { hash } from "node:crypto";
import ipaddr from "ipaddr.js";

/**
 * Community ID flow hash, version 1 (corelight/community-id-spec): one id per bidirectional flow, the same
 * whichever side reported it, so events of different sensors (Sysmon 3, Security 5156, Zeek, Suricata) can be
 * joined. `1:` + base64(sha1(seed ‖ lower endpoint addr ‖ other addr ‖ proto ‖ 0 ‖ ports)), big-endian.
 */

export interface Flow {
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, 132 sctp, ...). */
  protocol: number;
  sourceIp: string;
  destinationIp: string;
  /** Ports for tcp/udp/sctp; for icmp and icmpv6 the message type (source) and code (destination). */
  sourcePort?: number;
  destinationPort?: number;
}

const ICMP = 1;
const ICMP6 = 58;
/** Protocols whose tuple includes ports (or ICMP type/code). */
const PORT_PROTOCOLS = new Set([6, 17, 132, ICMP, ICMP6]);

/** ICMP message types and their counterparts (request ↔ reply): such flows are two-way. */
const ICMP_COUNTERPARTS: ReadonlyMap<number, number> = new Map([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17],
]);
const ICMP6_COUNTERPARTS: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128], [133, 134], [134, 133], [135, 136], [136, 135], [139, 140], [140, 139], [144, 145], [145, 144],
]);

/** Address bytes per address text (a stream has few distinct addresses; bounded). */
const addresses = new Map<string, Buffer>();

function addressBytes(ip: string): Buffer {
  let bytes = addresses.get(ip);
  if (bytes === undefined) {
    const parsed = ipaddr.parse(ip);
    // An IPv4-mapped IPv6 address hashes as the IPv4 address it carries, as sensors that saw IPv4 do.
    const address = parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
    bytes = Buffer.from(address.toByteArray());
    if (addresses.size >= 50_000) addresses.clear();
    addresses.set(ip, bytes);
  }
  return bytes;
}

/** The hashed tuple, written in place: seed 2, addresses 2 × up to 16, protocol and padding 2, ports 4. */
const tuple = Buffer.alloc(40);

/** The flow's Community ID v1 string; throws on an address that is not an IP address. */
export function communityId(flow: Flow, seed = 0): string {
  let src = addressBytes(flow.sourceIp);
  let dst = addressBytes(flow.destinationIp);
  const withPorts = PORT_PROTOCOLS.has(flow.protocol);
  let sport = flow.sourcePort ?? 0;
  let dport = flow.destinationPort ?? 0;
  let oneWay = false;
  if (flow.protocol === ICMP || flow.protocol === ICMP6) {
    const counterpart = (flow.protocol === ICMP ? ICMP_COUNTERPARTS : ICMP6_COUNTERPARTS).get(sport);
    if (counterpart === undefined) oneWay = true;
    else dport = counterpart;
  }
  const order = Buffer.compare(src, dst);
  if (!oneWay && (order > 0 || (order === 0 && withPorts && sport > dport))) {
    [src, dst] = [dst, src];
    [sport, dport] = [dport, sport];
  }
  let at = tuple.writeUInt16BE(seed, 0);
  at += src.copy(tuple, at);
  at += dst.copy(tuple, at);
  at = tuple.writeUInt8(flow.protocol, at);
  at = tuple.writeUInt8(0, at);
  if (withPorts) at = tuple.writeUInt16BE(dport, tuple.writeUInt16BE(sport, at));
  return `1:${hash("sha1", tuple.subarray(0, at), "base64")}`;
}
