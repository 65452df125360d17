#!/usr/bin/env bash
# Runs vet and every test, once as built by default and once with the
# baton_lambda_support tag (ConductorOne's hosted build), prints package
# results and any failure in full, and ends with one summary line counting
# tests and subtests of both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
lambda_tags=baton_lambda_support
go vet ./...
go vet -tags "$lambda_tags" ./...
log="$(mktemp)"
lambda_log="$(mktemp)"
trap 'rm -f "$log" "$lambda_log"' EXIT

# Everything except the per-test chatter of passing tests.
show() {
  grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP))' "$1" | grep -vE '^\s*$' | grep -vE '^PASS$' || true
}

set +e
go test -count=1 -v ./... >"$log" 2>&1
rc=$?
# GOFLAGS as well as -tags, so that tests which build the binary with
# `go build` (cmd/baton-rocketchat) build the lambda variant too.
GOFLAGS="$(go env GOFLAGS) -tags=$lambda_tags" go test -count=1 -v -tags "$lambda_tags" ./... >"$lambda_log" 2>&1
lambda_rc=$?
set -e

show "$log"
echo "with -tags $lambda_tags:"
show "$lambda_log"

count() { grep -cE "^\s*--- $1" "$2" || true; }
passed=0 failed=0 skipped=0 status=0
for run in "$log:$rc" "$lambda_log:$lambda_rc"; do
  f="${run%:*}" r="${run##*:}"
  p=$(count PASS "$f") x=$(count FAIL "$f") s=$(count SKIP "$f")
  if [[ $r -ne 0 && $x -eq 0 ]]; then
    x=1 # a build failure or panic outside any test
  fi
  passed=$((passed + p)) failed=$((failed + x)) skipped=$((skipped + s))
  if [[ $status -eq 0 ]]; then status=$r; fi
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
