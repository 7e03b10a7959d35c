import type { HelkConfig } from "./config.ts";
import * as detectionsEnv from "../lib/contract/detections-env.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import { enrichmentImage } from "./enrichment.ts";
import { nodeServiceHealth, type ServiceSpec } from "./model.ts";
import { helkCommand } from "./setup.ts";

/** Arguments of the detections component. */
export interface DetectionsArgs {
  /** Validated `helk:detections` settings (defaults: a run every 10 s, 0.25 CPU, 384Mi). */
  settings: HelkConfig["detections"];
  /** The service runs `helk` from the enrichment image (it holds the CLI). */
  enrichment: HelkConfig["enrichment"];
  /** The engine component's endpoint: rules, events, alerts and the rules' checkpoints are all there. */
  engine: EngineEndpoint;
  /** Jobs that must complete before the service starts (the detection rules job). */
  after: string[];
}

/** Port of the service's /healthz and /metrics (inside the stack only: nothing is published). */
export const DETECTIONS_PORT = 8081;

/**
 * The detections service (`helk detections run`, detections/scheduler.ts): every `intervalSeconds` it runs the rules
 * the rules job deployed to helk-detection-rules over the events indexed since each rule's checkpoint, and writes
 * alerts to helk-alerts-*. Its state lives in the engine, so one replica suffices and a restart continues. Health
 * check needs node (fetch of `/healthz`).
 */
export function detectionsComponent(args: DetectionsArgs): { spec: ServiceSpec } {
  const { settings, engine } = args;
  const spec: ServiceSpec = {
    kind: "service",
    name: "detections",
    title: "Detections",
    image: enrichmentImage(args.enrichment),
    command: helkCommand("detections", "run", "--interval", String(settings.intervalSeconds * 1000), "--http-port", String(DETECTIONS_PORT)),
    env: detectionsEnv.toServiceEnv(engine),
    ports: [{ name: "http", port: DETECTIONS_PORT }],
    volumes: [],
    health: nodeServiceHealth(DETECTIONS_PORT, "/healthz"),
    resources: settings.resources,
    replicas: 1,
    stateful: false,
    peers: false,
    external: false,
    uses: ["engine"],
    after: args.after,
    runAsUser: 1000, // user `node` of the node base images
  };
  return { spec };
}
