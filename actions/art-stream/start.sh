#!/usr/bin/env bash
# actions/art-stream: starts art-stream in the background, returns once it
# has announced itself in the store (so consumers can find it), and leaves
# it serving while the job goes on. With ART_STOP=true, stops the producer
# an earlier step started under the same name instead.
#
#   SLIPWAY_BIN        directory holding art-stream
#   ART_STORE, ART_NAME, ART_PORT, ART_CONSUMERS, ART_TIMEOUT
#   ART_FILE           the file (or empty), or
#   ART_PATHS          directories, one per line; ART_EXCLUDES globs, one per line
#   ART_ADVERTISE      addresses, one per line (optional)
#   ART_STOP           "true" to stop instead
#   ART_STREAM_SECRET  the shared secret (never logged)
set -euo pipefail

state="${RUNNER_TEMP:?RUNNER_TEMP is not set}/slipway-art-stream-${ART_NAME:?ART_NAME is not set}"

if [ "${ART_STOP:-false}" = "true" ]; then
  if [ ! -f "$state.pid" ]; then
    echo "::error title=art-stream::no producer named $ART_NAME was started in this job"
    exit 2
  fi
  pid=$(cat "$state.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    echo "stopped art-stream ($ART_NAME, pid $pid)"
  else
    echo "art-stream ($ART_NAME) had already finished"
  fi
  cat "$state.out" 2>/dev/null || true
  exit 0
fi

args=(--store "${ART_STORE:?ART_STORE is not set}" --name "$ART_NAME"
  --port "${ART_PORT:-9090}" --consumers "${ART_CONSUMERS:-1}" --timeout "${ART_TIMEOUT:-600}")
if [ -n "${ART_FILE:-}" ]; then
  args+=(--file "$ART_FILE")
fi
while IFS= read -r line; do
  [ -n "$line" ] && args+=(--path "$line")
done <<< "${ART_PATHS:-}"
while IFS= read -r line; do
  [ -n "$line" ] && args+=(--exclude "$line")
done <<< "${ART_EXCLUDES:-}"
while IFS= read -r line; do
  [ -n "$line" ] && args+=(--advertise "$line")
done <<< "${ART_ADVERTISE:-}"

NO_COLOR=1 nohup "${SLIPWAY_BIN:?SLIPWAY_BIN is not set}/art-stream" "${args[@]}" \
  >"$state.out" 2>"$state.log" </dev/null &
pid=$!

# Until it has announced itself, or has failed.
for _ in $(seq 1 600); do
  if grep -q ' INFO announced ' "$state.log"; then
    grep ' INFO announced ' "$state.log"
    echo "$pid" >"$state.pid"
    {
      echo "pid=$pid"
      echo "log=$state.log"
    } >>"${GITHUB_OUTPUT:-/dev/null}"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    set +e
    wait "$pid"
    code=$?
    set -e
    cat "$state.log" >&2
    echo "::error title=art-stream::art-stream exited with $code before announcing itself"
    exit "$code"
  fi
  sleep 0.1
done
cat "$state.log" >&2
echo "::error title=art-stream::art-stream did not announce itself within 60 seconds"
exit 3
