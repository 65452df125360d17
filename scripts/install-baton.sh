#!/usr/bin/env bash
# Installs the baton CLI from the baton-sdk version in go.mod (the one that
# reads the c1z files this connector writes) into .tools/bin. `go install pkg@version` does
# not work for it here, so it is built from a throw-away module.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
version="$(cd "$root" && go list -m -f '{{.Version}}' github.com/conductorone/baton-sdk)"
if [[ -x "$bin/baton" && "$(cat "$bin/baton.version" 2>/dev/null)" == "$version" ]]; then
  exit 0
fi
mkdir -p "$bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
go mod init batoncli >/dev/null 2>&1
go get "github.com/conductorone/baton-sdk/cmd/baton@$version" >/dev/null 2>&1
GOBIN="$bin" go install github.com/conductorone/baton-sdk/cmd/baton
echo "$version" >"$bin/baton.version"
echo "installed $bin/baton ($version)"
