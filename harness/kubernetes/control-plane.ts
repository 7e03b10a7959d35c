import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { httpsJson, type HttpsJsonResponse } from "../../lib/https-json.ts";
import { freePort, keepRunDirs, makeRunDir, ServerProcess, type ServerHandle } from "../process.ts";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** The service CIDR the API server hands ClusterIPs from; its first address is the `kubernetes` Service. */
const SERVICE_CIDR = "10.96.0.0/24";

/** Status, parsed body and `Warning` headers (admission warnings such as Pod Security's). */
export type ApiResponse = HttpsJsonResponse;

export interface ControlPlaneOptions {
  /** Time to wait for each server to answer; the default suits a busy 2-core machine. */
  readyTimeoutMs?: number;
  onProgress?: (message: string) => void;
}

/**
 * A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (Node+RBAC authorization, default admission
 * plugins, Pod Security among them), kube-controller-manager and kube-scheduler, with keys and certificates made
 * for this run only. There is no kubelet: Nodes are API objects, pods get scheduled (bound) and never run.
 */
export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** Admin kubeconfig (client certificate in `system:masters`). */
  readonly kubeconfig: string;
  /** Where kubectl and the servers were built. */
  readonly binDir: string;
  readonly runDir: string;
  readonly servers: readonly ServerHandle[];
  /** A request as the admin; JSON bodies unless `contentType` says otherwise. Never throws on a status. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse>;
  /** Server-side apply of one object as `fieldManager` (conflicts forced, as a deploy tool does). */
  apply(object: Record<string, any>, fieldManager: string): Promise<ApiResponse>;
  /** Runs the built kubectl against this control plane. */
  kubectl(args: string[]): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Builds the binaries once into the cache (harness/kubernetes/build.sh) and returns their directory. */
export async function kubernetesBinaries(): Promise<string> {
  const { stdout } = await run("bash", [join(here, "build.sh")], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().split("\n").at(-1)!;
}

interface Pki {
  ca: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** A CA, the API server's serving certificate and an admin client certificate (openssl), and the service-account key pair. */
async function makePki(dir: string): Promise<Pki> {
  const file = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"];
  await run("openssl", [
    "req", "-x509", ...ec, "-keyout", file("ca.key"), "-out", file("ca.crt"), "-subj", "/CN=helk-test-kubernetes-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const leaf = (name: string, subject: string, extensions: string[]) =>
    run("openssl", [
      "req", "-x509", "-CA", file("ca.crt"), "-CAkey", file("ca.key"), ...ec, "-keyout", file(`${name}.key`), "-out", file(`${name}.crt`),
      "-subj", subject, "-addext", "basicConstraints=critical,CA:FALSE", ...extensions.flatMap((e) => ["-addext", e]),
    ]);
  await leaf("apiserver", "/CN=kube-apiserver", [
    "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
    "extendedKeyUsage=serverAuth",
  ]);
  await leaf("admin", "/O=system:masters/CN=helk-test-admin", ["extendedKeyUsage=clientAuth"]);
  const serviceAccount = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(file("sa.key"), serviceAccount.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(file("sa.pub"), serviceAccount.publicKey.export({ type: "spki", format: "pem" }));
  return {
    ca: file("ca.crt"),
    servingCert: file("apiserver.crt"),
    servingKey: file("apiserver.key"),
    adminCert: file("admin.crt"),
    adminKey: file("admin.key"),
    serviceAccountKey: file("sa.key"),
    serviceAccountPub: file("sa.pub"),
  };
}

function writeKubeconfig(path: string, url: string, pki: Pki): void {
  const b64 = (file: string) => readFileSync(file).toString("base64");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "helk-test", cluster: { server: url, "certificate-authority-data": b64(pki.ca) } }],
    users: [{ name: "admin", user: { "client-certificate-data": b64(pki.adminCert), "client-key-data": b64(pki.adminKey) } }],
    contexts: [{ name: "helk-test", context: { cluster: "helk-test", user: "admin" } }],
    "current-context": "helk-test",
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

/** The REST resource (plural name, scope) of a kind, from the API server's discovery documents. */
function discoveredResources(api: (method: string, path: string) => Promise<ApiResponse>) {
  const groups = new Map<string, Promise<{ name: string; kind: string; namespaced: boolean }[]>>();
  return async (apiVersion: string, kind: string) => {
    if (!groups.has(apiVersion)) {
      const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      groups.set(
        apiVersion,
        api("GET", path).then((res) => {
          if (res.status !== 200) throw new Error(`discovery of ${apiVersion}: HTTP ${res.status}`);
          return res.body.resources;
        }),
      );
    }
    const resource = (await groups.get(apiVersion)!).find((r) => r.kind === kind && !r.name.includes("/"));
    if (!resource) throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
    return resource;
  };
}

/** Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler and waits until each answers. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  const timeout = options.readyTimeoutMs ?? 300_000;
  const binDir = await kubernetesBinaries();
  const bin = (name: string) => join(binDir, name);
  const dir = makeRunDir("kubernetes");
  const removeRunDir = !keepRunDirs();
  const servers: ServerProcess[] = [];
  // Each server has its own directory: a stop kills what `pgrep -f <its directory>` still finds, so no other
  // server's command line may mention it (shared files live in pki/ and the top directory).
  const launch = (name: string, args: string[]) => {
    const runDir = join(dir, name);
    mkdirSync(runDir);
    return ServerProcess.launch({
      name,
      command: bin(name),
      args: args.map((arg) => arg.replaceAll("{dir}", runDir)),
      runDir,
      logFile: join(runDir, "server.log"),
      linkToParent: true,
      // The whole run directory goes once every server has stopped.
      removeRunDir: false,
      stopTimeoutMs: 10_000,
    }).then((server) => (servers.push(server), server));
  };
  // Last started first; every server is stopped even when one of them fails to stop cleanly.
  const stopAll = async () => {
    const failures: unknown[] = [];
    for (const server of [...servers].reverse()) await server.stop().catch((error: unknown) => failures.push(error));
    if (removeRunDir) rmSync(dir, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  };

  try {
    mkdirSync(join(dir, "pki"));
    const pki = await makePki(join(dir, "pki"));
    const tls = { ca: readFileSync(pki.ca), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey), rejectUnauthorized: true };
    const [etcdPort, peerPort, apiPort, controllerManagerPort, schedulerPort] = [
      await freePort(), await freePort(), await freePort(), await freePort(), await freePort(),
    ];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = await launch("etcd", [
      "--name", "helk-test",
      "--data-dir", "{dir}/data",
      "--listen-client-urls", etcdUrl,
      "--advertise-client-urls", etcdUrl,
      "--listen-peer-urls", `http://127.0.0.1:${peerPort}`,
      "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
      "--initial-cluster", `helk-test=http://127.0.0.1:${peerPort}`,
      // A test cluster's data is thrown away: no fsync wait on a shared disk.
      "--unsafe-no-fsync",
      "--log-level", "warn",
    ]);
    await etcd.waitUntilReady("GET /health", async () => (await fetch(`${etcdUrl}/health`)).ok, timeout);
    progress(`etcd ready at ${etcdUrl}`);

    const url = `https://127.0.0.1:${apiPort}`;
    const apiserver = await launch("kube-apiserver", [
      "--etcd-servers", etcdUrl,
      "--bind-address", "127.0.0.1",
      "--advertise-address", "127.0.0.1",
      // The `kubernetes` Service gets no endpoints: a loopback address may not be published, and no pod runs here.
      "--endpoint-reconciler-type", "none",
      "--secure-port", String(apiPort),
      "--tls-cert-file", pki.servingCert,
      "--tls-private-key-file", pki.servingKey,
      "--client-ca-file", pki.ca,
      "--service-account-key-file", pki.serviceAccountPub,
      "--service-account-signing-key-file", pki.serviceAccountKey,
      "--service-account-issuer", "https://kubernetes.default.svc",
      "--service-cluster-ip-range", SERVICE_CIDR,
      "--authorization-mode", "Node,RBAC",
      "--cert-dir", "{dir}/certs",
      "--profiling=false",
    ]);
    const apiCall = (method: string, path: string, body?: unknown, contentType?: string) =>
      httpsJson(`${url}${path}`, { method, body, ...(contentType ? { contentType } : {}), tls });
    await apiserver.waitUntilReady("GET /readyz", async () => (await apiCall("GET", "/readyz")).status === 200, timeout);
    progress(`kube-apiserver ready at ${url}`);

    const kubeconfig = join(dir, "admin.kubeconfig");
    writeKubeconfig(kubeconfig, url, pki);
    const common = ["--kubeconfig", kubeconfig, "--bind-address", "127.0.0.1", "--leader-elect=false"];
    const controllerManager = await launch("kube-controller-manager", [
      ...common,
      "--secure-port", String(controllerManagerPort),
      "--service-account-private-key-file", pki.serviceAccountKey,
      "--root-ca-file", pki.ca,
      "--cert-dir", "{dir}/certs",
      // Without kubelets no Node reports status: the node lifecycle controller would taint every Node unreachable
      // and evict the pods bound to it.
      "--controllers", "*,-node-lifecycle-controller",
    ]);
    const scheduler = await launch("kube-scheduler", [
      ...common,
      "--secure-port", String(schedulerPort),
      "--cert-dir", "{dir}/certs",
    ]);
    // Their serving certificates are self-signed for this run; the check stays on loopback.
    const healthz = (port: number) => httpsJson(`https://127.0.0.1:${port}/healthz`, { method: "GET", tls: { rejectUnauthorized: false } });
    await controllerManager.waitUntilReady("GET /healthz", async () => (await healthz(controllerManagerPort)).status === 200, timeout);
    // Controllers at work: the service-account controller gives every namespace its `default` ServiceAccount.
    await controllerManager.waitUntilReady(
      "default ServiceAccount created",
      async () => (await apiCall("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
      timeout,
    );
    progress("kube-controller-manager ready");
    await scheduler.waitUntilReady("GET /healthz", async () => (await healthz(schedulerPort)).status === 200, timeout);
    progress("kube-scheduler ready");

    const resources = discoveredResources(apiCall);
    const apply = async (object: Record<string, any>, fieldManager: string) => {
      const { metadata } = object;
      const resource = await resources(object.apiVersion, object.kind);
      const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
      const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(metadata.namespace)}` : "";
      const query = `fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
      return apiCall("PATCH", `${base}${scope}/${resource.name}/${encodeURIComponent(metadata.name)}?${query}`, object, "application/apply-patch+yaml");
    };

    return {
      url,
      kubeconfig,
      binDir,
      runDir: dir,
      servers,
      api: apiCall,
      apply,
      kubectl: (args) => run(bin("kubectl"), ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
