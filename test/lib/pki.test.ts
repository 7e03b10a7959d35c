import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { connect, createServer, type TLSSocket } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
  issueCertificate,
  kafkaPemKeystore,
  PkiError,
} from "../../lib/pki.ts";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let broker: IssuedCertificate;
let foreignBroker: IssuedCertificate;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createCertificateAuthority({ commonName: "helk CA (test)" }), createCertificateAuthority({ commonName: "helk CA (test)" })]);
  const brokerOptions = {
    commonName: "helk-kafka-0",
    dnsNames: ["helk-kafka-0.helk-kafka-headless", "kafka"],
    ipAddresses: ["127.0.0.1", "::1"],
    usage: "server-and-client" as const,
  };
  [broker, foreignBroker] = await Promise.all([issueCertificate(ca, brokerOptions), issueCertificate(otherCa, brokerOptions)]);
});

describe("a deployment's CA", () => {
  it("is a self-signed CA certificate limited to signing end-entity certificates", () => {
    const cert = new X509Certificate(ca.certificatePem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe("CN=helk CA (test)");
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.toLegacyObject().ext_key_usage).toBeUndefined();
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
  });

  it("is a new one each time (a CA per deployment)", () => {
    expect(new X509Certificate(ca.certificatePem).serialNumber).not.toBe(new X509Certificate(otherCa.certificatePem).serialNumber);
    expect(new X509Certificate(ca.certificatePem).publicKey.equals(new X509Certificate(otherCa.certificatePem).publicKey)).toBe(false);
  });
});

describe("an issued server certificate", () => {
  it("chains to its CA: signature verifies, issuer matches, key pairs with its private key", () => {
    const cert = new X509Certificate(broker.certificatePem);
    const issuer = new X509Certificate(ca.certificatePem);
    expect(cert.verify(issuer.publicKey)).toBe(true);
    expect(cert.checkIssued(issuer)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkPrivateKey(createPrivateKey(broker.keyPem))).toBe(true);
    expect(broker.chainPem).toBe(broker.certificatePem + ca.certificatePem);
    expect(broker.caPem).toBe(ca.certificatePem);
  });

  it("names exactly the DNS names and addresses it was issued for", () => {
    const cert = new X509Certificate(broker.certificatePem);
    expect(cert.subject).toBe("CN=helk-kafka-0");
    expect(cert.subjectAltName).toBe("DNS:helk-kafka-0.helk-kafka-headless, DNS:kafka, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(cert.checkHost("kafka")).toBe("kafka");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("helk-kafka-1.helk-kafka-headless")).toBeUndefined();
    expect(cert.checkIP("127.0.0.2")).toBeUndefined();
    expect(cert.keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
  });

  it("does not verify against another CA, even one of the same name", () => {
    const cert = new X509Certificate(foreignBroker.certificatePem);
    const issuer = new X509Certificate(ca.certificatePem);
    expect(cert.issuer).toBe(issuer.subject);
    expect(cert.verify(issuer.publicKey)).toBe(false);
    expect(cert.checkIssued(issuer)).toBe(false);
  });

  it("is accepted by a TLS client trusting its CA, and refused by one trusting another CA", async () => {
    const server = createServer({ key: broker.keyPem, cert: broker.chainPem }, (socket) => socket.end("hello"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    const handshake = (ca: string) =>
      new Promise<string>((resolve, reject) => {
        const socket: TLSSocket = connect({ host: "127.0.0.1", port, ca, rejectUnauthorized: true }, () => {
          socket.once("data", (data) => {
            resolve(String(data));
            socket.end();
          });
        });
        socket.once("error", reject);
      });
    try {
      expect(await handshake(ca.certificatePem)).toBe("hello");
      await expect(handshake(otherCa.certificatePem)).rejects.toThrow(/certificate/);
    } finally {
      server.close();
    }
  });

  it("never outlives its CA", async () => {
    const shortCa = await createCertificateAuthority({ commonName: "short", validDays: 10 });
    const cert = await issueCertificate(shortCa, { commonName: "x", dnsNames: ["x"], usage: "server", validDays: 825 });
    const validTo = (pem: string) => new Date(new X509Certificate(pem).validTo);
    expect(validTo(cert.certificatePem)).toEqual(validTo(shortCa.certificatePem));
    expect(validTo(cert.certificatePem).getTime() - Date.now()).toBeLessThan(11 * 86_400_000);
  });
});

describe("a client certificate", () => {
  it("needs no address and is for client authentication only", async () => {
    const cert = new X509Certificate((await issueCertificate(ca, { commonName: "enrichment", usage: "client" })).certificatePem);
    expect(cert.subjectAltName).toBeUndefined();
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
  });
});

describe("refused options", () => {
  it("names what is wrong", async () => {
    await expect(issueCertificate(ca, { commonName: "kafka", usage: "server" })).rejects.toThrow(
      new PkiError('a server certificate for "kafka" needs at least one of dnsNames, ipAddresses (what clients dial)'),
    );
    await expect(issueCertificate(ca, { commonName: "kafka", ipAddresses: ["localhost"], usage: "server" })).rejects.toThrow(
      'ipAddresses: "localhost" is not an IPv4 or IPv6 address',
    );
    await expect(issueCertificate(ca, { commonName: "kafka", dnsNames: ["bad name"], usage: "server" })).rejects.toThrow('dnsNames: "bad name" is not a DNS name');
    await expect(createCertificateAuthority({ commonName: " " })).rejects.toThrow("commonName must not be empty");
    await expect(issueCertificate({ ...ca, keyPem: "not a key" }, { commonName: "kafka", dnsNames: ["kafka"], usage: "server" })).rejects.toThrow(
      'the CA key is not a PEM "PRIVATE KEY" (PKCS#8)',
    );
  });
});

describe("the Kafka PEM keystore", () => {
  it("holds the private key, then the certificate chain", () => {
    const store = kafkaPemKeystore(broker);
    expect(store).toBe(broker.keyPem + broker.certificatePem + ca.certificatePem);
    expect(store.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
  });
});
