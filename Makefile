# baton-rocketchat developer tasks. `make test` is what CI runs.
GOOS ?= $(shell go env GOOS)
GOARCH ?= $(shell go env GOARCH)
BUILD_DIR := dist/$(GOOS)_$(GOARCH)
CONNECTOR := $(BUILD_DIR)/baton-rocketchat
# ConductorOne's hosted connectors run the binary built with this tag: the SDK
# then adds a `lambda` subcommand (baton-sdk pkg/cli/lambda_server__added.go).
LAMBDA_TAGS := -tags baton_lambda_support
LAMBDA_CONNECTOR := $(BUILD_DIR)/baton-rocketchat-lambda
# As in ConductorOne's connector Makefiles, `BATON_LAMBDA_SUPPORT=1 make build`
# builds $(CONNECTOR) itself with the lambda tag (unset, empty, 0 or false: not).
ifneq ($(filter-out 0 false,$(BATON_LAMBDA_SUPPORT)),)
BUILD_TAGS := $(LAMBDA_TAGS)
endif
GENERATED_CONF := pkg/config/conf.gen.go
GOLANGCI_LINT_VERSION := v2.15.0
TOOLS_BIN := $(CURDIR)/.tools/bin
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint

.PHONY: build build-lambda lambda-smoke test unit check-generated lint demo generate bench fuzz grant-revoke baton clean docs-check

build: $(GENERATED_CONF)
	go build $(BUILD_TAGS) -o $(CONNECTOR) ./cmd/baton-rocketchat

# The hosted (AWS Lambda) build, next to the plain one under its own name.
build-lambda: $(GENERATED_CONF)
	go build $(LAMBDA_TAGS) -o $(LAMBDA_CONNECTOR) ./cmd/baton-rocketchat

$(GENERATED_CONF): pkg/config/config.go go.mod
	go generate ./pkg/config
	gofmt -w $(GENERATED_CONF)

# The README's test command: vet and every test, with and without the lambda
# tag; a check that the committed config schema and capabilities still match
# what the binary prints; and a smoke run of the lambda binary. unit runs last:
# its summary line closes the output.
test: check-generated lambda-smoke unit

unit:
	scripts/test.sh

# The lambda binary, with no credentials in its environment: capabilities and
# config print what the committed files hold, and the lambda subcommand exists.
lambda-smoke: build-lambda
	@env -i PATH="$$PATH" HOME="$$HOME" $(LAMBDA_CONNECTOR) capabilities | diff -u baton_capabilities.json - || (echo "lambda build: capabilities differ from baton_capabilities.json" && exit 1)
	@env -i PATH="$$PATH" HOME="$$HOME" $(LAMBDA_CONNECTOR) config | diff -u config_schema.json - || (echo "lambda build: config differs from config_schema.json" && exit 1)
	@env -i PATH="$$PATH" HOME="$$HOME" $(LAMBDA_CONNECTOR) lambda --help | grep -q -- '--lambda-client-id' || (echo "lambda build: no lambda subcommand" && exit 1)
	@echo "lambda smoke: capabilities, config and lambda --help ok ($(LAMBDA_CONNECTOR))"

generate: build
	$(CONNECTOR) config > config_schema.json
	$(CONNECTOR) capabilities > baton_capabilities.json

check-generated: build
	@$(CONNECTOR) config | diff -u config_schema.json - || (echo "config_schema.json is stale: run make generate" && exit 1)
	@$(CONNECTOR) capabilities | diff -u baton_capabilities.json - || (echo "baton_capabilities.json is stale: run make generate" && exit 1)
	@go generate ./pkg/config && gofmt -w $(GENERATED_CONF) && git diff --exit-code -- $(GENERATED_CONF) || (echo "$(GENERATED_CONF) is stale: run go generate ./pkg/config" && exit 1)

$(GOLANGCI_LINT):
	GOBIN=$(TOOLS_BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

# docs/connector.mdx as ConductorOne's docs renderer takes it: valid MDX, no
# component outside its allow-list (no plain HTML either), no javascript:,
# vbscript: or data: URL, no code. The checker's own cases run first.
# tools/mdx-check/check.mjs says what it checks; its packages are pinned in
# tools/mdx-check/package-lock.json.
docs-check:
	@npm ci --prefix tools/mdx-check --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	@node tools/mdx-check/check.mjs --self-test
	@node tools/mdx-check/check.mjs docs/connector.mdx

# Starts the simulator, syncs it with the real binary, prints what it found.
demo: build
	go run ./cmd/demo -connector $(CONNECTOR)

baton:
	scripts/install-baton.sh

# ConductorOne's connector CI cycle (sync, grant, re-grant, revoke, re-revoke,
# sync) against the simulator, checked with the baton CLI.
grant-revoke: build baton $(JQ)
	PATH=$(TOOLS_BIN):$$PATH CONNECTOR=$(CURDIR)/$(CONNECTOR) scripts/grant-revoke.sh

.PHONY: account-provisioning account-status

# The account scripts read the baton CLI's JSON with jq, as ConductorOne's do;
# gojq, pinned and built from source, stands in on machines without it.
GOJQ_VERSION := v0.12.17
JQ := $(TOOLS_BIN)/jq
$(JQ):
	GOBIN=$(TOOLS_BIN) go install github.com/itchyny/gojq/cmd/gojq@$(GOJQ_VERSION)
	ln -sf gojq $(JQ)

# ConductorOne's account provisioning CI cycle (sync, create, find by e-mail,
# login or display name, delete, delete again, sync) against the simulator.
account-provisioning: build baton $(JQ)
	PATH=$(TOOLS_BIN):$$PATH CONNECTOR=$(CURDIR)/$(CONNECTOR) scripts/account-provisioning.sh

# ConductorOne's account status CI cycle (disable_user, check STATUS_DISABLED,
# enable_user, check STATUS_ENABLED) against the simulator.
account-status: build baton $(JQ)
	PATH=$(TOOLS_BIN):$$PATH CONNECTOR=$(CURDIR)/$(CONNECTOR) scripts/account-status.sh

bench:
	go test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 10s
# Each fuzz target in turn (go test fuzzes one target per run). Minimizing a
# new input is bounded by executions, not time: a minimization still running
# when -fuzztime ends fails the run with "context deadline exceeded".
fuzz:
	go test -run '^$$' -fuzz '^FuzzWalk$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./pkg/client
	go test -run '^$$' -fuzz '^FuzzMutatingListing$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./pkg/client
	go test -run '^$$' -fuzz '^FuzzDecodeError$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./pkg/client
	go test -run '^$$' -fuzz '^FuzzUsernameFromEmail$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./pkg/connector

clean:
	rm -rf dist .tools sync.c1z
