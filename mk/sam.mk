# SAM: the build target `sam build` calls (BuildMethod makefile), and thin
# helpers around the SAM CLI and cfn-lint for the two templates.  Included by
# the Makefile.  See docs/deployment.md.

SAM_VENV      ?= .venv-sam
SAM           ?= $(SAM_VENV)/bin/sam
CFN_LINT      ?= $(VENV)/bin/cfn-lint
# sam validate --lint needs a region, nothing else (it runs offline).
SAM_REGION    ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)
# The function's architecture (the template's Architecture parameter):
# `make sam-build LAMBDA_ARCH=arm64` packages the arm64 cross build, and the build
# target refuses a binary whose ELF machine is not the one asked for.
LAMBDA_ARCH          ?= x86_64
export LAMBDA_ARCH
ifeq ($(LAMBDA_ARCH),arm64)
SAM_BOOTSTRAP ?= $(BUILD)/static-arm64/bootstrap
SAM_BOOTSTRAP_TARGET := bootstrap-arm64
SAM_ELF_MACHINE := AArch64
else ifeq ($(LAMBDA_ARCH),x86_64)
SAM_BOOTSTRAP ?= bootstrap
SAM_BOOTSTRAP_TARGET := bootstrap
SAM_ELF_MACHINE := X86-64
else
$(error LAMBDA_ARCH must be x86_64 or arm64, not $(LAMBDA_ARCH))
endif
SAM_BUILD_DIR ?= .aws-sam/build
SAM_BACKUP_BUILD_DIR ?= .aws-sam/build-backup
SAM_TEMPLATES := template.yaml templates/backup-account.yaml

export SAM_CLI_TELEMETRY = 0

.PHONY: build-SnapferryFunction build-KeeperFunction sam-build sam-build-backup validate deploy \
	deploy-backup

# `sam build` runs this with ARTIFACTS_DIR set, for the logical id of each function:
# SnapferryFunction (the ferry, template.yaml) and KeeperFunction (the keeper,
# templates/backup-account.yaml) package the same static bootstrap; the mode is
# their configuration (SNAPFERRY_MODE).
build-SnapferryFunction build-KeeperFunction: $(SAM_BOOTSTRAP_TARGET)
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: run sam build (make sam-build)" >&2; exit 1; }
	@if command -v readelf >/dev/null 2>&1 && readelf -l $(SAM_BOOTSTRAP) | grep -q 'program interpreter'; then \
		echo "$(SAM_BOOTSTRAP) is dynamically linked; provided.al2023 needs the static build" >&2; exit 1; fi
	@if command -v readelf >/dev/null 2>&1 && ! readelf -h $(SAM_BOOTSTRAP) | grep -q 'Machine:.*$(SAM_ELF_MACHINE)'; then \
		echo "$(SAM_BOOTSTRAP) is not a $(LAMBDA_ARCH) binary; build with LAMBDA_ARCH=$(LAMBDA_ARCH)" >&2; exit 1; fi
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(SAM_BOOTSTRAP) "$(ARTIFACTS_DIR)/bootstrap"
	chmod 0755 "$(ARTIFACTS_DIR)/bootstrap"

# Normally made by `make setup` (scripts/setup.sh); the same pin, for a bare checkout.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt

# Build in the source tree: the copy SAM would otherwise make holds build/ and the venvs.
sam-build: $(SAM)
	$(SAM) build --template-file template.yaml --build-in-source --build-dir $(SAM_BUILD_DIR) \
		--parameter-overrides Architecture=$(LAMBDA_ARCH)

# The backup account's template: the keeper's CodeUri is the repository root (..).
sam-build-backup: $(SAM)
	$(SAM) build --template-file templates/backup-account.yaml --build-in-source \
		--build-dir $(SAM_BACKUP_BUILD_DIR) --parameter-overrides Architecture=$(LAMBDA_ARCH)

validate: $(SAM)
	$(CFN_LINT) $(SAM_TEMPLATES)
	for t in $(SAM_TEMPLATES); do AWS_DEFAULT_REGION=$(SAM_REGION) $(SAM) validate --lint --template-file $$t || exit 1; done

# Production account: asks for the parameters once and keeps them in samconfig.toml.
deploy: sam-build
	$(SAM) deploy --guided --template-file $(SAM_BUILD_DIR)/template.yaml \
		--capabilities CAPABILITY_NAMED_IAM --config-env production \
		--parameter-overrides Architecture=$(LAMBDA_ARCH)

# Backup account (deployed first, with that account's credentials): the add-only
# role, the backup key and the keeper.
deploy-backup: sam-build-backup
	$(SAM) deploy --guided --template-file $(SAM_BACKUP_BUILD_DIR)/template.yaml \
		--capabilities CAPABILITY_NAMED_IAM --config-env backup \
		--parameter-overrides Architecture=$(LAMBDA_ARCH)
