#!/usr/bin/env bash
# `make demo`: runs the gateway on the embedded SQLite store with the demo data loaded, and
# prints what to try. Ctrl-C stops it (SIGINT: in-flight requests finish, the store closes).
set -euo pipefail
binary=${1:-build/bin/acp-gateway}
port=${2:-8080}
mkdir -p build
base="http://127.0.0.1:${port}"
cat <<MSG
ACP Gateway demo — FHIR R4 at ${base} (demo data: docs/demo/bundle.json, store: build/demo.db)

Try, in another terminal:
  curl -s ${base}/metadata | head -c 400; echo
  curl -s '${base}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820'
  curl -s '${base}/CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&status=active&_include=CarePlan:subject&_pretty=true'
  curl -s '${base}/Encounter?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&_sort=-date'
  curl -s -H 'Accept: application/fhir+xml' '${base}/Patient?family=okafor'
See docs/api.md for every interaction. Ctrl-C to stop.

MSG
# Plain HTTP on loopback for the demo; docs/security.md shows the same with TLS.
exec "$binary" -Dgateway.http.port="$port" -Dgateway.store.url=sqlite:build/demo.db \
  -Dgateway.auth.mode=none -Dgateway.http.tls=false -Dgateway.mllp.tls=false \
  -Dgateway.demo.load=docs/demo/bundle.json
