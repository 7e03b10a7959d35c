import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inClusterApi } from "../../setup/job-wait.ts";

// Waiting itself runs against a real API server in test/kubernetes/cluster.k8s.test.ts.
describe("helk setup wait-jobs: the pod's view of its cluster", () => {
  const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };

  it("says it is not in a pod when the in-cluster env is missing", () => {
    expect(() => inClusterApi({}, "/nowhere")).toThrow(/KUBERNETES_SERVICE_HOST.*not running in a Kubernetes pod/);
  });

  it("names the missing service-account file and where it looked", () => {
    const dir = mkdtempSync(join(tmpdir(), "helk-sa-"));
    writeFileSync(join(dir, "namespace"), "helk\n");
    writeFileSync(join(dir, "ca.crt"), "CA");
    expect(() => inClusterApi(env, dir).token()).toThrow(new RegExp(`no service-account token at ${dir} \\(is the token volume mounted\\?\\)`));
  });

  it("reads the namespace, CA and a fresh token at each call (tokens are rotated)", () => {
    const dir = mkdtempSync(join(tmpdir(), "helk-sa-"));
    for (const [name, text] of [["namespace", "helk\n"], ["ca.crt", "CA"], ["token", "first"]]) writeFileSync(join(dir, name!), text!);
    const api = inClusterApi({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" }, dir);
    expect(api).toMatchObject({ url: "https://[fd00::1]:6443", namespace: "helk" });
    expect(api.token()).toBe("first");
    writeFileSync(join(dir, "token"), "second");
    expect(api.token()).toBe("second");
  });
});
