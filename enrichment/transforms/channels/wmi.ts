import type { EventDocument } from "../normalize.ts";
import { channel, type EventData, type EventMapping, integer, keyValues, text } from "./fields.ts";

/**
 * WMI activity (Microsoft-Windows-WMI-Activity/Operational): provider loads (5857), operation errors (5858),
 * event queries (5859), temporary (5860) and permanent (5861, the persistence one) event subscriptions.
 * The fields are in the event's UserData (winlogbeat's `user_data`); for shippers that drop it (nxlog) the
 * message, `Key = Value` pairs separated by `;` (5860 separates one pair with `,`), is read instead.
 */

/** Message/UserData keys (lower case) → field. */
const WMI_FIELDS: Record<string, string> = {
  providername: "wmi_provider_name",
  code: "wmi_result_code",
  resultcode: "wmi_result_code",
  hostprocess: "process_name",
  processid: "process_id",
  hostprocessid: "process_id",
  providerpath: "wmi_provider_path",
  provider: "wmi_provider_name",
  id: "wmi_operation_id",
  clientmachine: "wmi_client_machine",
  machinename: "wmi_client_machine",
  user: "user_name",
  username: "user_name",
  ownername: "user_name",
  clientprocessid: "wmi_client_process_id",
  component: "wmi_component",
  operation: "wmi_operation",
  possiblecause: "wmi_possible_cause",
  namespace: "wmi_namespace",
  namespacename: "wmi_namespace",
  query: "wmi_query",
  notificationquery: "wmi_query",
  queryid: "wmi_query_id",
  ess: "wmi_event_filter",
  eventfilter: "wmi_event_filter",
  consumer: "wmi_consumer",
};
const INTEGER_FIELDS = new Set(["process_id", "wmi_client_process_id"]);
/** `;`, or `,` where a `Key = ` follows (5860). */
const PAIRS = /;\s*|,\s*(?=\w+ = )/;

function wmiFields(data: EventData, doc: EventDocument): void {
  const found: Record<string, string> = {};
  for (const key in data) if (typeof data[key] === "string" || typeof data[key] === "number") found[key] = String(data[key]);
  const fromData = Object.keys(found).some((k) => WMI_FIELDS[k.toLowerCase()] !== undefined);
  const pairs = fromData ? found : typeof doc.message === "string" ? keyValues(doc.message, PAIRS) : {};
  for (const [key, value] of Object.entries(pairs)) {
    const field = WMI_FIELDS[key.replaceAll(" ", "").toLowerCase()];
    if (field === undefined || value === "" || value === "-") continue;
    if (INTEGER_FIELDS.has(field)) {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (Number.isSafeInteger(n)) doc[field] = n;
    } else doc[field] = value;
  }
}

const event = (action: string): EventMapping => ({ action, fields: [], parse: wmiFields });

export const WMI_ACTIVITY = channel({
  5857: event("wmi_provider_start"),
  5858: event("wmi_operation_error"),
  5859: event("wmi_event_query"),
  5860: event("wmi_temporary_subscription"),
  5861: { ...event("wmi_permanent_subscription"), fields: [text("wmi_consumer", "CONSUMER"), integer("process_id", "processid")] },
});
