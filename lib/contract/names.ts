/**
 * Index, alias, template and topic names that the writers (enrichment, ATT&CK load, setup jobs) and the readers
 * (dashboards, smoke checks, notebooks) must agree on.
 */

/** Daily event indices: `helk-events-YYYY.MM.DD`. */
export const EVENTS_INDEX_PREFIX = "helk-events-";
/** Daily indices of joined process/network documents. */
export const PROCESS_NETWORK_INDEX_PREFIX = "helk-process-network-";
/** Daily alert indices of the detections service: `helk-alerts-YYYY.MM.DD` of the matched event's day. */
export const ALERTS_INDEX_PREFIX = "helk-alerts-";
/** Index templates the setup job installs, by name. */
export const TEMPLATE_NAMES = { events: "helk-events", processNetwork: "helk-process-network" } as const;
/** Alias of the ATT&CK knowledge base; the versioned indices behind it are `helk-mitre-attack-<version>-<stamp>`. */
export const ATTACK_ALIAS = "helk-mitre-attack";
/** Alias of the ATT&CK coverage scores. */
export const COVERAGE_ALIAS = "helk-attack-coverage";

/** Topics the enrichment consumes unless configured otherwise. */
export const DEFAULT_EVENT_TOPICS = ["winlogbeat"];
/** Where events that cannot be processed go unless configured otherwise. */
export const DEFAULT_DEAD_LETTER_TOPIC = "helk-dead-letter";
/** Consumer group of the enrichment service unless configured otherwise. */
export const DEFAULT_CONSUMER_GROUP = "helk-enrichment";
