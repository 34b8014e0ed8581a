#!/usr/bin/env bash
# Regenerates frontend/gen/*_pb.ts from frontend/proto/*.proto (committed, so builds need no
# protoc). Needs protoc (Debian: protobuf-compiler) and the dev dependency @bufbuild/protoc-gen-es.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf frontend/gen && mkdir -p frontend/gen
protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out=frontend/gen --es_opt=target=ts,import_extension=js \
  -I frontend/proto frontend/proto/*.proto
