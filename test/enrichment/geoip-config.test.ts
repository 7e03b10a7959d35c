import { describe, expect, it } from "vitest";
import { parseHelkConfig } from "../../components/config.ts";
import { describeDeployment } from "../../components/deployment.ts";
import { dockerTopology } from "../../components/docker.ts";
import { loadConfig } from "../../enrichment/config.ts";
import { EnvContractError } from "../../lib/contract/env.ts";
import * as geoipEnv from "../../lib/contract/geoip-env.ts";

/** The enrichment service of a docker stack with these `helk:enrichment` settings. */
function enrichmentService(enrichment: object) {
  const config = parseHelkConfig({ target: "docker", enrichment });
  return describeDeployment(config, dockerTopology(config.name)).services.find((s) => s.name === "enrichment")!;
}

const minimal = { HELK_KAFKA_BROKERS: "127.0.0.1:9092", HELK_ENGINE_KIND: "opensearch", HELK_ENGINE_URL: "http://127.0.0.1:9200" };

describe("GeoIP from stack config to the service's environment", () => {
  it("mounts each database read-only and names its container path in the env the service parses back", () => {
    const service = enrichmentService({ geoip: { cityDatabaseFile: "/srv/geoip/GeoLite2-City.mmdb", asnDatabaseFile: "/srv/geoip/GeoLite2-ASN.mmdb" } });
    expect(service.hostFiles).toEqual([
      { hostPath: "/srv/geoip/GeoLite2-City.mmdb", mountPath: "/mnt/helk/geoip/city/GeoLite2-City.mmdb" },
      { hostPath: "/srv/geoip/GeoLite2-ASN.mmdb", mountPath: "/mnt/helk/geoip/asn/GeoLite2-ASN.mmdb" },
    ]);
    const env = Object.fromEntries(Object.entries(service.env).filter((e): e is [string, string] => typeof e[1] === "string"));
    expect(geoipEnv.fromEnv(env)).toEqual({ city: "/mnt/helk/geoip/city/GeoLite2-City.mmdb", asn: "/mnt/helk/geoip/asn/GeoLite2-ASN.mmdb" });
    expect(loadConfig({ ...minimal, ...geoipEnv.toEnv({ asn: "/mnt/helk/geoip/asn/GeoLite2-ASN.mmdb" }) }).HELK_GEOIP_ASN_DATABASE).toBe(
      "/mnt/helk/geoip/asn/GeoLite2-ASN.mmdb",
    );
  });

  it("keeps both databases apart when their files share a name", () => {
    const service = enrichmentService({ geoip: { cityDatabaseFile: "/a/geo.mmdb", asnDatabaseFile: "/b/geo.mmdb" } });
    expect(service.hostFiles!.map((f) => f.mountPath)).toEqual(["/mnt/helk/geoip/city/geo.mmdb", "/mnt/helk/geoip/asn/geo.mmdb"]);
  });

  it("leaves GeoIP off (no variable, no mount) without the key", () => {
    const service = enrichmentService({});
    expect(Object.keys(service.env).filter((k) => k.startsWith("HELK_GEOIP_"))).toEqual([]);
    expect(service.hostFiles).toEqual([]);
    expect(geoipEnv.fromEnv({})).toEqual({});
  });

  it("refuses a relative database path in the environment, naming the variable", () => {
    expect(() => geoipEnv.fromEnv({ HELK_GEOIP_CITY_DATABASE: "GeoLite2-City.mmdb" })).toThrow(EnvContractError);
    expect(() => geoipEnv.fromEnv({ HELK_GEOIP_CITY_DATABASE: "GeoLite2-City.mmdb" })).toThrow(
      /HELK_GEOIP_CITY_DATABASE \("GeoLite2-City.mmdb"\): must be an absolute path of a MaxMind-format/,
    );
  });
});
