import ipaddr from "ipaddr.js";
import { communityId } from "./community-id.ts";
import type { EventDocument } from "./normalize.ts";

/**
 * Network enrichment of events with addresses: the class of each address (IPv4 and IPv6, ranges from
 * ipaddr.js), IPv4-mapped IPv6 written as IPv4, the Community ID of the flow, and — only when the user gave
 * MaxMind databases — GeoIP and ASN of public addresses.
 *
 * Fields per side (`src_`, `dst_`): `<side>_ip_type` (private, public, loopback, link_local, multicast,
 * unspecified, broadcast, reserved), `<side>_ip_range` (ipaddr.js's finer range name: carrierGradeNat,
 * uniqueLocal, teredo, ...), `<side>_ip_version` (4 or 6), `<side>_geo` and `<side>_as` (public addresses,
 * with databases). An address that does not parse is left as it is, unclassified.
 */

export type IpType = "private" | "public" | "loopback" | "link_local" | "multicast" | "unspecified" | "broadcast" | "reserved";

/** ipaddr.js range names → our classes; ranges not listed are reserved or special-purpose. */
const TYPE_OF_RANGE: Record<string, IpType> = {
  unicast: "public",
  "6to4": "public",
  teredo: "public",
  rfc6052: "public",
  amt: "public",
  as112: "public",
  as112v6: "public",
  orchid2: "public",
  droneRemoteIdProtocolEntityTags: "public",
  private: "private",
  uniqueLocal: "private",
  carrierGradeNat: "private",
  loopback: "loopback",
  linkLocal: "link_local",
  multicast: "multicast",
  unspecified: "unspecified",
  broadcast: "broadcast",
};

export interface IpClass {
  /** The address as indexed: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes IPv4. */
  ip: string;
  type: IpType;
  range: string;
  version: 4 | 6;
}

/** An address's class, or undefined when it is not an IP address. */
export function classifyIp(text: string): IpClass | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  let address = ipaddr.parse(text);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const range = address.range();
  const version = address.kind() === "ipv4" ? 4 : 6;
  return { ip: version === 4 ? address.toString() : text, type: TYPE_OF_RANGE[range] ?? "reserved", range, version };
}

/** GeoIP and ASN of one address (MaxMind-format databases, see `enrichment/geoip.ts`). */
export interface GeoInfo {
  geo?: { country_iso_code?: string; country_name?: string; city_name?: string; location?: { lat: number; lon: number } };
  as?: { number?: number; organization?: string };
}

export interface GeoResolver {
  lookup(ip: string): GeoInfo | undefined;
}

const PROTOCOL_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, "ipv6-icmp": 58, icmpv6: 58, sctp: 132 };

/** Classification answers per address text: a stream has few distinct addresses. Bounded. */
const classes = new Map<string, IpClass | null>();

function cachedClass(text: string): IpClass | undefined {
  let found = classes.get(text);
  if (found === undefined) {
    found = classifyIp(text) ?? null;
    if (classes.size >= 50_000) classes.clear();
    classes.set(text, found);
  }
  return found ?? undefined;
}

const sideFields = (side: "src" | "dst") => ({
  ip: `${side}_ip`,
  type: `${side}_ip_type`,
  range: `${side}_ip_range`,
  version: `${side}_ip_version`,
  geo: `${side}_geo`,
  as: `${side}_as`,
});
const SOURCE = sideFields("src");
const DESTINATION = sideFields("dst");

function classifySide(doc: EventDocument, side: typeof SOURCE, geo: GeoResolver | undefined): boolean {
  const ip = doc[side.ip];
  if (typeof ip !== "string") return false;
  const found = cachedClass(ip);
  if (found === undefined) return false;
  doc[side.ip] = found.ip;
  doc[side.type] = found.type;
  doc[side.range] = found.range;
  doc[side.version] = found.version;
  if (geo !== undefined && found.type === "public") {
    const info = geo.lookup(found.ip);
    if (info?.geo !== undefined) doc[side.geo] = info.geo;
    if (info?.as !== undefined) doc[side.as] = info.as;
  }
  return true;
}

/** Adds address classes, GeoIP/ASN (with a resolver) and the Community ID (both ends and a known protocol). */
export function enrichNetwork(doc: EventDocument, geo?: GeoResolver): void {
  if (doc.src_ip === undefined && doc.dst_ip === undefined) return;
  const src = classifySide(doc, SOURCE, geo);
  const dst = classifySide(doc, DESTINATION, geo);
  if (!src || !dst || doc.network_protocol === undefined) return;
  const protocol = PROTOCOL_NUMBERS[doc.network_protocol] ?? (/^\d+$/.test(doc.network_protocol) ? Number(doc.network_protocol) : undefined);
  if (protocol === undefined || protocol > 255) return;
  doc.community_id = communityId({
    protocol,
    sourceIp: doc.src_ip!,
    destinationIp: doc.dst_ip!,
    sourcePort: doc.src_port,
    destinationPort: doc.dst_port,
  });
}
