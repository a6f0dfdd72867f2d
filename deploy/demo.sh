#!/usr/bin/env bash
# greffier's main job on a fresh Debian 12 machine: installs what it needs, builds (Release),
# starts `greffier serve` on an embedded data directory, ingests the bundled sample archive
# over gRPC, answers the sample questions with cited passages, and leaves the server running.
#
# Environment: GREFFIER_DEMO_DIR (default ./demo-data), GREFFIER_DEMO_PORT (default 50051).
set -euo pipefail
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
setsid nohup "$G" serve --data "$DEMO/index" --listen "$ADDR" >"$DEMO/server.log" 2>&1 </dev/null &
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

echo "== questions (answers cite their passages; the built-in extractive answerer is used)"
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
