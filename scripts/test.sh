#!/usr/bin/env bash
# Runs vet and every test, prints package results and any failure in full,
# and ends with one summary line counting tests and subtests.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
go test -count=1 -v ./... >"$log" 2>&1
rc=$?
set -e
# Everything except the per-test chatter of passing tests.
grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP))' "$log" | grep -vE '^\s*$' | grep -vE '^PASS$' || true
passed=$(grep -cE '^\s*--- PASS' "$log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$log" || true)
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
  failed=1 # a build failure or panic outside any test
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $rc
