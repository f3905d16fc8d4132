#!/usr/bin/env bash
# Writes the OpenAPI document the API serves (apps/api/src/openapi-export.ts: no listening, a throw-away database)
# and lints it with Redocly's recommended rules (redocly.yaml); any error fails. `npm run lint:openapi` builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node dist/apps/api/src/openapi-export.js "$tmp/openapi.json"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  node node_modules/@redocly/cli/bin/cli.js lint --config redocly.yaml --format "${OPENAPI_LINT_FORMAT:-codeframe}" "$tmp/openapi.json"
