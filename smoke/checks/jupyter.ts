import type { StackEndpoints } from "../../lib/contract/endpoints.ts";
import { excerpt, under } from "../../lib/http.ts";
import { httpGet } from "../http.ts";
import type { CheckGroup } from "../runner.ts";

/** Jupyter Server's `GET /api/status`, authenticated with the token in a header (never in the URL). */
export function jupyterChecks(endpoints: StackEndpoints): CheckGroup {
  const jupyter = endpoints.jupyter;
  return {
    component: "jupyter",
    checks: [
      {
        id: "jupyter.status",
        component: "jupyter",
        title: "/api/status answers with the token",
        async run({ signal }) {
          if (!jupyter) return { status: "skip", message: "the stack deploys no Jupyter (endpoints.jupyter is null)" };
          const res = await httpGet("jupyter", under(jupyter.url, "api/status"), { headers: { authorization: `token ${jupyter.token}` }, signal });
          const body = res.body as { started?: string; kernels?: number };
          if (res.status === 401 || res.status === 403) throw new Error(`jupyter at ${jupyter.url} rejected the token (${res.status})`);
          if (res.status !== 200 || typeof body?.started !== "string") {
            throw new Error(`jupyter at ${jupyter.url} answered ${res.status} for /api/status: ${excerpt(res.body)}`);
          }
          return { status: "pass", message: `jupyter up since ${body.started}, ${body.kernels ?? 0} kernel(s)` };
        },
      },
    ],
  };
}
