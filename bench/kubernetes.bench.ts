import { kubernetesBinaries, startControlPlane } from "../harness/kubernetes/control-plane.ts";
import type { BenchResult } from "./run.ts";

/**
 * Warm start of the Kubernetes control plane of the `kubernetes` test project: etcd, kube-apiserver (/readyz),
 * kube-controller-manager (controllers at work) and kube-scheduler (/healthz), with this run's certificates.
 */
export async function run(): Promise<BenchResult[]> {
  await kubernetesBinaries(); // a first build would time Go, not the start
  const ready: Record<string, number> = {};
  const started = Date.now();
  const controlPlane = await startControlPlane({
    onProgress: (message) => {
      ready[message.split(" ")[0]!] = (Date.now() - started) / 1000;
    },
  });
  const allReady = (Date.now() - started) / 1000;
  const stopping = Date.now();
  await controlPlane.stop();
  const stopped = (Date.now() - stopping) / 1000;
  return [
    ...Object.entries(ready).map(([name, seconds]) => ({ name: `${name} ready (warm)`, value: Math.round(seconds * 10) / 10, unit: "s" })),
    { name: "Kubernetes control plane ready (warm)", value: Math.round(allReady * 10) / 10, unit: "s", target: "< 60 s", ok: allReady < 60 },
    { name: "control plane stopped, no process left", value: Math.round(stopped * 10) / 10, unit: "s" },
  ];
}
