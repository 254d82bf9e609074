# idle-reaper. Every target sets up what it needs: only python3 (3.11+), make and git are assumed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov has its own virtualenv: its pins (boto3, packaging, networkx) clash with ours.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export PYTHONPATH := $(CURDIR)/src:$(CURDIR)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

SCENARIO ?= scenarios/demo.yaml
EVENT ?=

.DEFAULT_GOAL := help
.PHONY: help install test lint security typecheck format demo simulate replay report bench bench-quick bench-fixed-waits bench-warnings bench-scale bench-runtime bench-notify coldstart build deploy validate invoke-inspect invoke-sweep invoke-policy-check invoke-notify invoke-audit invoke-keep clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "idle-reaper needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create .venv with the pinned dependencies

$(CHECKOV_STAMP): requirements-checkov.txt
	@echo "Setting up $(CHECKOV_VENV): checkov and its $$(grep -c '^[^#]' $<) pins (once)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --no-deps -r requirements-checkov.txt
	$(CHECKOV_VENV)/bin/python -m pip check
	@touch $(CHECKOV_STAMP)

security: $(STAMP) $(CHECKOV_STAMP) ## checkov and cfn-lint's serverless rules on template.yaml
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --quiet --compact

test: $(STAMP) security ## Run every test (unit, workflow, template, end-to-end) and the linters
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP) security ## ruff, mypy, sam validate --lint, checkov and the serverless rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sam validate --lint --template template.yaml

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP) ## Run the bundled scenario on the local runtime (no AWS account, no Docker)
	$(BIN)/python -m local_runtime simulate scenarios/demo.yaml

simulate: $(STAMP) ## Run a what-if scenario: make simulate SCENARIO=scenarios/x.yaml
	$(BIN)/python -m local_runtime simulate $(SCENARIO)

replay: $(STAMP) ## Replay one event file through the local runtime: make replay EVENT=events/x.json
	$(BIN)/python -m local_runtime replay $(or $(EVENT),events/glue-create-session.json)

report: $(STAMP) ## Stops and savings from the audit table: [TABLE=name] [REPORT_ARGS="--since 30d --by day"]
	$(BIN)/python -m reporting $(if $(TABLE),--table $(TABLE),--local) $(REPORT_ARGS)

bench: $(STAMP) ## Five ways to stop idle Glue sessions on one generated week of 1,000 (long; BENCHMARKS.md, docs/bench.png)
	$(BIN)/python -m local_runtime.comparison --chart docs/bench.png $(BENCH_ARGS)

bench-quick: $(STAMP) ## The same comparison, small: 25 sessions on one working day
	$(BIN)/python -m local_runtime.comparison --sessions 25 --workdays 1 $(BENCH_ARGS)

bench-fixed-waits: $(STAMP) ## The fixed wait with longer waits (60 to 480 min) on the same week: idle money against false stops
	$(BIN)/python -m local_runtime.comparison --strategies fixed-wait --fixed-waits 60,120,240,480 $(BENCH_ARGS)

bench-warnings: $(STAMP) ## The reaper with no warning (WarningMinutes 0) beside it as it deploys, on the same week: what its own cost turns on
	$(BIN)/python -m local_runtime.comparison --strategies reaper --warning-minutes 0 $(BENCH_ARGS)

bench-scale: $(STAMP) ## 1,000 sessions started within one virtual minute: watchers, outcomes, Step Functions quotas
	$(BIN)/python -m local_runtime.scale $(BENCH_ARGS)

bench-runtime: $(STAMP) ## Time the local runtime itself on a generated workload (writes to stdout)
	$(BIN)/python -m local_runtime bench $(BENCH_ARGS)

bench-notify: $(STAMP) ## Measure the notify handler's warm duration against the loopback Slack sink
	$(BIN)/python -m local_runtime bench-notify $(BENCH_ARGS)

.PHONY: whatif
whatif: $(STAMP) ## Glue sessions in a CloudTrail history, reaper vs Glue's default: [TRAIL=folder] [WHATIF_ARGS=...]
	$(BIN)/python -m local_runtime whatif "$(or $(TRAIL),samples/trail)" $(WHATIF_ARGS)

coldstart: $(STAMP) ## Import time of each handler and the package and layer sizes (builds the layer with pip)
	$(BIN)/python -m local_runtime.coldstart $(COLDSTART_ARGS)

.PHONY: bench-compare profile
bench-compare: $(STAMP) ## The bench week on BASE (default 709968c) then on this tree, compared: [BASE=..] [BENCH_ARGS="--sessions 1000 --days 7"]
	$(BIN)/python -m local_runtime.side_by_side $(if $(BASE),--base $(BASE)) $(BENCH_ARGS)

profile: $(STAMP) ## Where the runtime's time goes, by area and by AWS operation (cProfile on every thread): [BENCH_ARGS="--sessions 200 --days 2 [--base REV]"]
	$(BIN)/python -m local_runtime.profiling $(BENCH_ARGS)

validate: $(STAMP) ## sam validate --lint
	$(BIN)/sam validate --lint --template template.yaml

build: $(STAMP) ## sam build (needs python3.13 on PATH, or add --use-container)
	$(BIN)/sam build $(SAM_BUILD_ARGS)

deploy: build ## sam build + sam deploy --guided
	$(BIN)/sam deploy --guided

# sam local invoke one function with a sample event (needs Docker): $(call invoke,Function,default event)
invoke = $(BIN)/sam build $(1) $(SAM_BUILD_ARGS) && $(BIN)/sam local invoke $(1) -e $(or $(EVENT),$(2))

invoke-inspect: $(STAMP) ## sam local invoke the inspect function (Docker): EVENT=events/inspect-*.json
	$(call invoke,InspectFunction,events/inspect-from-watcher.json)

invoke-sweep: $(STAMP) ## sam local invoke the sweep function (Docker): EVENT=events/sweep-scheduled.json
	$(call invoke,SweepFunction,events/sweep-scheduled.json)

invoke-policy-check: $(STAMP) ## sam local invoke the policy check (Docker; PolicyParameterName set): EVENT=events/policy-*.json
	$(call invoke,PolicyCheckFunction,events/policy-parameter-changed.json)

invoke-notify: $(STAMP) ## sam local invoke the notify function (Docker): EVENT=events/reaper-*.json
	$(call invoke,NotifyFunction,events/reaper-stopped.json)

invoke-audit: $(STAMP) ## sam local invoke the audit function (Docker): EVENT=events/reaper-*.json
	$(call invoke,AuditFunction,events/reaper-stopped.json)

invoke-keep: $(STAMP) ## sam local invoke the keep function (Docker; SlackSigningSecretArn set) with a Slack click
	$(call invoke,KeepFunction,events/keep-block-actions.json)

clean: ## Remove the virtual environment and build output
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
