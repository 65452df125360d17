# Sourced by the CI-cycle scripts (grant-revoke.sh, account-provisioning.sh,
# account-status.sh): builds and starts the Rocket.Chat simulator on a free
# loopback port with a small fixture, exports BATON_BASE_URL, BATON_USER_ID and
# BATON_AUTH_TOKEN for its admin, and defines the helpers the scripts share.
# Needs: root (the repository). Sets: work, file, connector, baton,
# admin_id, reader_id, plain_id. Stops the simulator and removes $work on exit.

connector="${CONNECTOR:-$root/dist/$(go env GOOS)_$(go env GOARCH)/baton-rocketchat}"
baton="$root/.tools/bin/baton"
for tool in "$connector" "$baton"; do
  if [[ ! -x "$tool" ]]; then
    echo "$tool is missing: run make build baton first" >&2
    exit 1
  fi
done
if ! command -v jq >/dev/null; then
  echo "jq is needed to read the baton CLI's JSON" >&2
  exit 1
fi

work="$(mktemp -d)"
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/simulator" ./cmd/rocketchat-simulator
"$work/simulator" -addr 127.0.0.1:0 -seed 5 -users 60 -teams 4 -no-rate-limit >"$work/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
  grep -q '^plain:' "$work/sim.out" 2>/dev/null && break
  sleep 0.1
done
if ! grep -q '^plain:' "$work/sim.out"; then
  echo "the simulator did not start:" >&2
  cat "$work/sim.out" >&2
  exit 1
fi
cred_id() { sed -n "s/^$1: BATON_USER_ID=\\([^ ]*\\) .*/\\1/p" "$work/sim.out"; }
admin_id="$(cred_id admin)"
reader_id="$(cred_id reader)"
plain_id="$(cred_id plain)"
BATON_BASE_URL="$(sed -n 's/^base URL: //p' "$work/sim.out")"
BATON_USER_ID="$admin_id"
BATON_AUTH_TOKEN="$(sed -n 's/^admin: .*BATON_AUTH_TOKEN=\(.*\)$/\1/p' "$work/sim.out")"
export BATON_BASE_URL BATON_USER_ID BATON_AUTH_TOKEN
file="$work/sync.c1z"

step() { echo "--- $*"; }
fail() {
  echo "FAIL: $*" >&2
  return 1
}

# run calls the connector on the c1z. Its output goes to $work/run.out too,
# so a step can look at what it said: baton-sdk v0.25.0 may exit 0 after
# printing an error (see the README), so exit codes alone are not trusted.
# When it fails, its output goes to stderr as well.
run() {
  local rc=0
  "$connector" -f "$file" --log-level warn "$@" >"$work/run.out" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    cat "$work/run.out" >&2
  else
    cat "$work/run.out"
  fi
  return "$rc"
}

# sync_c1z runs a full sync and keeps the synced users, as the baton CLI shows
# them, for users.
sync_c1z() {
  run >/dev/null
  read_users >"$work/users.jsonl"
}

# users prints the users of the last sync, one JSON object per line: id,
# login, display name, e-mails, trait status, account type, profile.
users() { cat "$work/users.jsonl"; }

read_users() {
  "$baton" resources -f "$file" -t user -o json | jq -c '
    (.resources // [])[] | .resource as $r
    | ($r.annotations // [] | map(select(."@type" == "type.googleapis.com/c1.connector.v2.UserTrait")) | first) as $trait
    | {id: $r.id.resource, login: ($trait.login // ""), display_name: ($r.displayName // ""),
       emails: [($trait.emails // [])[].address], status: ($trait.status.status // "unknown"),
       account_type: ($trait.accountType // ""), profile: ($r.profile // {})}'
}

# run_case runs a case function in a subshell with errexit on (a function
# called from an if would run with errexit off) and counts the outcome.
passed=0
failed=0
run_case() {
  local name="$1"
  shift
  echo "=== $name"
  set +e
  (
    set -euo pipefail
    "$@"
  )
  local rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    echo "=== $name: ok"
  else
    failed=$((failed + 1))
    echo "=== $name: FAILED" >&2
  fi
}
