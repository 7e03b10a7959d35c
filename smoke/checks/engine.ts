import { ATTACK_ALIAS, TEMPLATE_NAMES } from "../../lib/contract/names.ts";
import type { Engine } from "../../lib/engine.ts";
import type { StackEndpoints } from "../endpoints.ts";
import type { CheckGroup } from "../runner.ts";

/** Index templates the enrichment service installs at start-up (common contract). */
const requiredTemplates = Object.values(TEMPLATE_NAMES);
/** Alias in front of the versioned ATT&CK technique indices. */
const attackIndex = ATTACK_ALIAS;

export function engineChecks(engine: Engine, endpoints: StackEndpoints): CheckGroup {
  return {
    component: "engine",
    checks: [
      {
        id: "engine.health",
        component: "engine",
        title: "cluster health green or yellow",
        async run() {
          const { body } = await engine.request<{ status: string; cluster_name: string; number_of_nodes: number }>({
            method: "GET",
            path: "/_cluster/health",
          });
          if (body.status !== "green" && body.status !== "yellow") {
            throw new Error(`${engine.kind} at ${engine.url}: cluster ${body.cluster_name} health is ${body.status}`);
          }
          return { status: "pass", message: `${engine.kind} cluster ${body.cluster_name} is ${body.status}, ${body.number_of_nodes} node(s)` };
        },
      },
      {
        id: "engine.templates",
        component: "engine",
        title: `index templates ${requiredTemplates.join(", ")} present`,
        async run() {
          if (!endpoints.enrichment) {
            return { status: "skip", message: "the enrichment service installs them, and the stack deploys none (endpoints.enrichment is null)" };
          }
          const missing: string[] = [];
          for (const name of requiredTemplates) {
            const res = await engine.request({ method: "GET", path: `/_index_template/${name}`, ignore: [404] });
            if (res.status === 404) missing.push(name);
          }
          if (missing.length > 0) throw new Error(`${engine.kind} at ${engine.url} has no index template ${missing.join(", ")}`);
          return { status: "pass", message: `templates ${requiredTemplates.join(", ")} present` };
        },
      },
      {
        id: "engine.attack",
        component: "engine",
        title: `ATT&CK index ${attackIndex} populated`,
        async run() {
          const res = await engine.request<{ count?: number }>({ method: "GET", path: `/${attackIndex}/_count`, ignore: [404] });
          if (res.status === 404) throw new Error(`${engine.kind} at ${engine.url} has no index or alias ${attackIndex}`);
          const count = res.body.count ?? 0;
          if (count === 0) throw new Error(`${engine.kind} at ${engine.url}: ${attackIndex} is empty (ATT&CK not loaded)`);
          return { status: "pass", message: `${attackIndex} holds ${count} technique document(s)` };
        },
      },
    ],
  };
}
