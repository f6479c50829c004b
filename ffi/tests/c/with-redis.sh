#!/usr/bin/env bash
# with-redis.sh CMD [ARG...]: runs CMD with a redis-server of its own on 127.0.0.1 (a free
# port, no persistence), passing CB_TEST_REDIS_URL and CB_TEST_REDIS_PID; stops the server
# after (also if CMD left it stopped with SIGSTOP). Exits with CMD's status.
set -euo pipefail

command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { echo "with-redis.sh: redis-server not found (make setup-ffi installs it)" >&2; exit 2; }

dir=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -CONT "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# A port nothing listens on (another process may take it before redis does: then try again).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

for _ in 1 2 3 4 5; do
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    >"$dir/redis.log" 2>&1 &
  pid=$!
  up=""
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    # Ours answering (not another server that took the port first).
    if redis-cli -p "$port" INFO server 2>/dev/null | grep -q "^process_id:$pid"; then up=1; break; fi
    sleep 0.05
  done
  [ -z "$up" ] || break
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done
[ -n "$pid" ] || { echo "with-redis.sh: redis-server did not start" >&2; cat "$dir/redis.log" >&2; exit 2; }

export CB_TEST_REDIS_URL="redis://127.0.0.1:$port" CB_TEST_REDIS_PID="$pid"
rc=0
"$@" || rc=$?
exit "$rc"
