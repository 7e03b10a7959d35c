import { z } from "zod";
import { namedEnv, namedSettings, parseEnv } from "./env.ts";

/**
 * Where the enrichment service finds the MaxMind-format databases for GeoIP and ASN of public addresses
 * (paths inside its container; none is shipped, so the enrichment is off while neither is set).
 */
export const GEOIP_ENV = { city: "HELK_GEOIP_CITY_DATABASE", asn: "HELK_GEOIP_ASN_DATABASE" } as const;

const databasePath = z.string().startsWith("/", "must be an absolute path of a MaxMind-format (.mmdb) database file");

export const geoipEnvShape = {
  /** A City or Country database (`GeoLite2-City.mmdb`). */
  [GEOIP_ENV.city]: databasePath.optional(),
  /** An ASN database (`GeoLite2-ASN.mmdb`). */
  [GEOIP_ENV.asn]: databasePath.optional(),
} as const;

export const geoipEnvSchema = z.object(geoipEnvShape);

/** The GeoIP databases to open; neither: GeoIP off. */
export interface GeoIpDatabases {
  city?: string;
  asn?: string;
}

export function toEnv(databases: GeoIpDatabases): Record<string, string> {
  return namedEnv(GEOIP_ENV, databases);
}

/** The databases from an environment (or from settings already parsed with {@link geoipEnvShape}). */
export function fromEnv(env: Record<string, string | undefined>): GeoIpDatabases {
  const given = namedEnv(GEOIP_ENV, namedSettings(GEOIP_ENV, env));
  return namedSettings(GEOIP_ENV, parseEnv(geoipEnvSchema, given, "GeoIP settings"));
}
