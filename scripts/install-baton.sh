#!/usr/bin/env bash
# Installs the baton CLI from baton-sdk v0.25.0 (the one that reads the c1z
# files this connector writes) into .tools/bin. `go install pkg@version` does
# not work for it here, so it is built from a throw-away module.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
if [[ -x "$bin/baton" ]]; then
  exit 0
fi
mkdir -p "$bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
go mod init batoncli >/dev/null 2>&1
go get github.com/conductorone/baton-sdk/cmd/baton@v0.25.0 >/dev/null 2>&1
GOBIN="$bin" go install github.com/conductorone/baton-sdk/cmd/baton
echo "installed $bin/baton"
