# AWS Organizations: the production stack in every account of chosen OUs, by a
# CloudFormation StackSet with service-managed permissions.  Included by the
# Makefile.  See docs/deployment.md, "Organization".
#
#   make package-stackset            regenerate templates/production-stackset.yaml
#   make upload-stackset-artifact    the zip into s3://$(ARTIFACT_BUCKET_PREFIX)-<region>/
#   make deploy-org                  create-stack-set + create-stack-instances
#
# Run from the management account or a delegated administrator for StackSets
# (CALL_AS=DELEGATED_ADMIN).  DRY=1 prints the AWS CLI commands instead of running them.

AWS                 ?= aws
STACK_SET_NAME      ?= snapferry
STACKSET_TEMPLATE   := templates/production-stackset.yaml
# Space or comma separated; e.g. ORG_UNITS="ou-ab12-11111111 ou-ab12-22222222"
ORG_UNITS           ?=
# deploy-org: ONE Region per StackSet. The stack creates the function role under the
# fixed name FUNCTION_ROLE_NAME, and IAM names are account-wide: a second Region of the
# same account needs another StackSet (STACK_SET_NAME) with another FUNCTION_ROLE_NAME.
# upload-stackset-artifact takes several.
REGIONS             ?= $(SAM_REGION)
FUNCTION_ROLE_NAME  ?= snapferry-function
# Same for every production account: the backup stack's outputs (org mode).
BACKUP_ACCOUNT_ID   ?=
BACKUP_ROLE_ARN     ?=
BACKUP_KMS_KEY_ID   ?=
BACKUP_EXTERNAL_ID  ?=
ARTIFACT_BUCKET_PREFIX ?=
ARTIFACT_KEY        ?= snapferry/$(VERSION)/snapferry.zip
# Any other parameter of the template, e.g. EXTRA_PARAMETERS="ParameterKey=WaitSeconds,ParameterValue=60"
EXTRA_PARAMETERS    ?=
# SELF (management account) or DELEGATED_ADMIN
CALL_AS             ?= SELF
MAX_CONCURRENT_PERCENTAGE ?= 25
FAILURE_TOLERANCE_PERCENTAGE ?= 10

ifeq ($(LAMBDA_ARCH),arm64)
STACKSET_ZIP        ?= $(BUILD)/snapferry-arm64.zip
else
STACKSET_ZIP        ?= $(BUILD)/snapferry.zip
endif

# make validate lints the StackSet twin too
SAM_TEMPLATES += $(STACKSET_TEMPLATE)

# DRY=1: print, don't run
ORG_RUN = $(if $(filter 1,$(DRY)),@echo,)
_comma := ,
_space := $(subst ,, )
ORG_UNIT_LIST = $(subst $(_space),$(_comma),$(strip $(subst $(_comma),$(_space),$(ORG_UNITS))))
REGION_LIST   = $(strip $(subst $(_comma),$(_space),$(REGIONS)))

.PHONY: package-stackset check-stackset upload-stackset-artifact deploy-org org-check-vars

package-stackset: $(SAM)
	$(SAM_VENV)/bin/python scripts/stackset_template.py --version $(VERSION)

check-stackset: $(SAM)
	$(SAM_VENV)/bin/python scripts/stackset_template.py --check --version $(VERSION)

$(BUILD)/snapferry-arm64.zip: bootstrap-arm64
	rm -f $@ && mkdir -p $(BUILD)/zip-arm64 && cp $(BUILD)/static-arm64/bootstrap $(BUILD)/zip-arm64/bootstrap \
		&& zip -X -j $@ $(BUILD)/zip-arm64/bootstrap

# Lambda reads a function's code from a bucket in the function's own Region: one
# bucket per Region of the StackSet, readable by the organization's accounts
# (docs/deployment.md shows the bucket policy).  With DRY=1 nothing is built.
upload-stackset-artifact: $(if $(filter 1,$(DRY)),,$(STACKSET_ZIP))
	@test -n "$(ARTIFACT_BUCKET_PREFIX)" || { echo "set ARTIFACT_BUCKET_PREFIX (buckets <prefix>-<region>)" >&2; exit 1; }
	@test -n "$(REGION_LIST)" || { echo "set REGIONS" >&2; exit 1; }
	@for r in $(REGION_LIST); do \
		$(if $(filter 1,$(DRY)),echo ,)$(AWS) s3 cp $(STACKSET_ZIP) s3://$(ARTIFACT_BUCKET_PREFIX)-$$r/$(ARTIFACT_KEY) --region $$r || exit 1; \
	done

org-check-vars:
	@missing=""; for v in BACKUP_ACCOUNT_ID=$(BACKUP_ACCOUNT_ID) BACKUP_ROLE_ARN=$(BACKUP_ROLE_ARN) \
		BACKUP_KMS_KEY_ID=$(BACKUP_KMS_KEY_ID) BACKUP_EXTERNAL_ID=$(BACKUP_EXTERNAL_ID) \
		ARTIFACT_BUCKET_PREFIX=$(ARTIFACT_BUCKET_PREFIX) ORG_UNITS=$(ORG_UNIT_LIST) \
		REGIONS=$(firstword $(REGION_LIST)); do \
		case "$$v" in *=) missing="$$missing $${v%=}";; esac; done; \
	if [ -n "$$missing" ]; then echo "deploy-org: set$$missing (docs/deployment.md, Organization)" >&2; exit 1; fi
	@if [ $(words $(REGION_LIST)) -gt 1 ]; then echo "deploy-org: one Region per StackSet (REGIONS=$(REGIONS)): \
	the function role's name is account-wide; run it once per Region with its own STACK_SET_NAME and \
	FUNCTION_ROLE_NAME (docs/deployment.md, Organization)" >&2; exit 1; fi
	@case "$(CALL_AS)" in SELF|DELEGATED_ADMIN) ;; *) echo "CALL_AS must be SELF or DELEGATED_ADMIN" >&2; exit 1;; esac

# One StackSet, service-managed: CloudFormation creates the stack in every account of
# the OUs (and of their child OUs), in the Region given, and in each account that
# joins them later (auto-deployment); an account that leaves loses its stack.
deploy-org: org-check-vars
	$(ORG_RUN) $(AWS) cloudformation create-stack-set --stack-set-name $(STACK_SET_NAME) \
		--template-body file://$(STACKSET_TEMPLATE) \
		--permission-model SERVICE_MANAGED \
		--auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false \
		--capabilities CAPABILITY_NAMED_IAM --call-as $(CALL_AS) \
		--parameters ParameterKey=BackupAccountId,ParameterValue=$(BACKUP_ACCOUNT_ID) \
		ParameterKey=BackupRoleArn,ParameterValue=$(BACKUP_ROLE_ARN) \
		ParameterKey=BackupKmsKeyId,ParameterValue=$(BACKUP_KMS_KEY_ID) \
		ParameterKey=BackupExternalId,ParameterValue=$(BACKUP_EXTERNAL_ID) \
		ParameterKey=ArtifactBucketPrefix,ParameterValue=$(ARTIFACT_BUCKET_PREFIX) \
		ParameterKey=ArtifactKey,ParameterValue=$(ARTIFACT_KEY) \
		ParameterKey=FunctionRoleName,ParameterValue=$(FUNCTION_ROLE_NAME) \
		ParameterKey=Architecture,ParameterValue=$(LAMBDA_ARCH) $(EXTRA_PARAMETERS)
	$(ORG_RUN) $(AWS) cloudformation create-stack-instances --stack-set-name $(STACK_SET_NAME) \
		--deployment-targets OrganizationalUnitIds=$(ORG_UNIT_LIST) \
		--regions $(REGION_LIST) --call-as $(CALL_AS) \
		--operation-preferences RegionConcurrencyType=PARALLEL,MaxConcurrentPercentage=$(MAX_CONCURRENT_PERCENTAGE),FailureTolerancePercentage=$(FAILURE_TOLERANCE_PERCENTAGE)
