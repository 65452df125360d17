#!/usr/bin/env bash
# The grant → re-grant → revoke → re-revoke cycle that ConductorOne's
# connector CI runs, here against the simulator, checked with the baton CLI:
# sync, grant, sync and check the grant is there, grant again (must succeed),
# revoke, revoke again (must succeed), sync and check it is gone. It does this
# for a workspace role and for team membership.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
connector="${CONNECTOR:-$root/dist/$(go env GOOS)_$(go env GOARCH)/baton-rocketchat}"
baton="$root/.tools/bin/baton"
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
base_url="$(sed -n 's/^base URL: //p' "$work/sim.out")"
admin_id="$(sed -n 's/^admin: BATON_USER_ID=\([^ ]*\) .*/\1/p' "$work/sim.out")"
admin_token="$(sed -n 's/^admin: .*BATON_AUTH_TOKEN=\(.*\)$/\1/p' "$work/sim.out")"
principal="$(sed -n 's/^plain: BATON_USER_ID=\([^ ]*\) .*/\1/p' "$work/sim.out")"
export BATON_BASE_URL="$base_url" BATON_USER_ID="$admin_id" BATON_AUTH_TOKEN="$admin_token"
file="$work/sync.c1z"

step() { echo "--- $*"; }
run() { "$connector" -f "$file" --log-level warn "$@"; }
# grep -c reads to the end: grep -q could stop early and, with pipefail, turn
# the writer's SIGPIPE into a failure.
has_grant() { "$baton" grants -f "$file" -o json | grep -c "\"$1\"" >/dev/null; }

step "capabilities include provisioning"
"$connector" capabilities | grep -c CAPABILITY_PROVISION >/dev/null

step "sync"
run
team_id="$("$baton" resources -f "$file" -t team -o json | grep -o '"resourceType": *"team", *"resource": *"[^"]*"' | sed -n '1s/.*"resource": *"\([^"]*\)"/\1/p')"
if [[ -z "$team_id" ]]; then echo "no team found in the sync" >&2; exit 1; fi

for entitlement in "role:livechat-agent:assigned" "team:$team_id:member"; do
  grant_id="$entitlement:user:$principal"
  if has_grant "$grant_id"; then echo "fixture already has $grant_id" >&2; exit 1; fi
  step "grant $entitlement to $principal"
  run --grant-entitlement "$entitlement" --grant-principal "$principal" --grant-principal-type user
  step "sync and check the grant"
  run
  has_grant "$grant_id" || { echo "grant $grant_id missing after grant" >&2; exit 1; }
  step "grant again (must succeed)"
  run --grant-entitlement "$entitlement" --grant-principal "$principal" --grant-principal-type user
  step "revoke"
  run --revoke-grant "$grant_id"
  step "revoke again (must succeed)"
  run --revoke-grant "$grant_id"
  step "sync and check the grant is gone"
  run
  if has_grant "$grant_id"; then echo "grant $grant_id still there after revoke" >&2; exit 1; fi
done
echo "grant-revoke: 2 passed, 0 failed"
