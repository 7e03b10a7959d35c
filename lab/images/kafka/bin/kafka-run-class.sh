#!/usr/bin/env bash
# Runs a Kafka main class with the jars in /opt/kafka/libs (what the distribution's script of this name does).
set -euo pipefail
main="$1"; shift
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true} \
  ${KAFKA_OPTS:-} -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp '/opt/kafka/libs/*' "$main" "$@"
