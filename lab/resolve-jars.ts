/**
 * Resolves the jars of the Kafka and OpenSearch images with the harness's Maven resolution (shared cache) and
 * prints where they are, as JSON, for lab/images.sh. Kafka's admin tools (kafka-topics.sh & co.) come on top of
 * the broker set the harness uses.
 */
import { join } from "node:path";
import { KAFKA_VERSION, resolveKafka } from "../harness/kafka.ts";
import { resolveJars } from "../harness/maven.ts";
import { OPENSEARCH_VERSION, resolveOpenSearch } from "../harness/opensearch.ts";

const broker = await resolveKafka();
const tools = await resolveJars(`kafka-tools-${KAFKA_VERSION}`, [{ groupId: "org.apache.kafka", artifactId: "kafka-tools", version: KAFKA_VERSION }]);
const opensearch = await resolveOpenSearch();
process.stdout.write(
  `${JSON.stringify({
    kafka: { version: KAFKA_VERSION, libs: [join(broker, "libs"), join(tools, "libs")] },
    opensearch: { version: OPENSEARCH_VERSION, libs: join(opensearch.home, "libs"), launcher: opensearch.launcher },
  })}\n`,
);
