#!/usr/bin/env bash
# Regenerates the table in docs/CONFIGURATION.md from WorkerConfig (run after adding a config key).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests install >/dev/null
doc=docs/CONFIGURATION.md
head=$(sed '/^| key | type |/,$d' "$doc")
{ printf '%s\n' "$head"; java -jar ops/target/kinfer-ops.jar config-docs; } > "$doc.tmp" && mv "$doc.tmp" "$doc"
echo "updated $doc"
