#!/usr/bin/env bash
# Admin tool: logs at WARN unless KAFKA_TOOLS_LOG4J_LOGLEVEL says otherwise (as in the distribution).
KAFKA_LOG4J_ROOT_LOGLEVEL="${KAFKA_TOOLS_LOG4J_LOGLEVEL:-WARN}" exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
