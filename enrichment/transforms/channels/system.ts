import type { EventDocument } from "../normalize.ts";
import { channel, type EventData, text } from "./fields.ts";

/** The System channel: service installs and state changes (Service Control Manager), log clearing. */

/** 104 names the cleared log in its UserData (`Channel`); shippers that drop UserData leave only the message. */
function clearedLog(_data: EventData, doc: EventDocument): void {
  if (doc.cleared_log_name !== undefined || typeof doc.message !== "string") return;
  const name = /^The (.+) log file was cleared/.exec(doc.message)?.[1];
  if (name !== undefined) doc.cleared_log_name = name;
}

export const SYSTEM = channel({
  104: {
    action: "event_log_cleared",
    fields: [text("cleared_log_name", "Channel"), text("subject_user_name", "SubjectUserName"), text("subject_domain_name", "SubjectDomainName"), text("user_name", "SubjectUserName")],
    parse: clearedLog,
  },
  7036: { action: "service_state_change", fields: [text("service_name", "param1"), text("service_state", "param2")] },
  7040: { action: "service_start_type_change", fields: [text("service_name", "param1"), text("service_previous_start_type", "param2"), text("service_start_type", "param3")] },
  7045: {
    action: "service_install",
    fields: [
      text("service_name", "ServiceName"),
      text("service_image_path", "ImagePath"),
      text("service_type", "ServiceType"),
      text("service_start_type", "StartType"),
      text("service_account", "AccountName"),
    ],
  },
});
