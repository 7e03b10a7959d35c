import { type AsnResponse, type CityResponse, open, type Reader } from "maxmind";
import type { GeoIpDatabases } from "../lib/contract/geoip-env.ts";
import type { GeoInfo, GeoResolver } from "./transforms/network.ts";

export type { GeoIpDatabases } from "../lib/contract/geoip-env.ts";

/**
 * GeoIP and ASN of public addresses from MaxMind-format databases the user provides (GeoLite2/GeoIP2 City or
 * Country, and ASN; none is shipped, the enrichment is off without them; the service reads their paths from
 * `HELK_GEOIP_*`, see `lib/contract/geoip-env.ts`). Read with MaxMind's `maxmind` reader; answers are cached per
 * address by the reader.
 */

async function openDatabase<T extends CityResponse | AsnResponse>(what: string, path: string, expected: RegExp): Promise<Reader<T>> {
  let reader: Reader<T>;
  try {
    reader = await open<T>(path, { cache: { max: 10_000 } });
  } catch (err) {
    throw new Error(`GeoIP ${what} database ${path} cannot be read: ${(err as Error).message}`);
  }
  const type = reader.metadata.databaseType;
  if (!expected.test(type)) throw new Error(`GeoIP ${what} database ${path} is a "${type}" database, not ${what === "city" ? "a City or Country" : "an ASN"} one`);
  return reader;
}

/** Opens the given databases; undefined (GeoIP off) when none is given. Errors name the file and what is wrong. */
export async function openGeoIp(databases: GeoIpDatabases): Promise<GeoResolver | undefined> {
  if (databases.city === undefined && databases.asn === undefined) return undefined;
  const city = databases.city === undefined ? undefined : await openDatabase<CityResponse>("city", databases.city, /City|Country/i);
  const asn = databases.asn === undefined ? undefined : await openDatabase<AsnResponse>("asn", databases.asn, /ASN/i);
  return {
    lookup(ip: string): GeoInfo | undefined {
      const info: GeoInfo = {};
      const place = city?.get(ip);
      if (place) {
        info.geo = {
          country_iso_code: place.country?.iso_code,
          country_name: place.country?.names?.en,
          city_name: place.city?.names?.en,
          location: place.location === undefined ? undefined : { lat: place.location.latitude, lon: place.location.longitude },
        };
      }
      const network = asn?.get(ip);
      if (network) info.as = { number: network.autonomous_system_number, organization: network.autonomous_system_organization };
      return info.geo === undefined && info.as === undefined ? undefined : info;
    },
  };
}
