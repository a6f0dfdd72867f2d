#!/usr/bin/env bash
# greffier's main job on a fresh Debian 12 machine: installs what it needs, builds (Release),
# starts `greffier serve` on an embedded data directory, ingests the bundled sample archive
# over gRPC, answers the sample questions with cited passages, and leaves the server running.
#
# Usage: bash deploy/demo.sh [--model FILE.gguf]
#   --model  answers are written by that GGUF chat model on the native decoder instead of the
#            built-in extractive answerer (same questions, same citations and verification).
# Environment: GREFFIER_DEMO_DIR (default ./demo-data), GREFFIER_DEMO_PORT (default 50051).
set -euo pipefail
MODEL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=$(realpath "$2"); shift 2 ;;
    *) echo "usage: bash deploy/demo.sh [--model FILE.gguf]" >&2; exit 2 ;;
  esac
done
if [ -n "$MODEL" ] && [ ! -f "$MODEL" ]; then
  echo "demo: no model file at $MODEL" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash deploy/install-deps.sh

echo "== building greffier (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target greffier

G="$ROOT/build/service/greffier"
DEMO=${GREFFIER_DEMO_DIR:-$ROOT/demo-data}
PORT=${GREFFIER_DEMO_PORT:-50051}
ADDR=127.0.0.1:$PORT
mkdir -p "$DEMO"

# A server left by an earlier run of this script is stopped first.
if [ -f "$DEMO/server.pid" ] && kill -0 "$(cat "$DEMO/server.pid")" 2>/dev/null; then
  echo "== stopping the previous demo server (pid $(cat "$DEMO/server.pid"))"
  kill "$(cat "$DEMO/server.pid")"
  for _ in $(seq 1 50); do kill -0 "$(cat "$DEMO/server.pid")" 2>/dev/null || break; sleep 0.2; done
fi
if "$G" client health --server "$ADDR" --timeout-ms 300 >/dev/null 2>&1; then
  echo "demo: something already answers on $ADDR; set GREFFIER_DEMO_PORT to another port" >&2
  exit 1
fi

echo "== writing the sample archive into $DEMO/samples"
"$G" make-samples "$DEMO/samples" >/dev/null

echo "== starting greffier serve on $ADDR (data: $DEMO/index, log: $DEMO/server.log)"
SERVE_ARGS=(--data "$DEMO/index" --listen "$ADDR")
[ -n "$MODEL" ] && SERVE_ARGS+=(--model "$MODEL")
setsid nohup "$G" serve "${SERVE_ARGS[@]}" >"$DEMO/server.log" 2>&1 </dev/null &
echo $! >"$DEMO/server.pid"
for _ in $(seq 1 100); do
  "$G" client health --server "$ADDR" --timeout-ms 300 >/dev/null 2>&1 && break
  if ! kill -0 "$(cat "$DEMO/server.pid")" 2>/dev/null; then
    echo "demo: the server stopped; its log says:" >&2
    cat "$DEMO/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

echo "== ingesting the sample archive over gRPC"
"$G" client ingest --server "$ADDR" --collection mairie-saint-aubin "$DEMO"/samples/*.pdf

if [ -n "$MODEL" ]; then
  echo "== questions (answers written by $(basename "$MODEL"), citations verified)"
else
  echo "== questions (answers cite their passages; the built-in extractive answerer is used)"
fi
while IFS= read -r question; do
  [ -n "$question" ] || continue
  "$G" client ask --server "$ADDR" "$question"
  echo
done <"$DEMO/samples/questions.txt"

cat <<MSG
greffier is running on $ADDR (pid $(cat "$DEMO/server.pid")). Ask it something:
  $G client ask --server $ADDR "Quelle est la durée de validité de la carte d'identité ?"
  $G client retrieve --server $ADDR "délai de recours"
Check the audit log beside it: $G audit verify --data $DEMO/index
Stop it with: kill \$(cat $DEMO/server.pid)
MSG
