#!/usr/bin/env bash
# Prerequisites of the Kubernetes suite (test/**/*.k8s.test.ts): openssl for the per-run certificates, flock, and
# the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) built with Go into the
# cache once (harness/kubernetes/build.sh; the first build takes long, see README). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "kubernetes: installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
start=$SECONDS
bash harness/kubernetes/build.sh
echo "kubernetes: control plane binaries ready in $((SECONDS - start)) s"
