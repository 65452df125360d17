#!/usr/bin/env bash
# The grant → re-grant → revoke → re-revoke cycle that ConductorOne's
# connector CI runs, here against the simulator, checked with the baton CLI:
# sync, grant, sync and check the grant is there, grant again (must succeed),
# revoke, revoke again (must succeed), sync and check it is gone. It does this
# for a workspace role, an omnichannel role and team membership.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/simulator-env.sh
source "$root/scripts/simulator-env.sh"
principal="$plain_id"

# grep -c reads to the end: grep -q could stop early and, with pipefail, turn
# the writer's SIGPIPE into a failure.
has_grant() { "$baton" grants -f "$file" -o json | grep -c "\"$1\"" >/dev/null; }

step "capabilities include provisioning"
"$connector" capabilities | grep -c CAPABILITY_PROVISION >/dev/null

step "sync"
run
team_id="$("$baton" resources -f "$file" -t team -o json | grep -o '"resourceType": *"team", *"resource": *"[^"]*"' | sed -n '1s/.*"resource": *"\([^"]*\)"/\1/p')"
if [[ -z "$team_id" ]]; then echo "no team found in the sync" >&2; exit 1; fi

# A workspace role (roles.addUserToRole), an omnichannel role (Rocket.Chat's
# livechat endpoints) and a team membership.
for entitlement in "role:guest:assigned" "role:livechat-agent:assigned" "team:$team_id:member"; do
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
echo "grant-revoke: 3 passed, 0 failed"
