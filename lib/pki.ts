import { KeyObject, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/**
 * The deployment's own PKI: one certificate authority per deployment, and certificates it issues to each
 * service (servers with the DNS names and addresses clients dial, clients that authenticate with TLS). All keys
 * are ECDSA P-256 and written as unencrypted PKCS#8 PEM, the form Kafka 4 (`ssl.keystore.type=PEM`), Node's tls
 * and Python's ssl all read; whoever stores them keeps them as secrets (files of mode 0600, Kubernetes Secrets).
 */

const crypto = webcrypto;
x509.cryptoProvider.set(crypto);

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;
/** Certificates start this much in the past, so a peer whose clock is a little behind accepts them at once. */
const BACKDATE_MS = 5 * 60_000;

/** Default validity of a deployment's CA. */
export const DEFAULT_CA_DAYS = 3650;
/** Default validity of an issued certificate (the longest browsers accept, a habit worth keeping). */
export const DEFAULT_CERTIFICATE_DAYS = 825;

/** A certificate authority: its certificate and private key, both PEM. The key is a secret. */
export interface CertificateAuthority {
  certificatePem: string;
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
  keyPem: string;
}

/** A certificate issued by a {@link CertificateAuthority}, with its private key and the CA's certificate. */
export interface IssuedCertificate {
  certificatePem: string;
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
  keyPem: string;
  /** The certificate, then the CA's: what a server presents. */
  chainPem: string;
  /** The issuing CA's certificate: what peers trust. */
  caPem: string;
}

export interface CaOptions {
  /** Subject common name, e.g. `helk CA (lab)`. */
  commonName: string;
  /** Default {@link DEFAULT_CA_DAYS}. */
  validDays?: number;
  /** Default now. */
  now?: Date;
}

/** What an issued certificate is for: `server` (TLS server auth), `client` (TLS client auth) or both. */
export type CertificateUsage = "server" | "client" | "server-and-client";

export interface CertificateOptions {
  /** Subject common name: the service or user it names (for client certificates, the principal's name). */
  commonName: string;
  /** Names clients dial; server certificates need at least one DNS name or IP address. */
  dnsNames?: readonly string[];
  /** IPv4 or IPv6 addresses clients dial. */
  ipAddresses?: readonly string[];
  usage: CertificateUsage;
  /** Default {@link DEFAULT_CERTIFICATE_DAYS}; never past the CA's own expiry. */
  validDays?: number;
  /** Default now. */
  now?: Date;
}

/** Thrown for an option that cannot make a valid certificate; the message names the option and value. */
export class PkiError extends Error {
  override name = "PkiError";
}

/** Creates a new CA: self-signed, allowed to sign end-entity certificates only (path length 0). */
export async function createCertificateAuthority(options: CaOptions): Promise<CertificateAuthority> {
  const days = positiveDays(options.validDays ?? DEFAULT_CA_DAYS, "validDays");
  const keys = await generateKeys();
  const notBefore = new Date((options.now ?? new Date()).getTime() - BACKDATE_MS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(options.commonName),
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: certificate.toString("pem") + "\n", keyPem: await privateKeyPem(keys.privateKey) };
}

/** Issues a certificate signed by `ca` for a new key pair. */
export async function issueCertificate(ca: CertificateAuthority, options: CertificateOptions): Promise<IssuedCertificate> {
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new PkiError(`ipAddresses: "${ip}" is not an IPv4 or IPv6 address`);
  for (const dns of dnsNames)
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(dns))
      throw new PkiError(`dnsNames: "${dns}" is not a DNS name`);
  if (options.usage !== "client" && dnsNames.length + ipAddresses.length === 0)
    throw new PkiError(`a ${options.usage} certificate for "${options.commonName}" needs at least one of dnsNames, ipAddresses (what clients dial)`);

  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const caKey = await crypto.subtle.importKey("pkcs8", pemBody(ca.keyPem, "PRIVATE KEY", "the CA key"), { ...KEY_ALGORITHM }, false, ["sign"]);
  const keys = await generateKeys();
  const notBefore = new Date((options.now ?? new Date()).getTime() - BACKDATE_MS);
  const days = positiveDays(options.validDays ?? DEFAULT_CERTIFICATE_DAYS, "validDays");
  // A certificate outliving its CA would be refused by peers once the CA expires; stop at the CA's end instead.
  const notAfter = new Date(Math.min(notBefore.getTime() + days * DAY_MS, caCertificate.notAfter.getTime()));
  const purposes = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    "server-and-client": [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[options.usage];
  const names = [...dnsNames.map((value) => ({ type: "dns" as const, value })), ...ipAddresses.map((value) => ({ type: "ip" as const, value }))];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(options.commonName),
    issuer: caCertificate.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(purposes, false),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate, false),
    ],
  });
  const certificatePem = certificate.toString("pem") + "\n";
  return { certificatePem, keyPem: await privateKeyPem(keys.privateKey), chainPem: certificatePem + ca.certificatePem, caPem: ca.certificatePem };
}

/**
 * The one PEM file Kafka reads as a keystore (`ssl.keystore.type=PEM`, `ssl.keystore.location=<file>`, no
 * `ssl.key.password`: the key is not encrypted): the private key, then the certificate chain.
 */
export function kafkaPemKeystore(issued: IssuedCertificate): string {
  return issued.keyPem + issued.chainPem;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ ...KEY_ALGORITHM }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }) as string;
}

/** The DER bytes of the one `label` block of a PEM text. */
function pemBody(pem: string, label: string, what: string): ArrayBuffer {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!match) throw new PkiError(`${what} is not a PEM "${label}" (PKCS#8)`);
  const der = Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

/** A positive 128-bit serial number in hex (the high bit cleared: DER integers are signed). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("hex");
}

/** `CN=<name>`, with the characters RFC 4514 reserves escaped. */
function distinguishedName(commonName: string): string {
  if (commonName.trim() === "") throw new PkiError("commonName must not be empty");
  return `CN=${commonName.replace(/([,+"\\<>;=])/g, "\\$1").replace(/^([ #])/, "\\$1").replace(/ $/, "\\ ")}`;
}

function positiveDays(days: number, option: string): number {
  if (!Number.isInteger(days) || days < 1) throw new PkiError(`${option} must be a whole number of days >= 1, got ${days}`);
  return days;
}
