/**
 * Every name a deployment gives what it creates, from the deployment name (`helk:name`, the prefix) and the
 * workload names of the model. Both renderers, synth and e2e compute names only here. A name is part of the state's
 * identity (Pulumi URNs, container, volume and Kubernetes object names): changing one replaces what carries it.
 */

/** A workload: Docker network alias and job container; Kubernetes StatefulSet, Deployment, Job and ClusterIP Service. */
export function workloadName(prefix: string, workload: string): string {
  return `${prefix}-${workload}`;
}

/** Instance `ordinal` of a service: Docker container; Kubernetes pod of a StatefulSet. */
export function instanceName(prefix: string, workload: string, ordinal: number | string): string {
  return `${workloadName(prefix, workload)}-${ordinal}`;
}

/** Kubernetes headless Service giving each pod of a stateful workload its DNS name. */
export function headlessServiceName(prefix: string, workload: string): string {
  return `${workloadName(prefix, workload)}-headless`;
}

/** Docker named volume of one instance. */
export function instanceVolumeName(prefix: string, workload: string, ordinal: number, volume: string): string {
  return `${instanceName(prefix, workload, ordinal)}-${volume}`;
}

/** Kubernetes volume claim (template) of a workload. */
export function volumeClaimName(prefix: string, workload: string, volume: string): string {
  return `${workloadName(prefix, workload)}-${volume}`;
}

/** The Docker bridge network of the deployment. */
export function networkName(prefix: string): string {
  return prefix;
}

/** The Secret with the generated or given credentials (default of `helk:kubernetes.credentialsSecret`). */
export function credentialsSecretName(prefix: string): string {
  return `${prefix}-credentials`;
}

/** The Kubernetes Secret with the engine's node-to-node TLS certificates (secured multi-node Elasticsearch). */
export function transportTlsSecretName(prefix: string): string {
  return `${prefix}-engine-transport-tls`;
}

/** Kubernetes NetworkPolicy denying all ingress in the namespace unless a workload's policy allows it. */
export function defaultDenyPolicyName(prefix: string): string {
  return `${prefix}-default-deny-ingress`;
}

/** Kubernetes NetworkPolicy with the ingress a service accepts. */
export function ingressPolicyName(prefix: string, workload: string): string {
  return `${workloadName(prefix, workload)}-ingress`;
}
