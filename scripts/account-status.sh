#!/usr/bin/env bash
# The account status cycle that ConductorOne's connector CI runs
# (github-workflows, actions/account-status-lifecycle-test), here against the
# simulator with the real binary, checked with the baton CLI: sync and read
# the user's status; disable it (action disable_user with {"user_id": ...});
# disable it again (must succeed); sync and check the user trait says
# STATUS_DISABLED; enable it (enable_user); enable it again (must succeed);
# sync and check STATUS_ENABLED.
#
# The user is ACCOUNT_ID when set, else an active person in the fixture who
# is not the token's user, not an admin, not federated and owns no team
# (Rocket.Chat refuses to deactivate the last owner of rooms without
# confirm_relinquish).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/simulator-env.sh
source "$root/scripts/simulator-env.sh"

status_of() {
  users | jq -r --arg id "$1" 'select(.id == $id) | .status'
}

want_status() {
  local id="$1" want="$2" got
  step "sync and check $id is $want"
  sync_c1z
  got="$(status_of "$id")"
  [[ "$got" == "$want" ]] || fail "user $id has status ${got:-none}, want $want"
}

act() {
  local action="$1" id="$2"
  run --invoke-action="$action" --invoke-action-args="$(jq -cn --arg id "$id" '{user_id: $id}')" ||
    fail "$action for $id failed"
  if grep -qiE 'action invoke failed|"level":"error"' "$work/run.out"; then fail "$action for $id reported an error"; fi
}

status_case() {
  local id="$1" initial
  step "sync"
  sync_c1z
  initial="$(status_of "$id")"
  [[ -n "$initial" ]] || fail "no user $id in the sync"
  echo "user $id starts $initial"

  step "disable $id"
  act disable_user "$id"
  step "disable $id again (must succeed)"
  act disable_user "$id"
  want_status "$id" STATUS_DISABLED

  step "enable $id"
  act enable_user "$id"
  step "enable $id again (must succeed)"
  act enable_user "$id"
  want_status "$id" STATUS_ENABLED
  echo "user $id: $initial -> STATUS_DISABLED -> STATUS_ENABLED"
}

step "capabilities include actions"
"$connector" capabilities | jq -e '.connectorCapabilities | index("CAPABILITY_ACTIONS")' >/dev/null ||
  { echo "capabilities lack CAPABILITY_ACTIONS" >&2; exit 1; }

account="${ACCOUNT_ID:-}"
if [[ -z "$account" ]]; then
  step "sync and pick a user"
  sync_c1z
  owners="$("$baton" grants -f "$file" -o json | jq -c '[(.grants // [])[].grant.id | select(test("^team:[^:]+:owner:user:")) | sub("^.*:user:"; "")] | unique')"
  account="$(users | jq -r --argjson owners "$owners" --arg admin "$admin_id" --arg reader "$reader_id" --arg plain "$plain_id" '
    select(.status == "STATUS_ENABLED" and .account_type == "ACCOUNT_TYPE_HUMAN"
           and (.profile.federated != true) and ((.profile.roles // "") | split(",") | index("admin") | not)
           and ([.id] | inside([$admin, $reader, $plain]) | not) and ([.id] | inside($owners) | not))
    | .id' | sed -n 1p)"
  if [[ -z "$account" ]]; then
    echo "no suitable user in the fixture" >&2
    exit 1
  fi
fi

run_case "disable and enable user $account" status_case "$account"

echo "account-status: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
