/**
 * Who may do what on a secured HELK Kafka cluster: the SCRAM users our clients log in as, and the ACLs the
 * cluster's authorizer (KRaft's StandardAuthorizer, deny unless allowed) holds for them. The admin is a super
 * user (topic setup, ACLs); the others get exactly what their traffic needs and nothing else.
 */

/** SCRAM user names, by role. */
export const KAFKA_USERS = {
  /** Super user: the setup jobs (topics, ACLs) and the brokers' own inter-broker login. */
  admin: "admin",
  /** The enrichment service: consumes the event topics in its group, produces dead letters. */
  enrichment: "enrichment",
  /** Shippers (winlogbeat, nxlog, `helk replay`): produce events, nothing else. */
  shipper: "shipper",
} as const;

export type KafkaRole = keyof typeof KAFKA_USERS;

/** One allow rule on a literal resource, from any host. */
export interface KafkaAcl {
  /** `User:<name>` */
  principal: string;
  resourceType: "topic" | "group";
  resourceName: string;
  /** READ and WRITE each imply DESCRIBE of the same resource. */
  operation: "read" | "write";
}

/** The topics and group the rules are written for (as the Kafka component names them). */
export interface KafkaAclScope {
  eventTopics: readonly string[];
  deadLetterTopic: string;
  consumerGroup: string;
}

/** The principal Kafka gives a SCRAM user. */
export const userPrincipal = (role: KafkaRole): string => `User:${KAFKA_USERS[role]}`;

/** The ACLs of a secured cluster; the admin needs none (super user). */
export function helkKafkaAcls(scope: KafkaAclScope): KafkaAcl[] {
  const enrichment = userPrincipal("enrichment");
  const shipper = userPrincipal("shipper");
  const topic = (principal: string, resourceName: string, operation: KafkaAcl["operation"]): KafkaAcl => ({
    principal,
    resourceType: "topic",
    resourceName,
    operation,
  });
  return [
    ...scope.eventTopics.map((name) => topic(enrichment, name, "read")),
    { principal: enrichment, resourceType: "group", resourceName: scope.consumerGroup, operation: "read" },
    topic(enrichment, scope.deadLetterTopic, "write"),
    ...scope.eventTopics.map((name) => topic(shipper, name, "write")),
  ];
}
