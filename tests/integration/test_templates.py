"""The SAM/CloudFormation templates: linted, built, least privilege, event patterns.

Owns the checks of template.yaml (production account) and
templates/backup-account.yaml (backup account) against the code in src/ and the
sample events in events/.  Tools: cfn-lint (pinned, .venv), SAM CLI (.venv-sam).
"""
import copy
import glob
import json
import os
import pathlib
import re
import struct
import subprocess
import sys

import pytest

from harness.paths import ROOT, SHARED

PROD = ROOT / "template.yaml"
BACKUP = ROOT / "templates" / "backup-account.yaml"
STACKSET = ROOT / "templates" / "production-stackset.yaml"
# every template: the StackSet twin is plain CloudFormation (sam validate --lint takes it too)
TEMPLATES = [PROD, BACKUP, STACKSET]
IN_CI = os.environ.get("CI") == "true"
CFN_LINT_VERSION = "1.58.0"


def skip_or_fail(reason):
    """Outside CI a missing tool skips; in CI everything must run."""
    if IN_CI:
        pytest.fail(reason + " (CI must run this)")
    pytest.skip(reason)


# ---- loading CloudFormation YAML ---------------------------------------------
sys.path.insert(0, str(ROOT / "scripts"))
from cfn_yaml import load  # noqa: E402  (the one loader of the templates)


@pytest.fixture(scope="module")
def prod():
    return load(PROD)


@pytest.fixture(scope="module")
def backup():
    return load(BACKUP)


# ---- tools ---------------------------------------------------------------------
def cfn_lint_path():
    for cand in (os.environ.get("CFN_LINT"), ROOT / ".venv" / "bin" / "cfn-lint"):
        if cand and os.access(str(cand), os.X_OK):
            return str(cand)
    return None


def sam_path():
    for cand in (os.environ.get("SAM_CLI"), ROOT / ".venv-sam" / "bin" / "sam"):
        if cand and os.access(str(cand), os.X_OK):
            return str(cand)
    return None


def sam_env():
    env = dict(os.environ)
    env.update(SAM_CLI_TELEMETRY="0", AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    return env


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_clean(template):
    exe = cfn_lint_path()
    if exe is None:
        skip_or_fail("cfn-lint not installed in .venv (set CFN_LINT to another one)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert CFN_LINT_VERSION in version.stdout, "cfn-lint must be the pinned " + CFN_LINT_VERSION
    r = subprocess.run([exe, str(template)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_sam_validate_lint(template):
    exe = sam_path()
    if exe is None:
        skip_or_fail("SAM CLI not installed in .venv-sam (set SAM_CLI to another one)")
    r = subprocess.run([exe, "validate", "--lint", "--template-file", str(template)],
                       capture_output=True, text=True, timeout=300, env=sam_env(), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "is a valid SAM Template" in r.stdout + r.stderr


def elf_info(path):
    """(machine, has PT_INTERP, has PT_DYNAMIC) of a 64-bit little-endian ELF file."""
    data = pathlib.Path(path).read_bytes()
    assert data[:4] == b"\x7fELF", "%s is not an ELF file" % path
    assert data[4] == 2 and data[5] == 1, "expected ELF64 little-endian"
    machine = struct.unpack_from("<H", data, 18)[0]
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    types = {struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)}
    return machine, 3 in types, 2 in types


def test_sam_build_packages_the_static_bootstrap(tmp_path, prod):
    exe = sam_path()
    if exe is None:
        skip_or_fail("SAM CLI not installed in .venv-sam")
    if not (ROOT / "bootstrap").exists():
        skip_or_fail("the static ./bootstrap is not built yet (make)")
    out = tmp_path / "sam-build"
    r = subprocess.run([exe, "build", "--template-file", str(PROD), "--build-in-source",
                        "--build-dir", str(out)],
                       capture_output=True, text=True, timeout=600, env=sam_env(), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    built = out / "SnapferryFunction" / "bootstrap"
    assert built.is_file() and os.access(built, os.X_OK)
    machine, interp, dynamic = elf_info(built)
    assert not interp, "bootstrap asks for a program interpreter: not static"
    assert not dynamic, "bootstrap has a dynamic section: not static"
    default_arch = prod["Parameters"]["Architecture"]["Default"]
    assert {"x86_64": 62, "arm64": 183}[default_arch] == machine
    assert built.read_bytes() == (ROOT / "bootstrap").read_bytes()
    # The built template points the function at the artefact directory.
    tpl = load(out / "template.yaml")
    assert tpl["Resources"]["SnapferryFunction"]["Properties"]["CodeUri"] == "SnapferryFunction"


def test_sam_build_packages_the_keeper(tmp_path, backup):
    """The backup template's keeper is the same static bootstrap, built by the makefile
    method from the repository root (CodeUri ..) through build-KeeperFunction."""
    exe = sam_path()
    if exe is None:
        skip_or_fail("SAM CLI not installed in .venv-sam")
    if not (ROOT / "bootstrap").exists():
        skip_or_fail("the static ./bootstrap is not built yet (make)")
    out = tmp_path / "sam-build-backup"
    r = subprocess.run([exe, "build", "--template-file", str(BACKUP), "--build-in-source",
                        "--build-dir", str(out)],
                       capture_output=True, text=True, timeout=600, env=sam_env(), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    built = out / "KeeperFunction" / "bootstrap"
    assert built.is_file() and os.access(built, os.X_OK)
    machine, interp, dynamic = elf_info(built)
    assert not interp and not dynamic, "the keeper's bootstrap is not static"
    assert {"x86_64": 62, "arm64": 183}[backup["Parameters"]["Architecture"]["Default"]] == machine
    assert built.read_bytes() == (ROOT / "bootstrap").read_bytes()
    tpl = load(out / "template.yaml")
    assert tpl["Resources"]["KeeperFunction"]["Properties"]["CodeUri"] == "KeeperFunction"


# ---- the function resource and the configuration contract -------------------
def test_function_shape(prod):
    fn = prod["Resources"]["SnapferryFunction"]
    p = fn["Properties"]
    assert fn["Type"] == "AWS::Serverless::Function"
    assert fn["Metadata"]["BuildMethod"] == "makefile"
    assert p["Runtime"] == "provided.al2023" and p["Handler"] == "bootstrap" and p["CodeUri"] == "."
    assert p["Architectures"] == [{"Ref": "Architecture"}]
    assert prod["Parameters"]["Architecture"]["AllowedValues"] == ["x86_64", "arm64"]
    assert p["MemorySize"] <= 256
    # The build target is the one sam build calls for this logical id.
    assert re.search(r"^build-SnapferryFunction\b.*:", (ROOT / "mk" / "sam.mk").read_text(), re.M)
    eic = p["EventInvokeConfig"]
    assert eic["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert "MaximumRetryAttempts" in eic and "MaximumEventAgeInSeconds" in eic
    # the ferry is the default mode: template.yaml leaves SNAPFERRY_MODE unset
    assert "SNAPFERRY_MODE" not in p["Environment"]["Variables"]


def test_keeper_shape(backup):
    """The keeper: the same bootstrap (makefile build of the repository root, the
    template being in templates/), its own role, SNAPFERRY_MODE=keeper."""
    assert backup["Transform"] == "AWS::Serverless-2016-10-31"
    fn = backup["Resources"]["KeeperFunction"]
    p = fn["Properties"]
    assert fn["Type"] == "AWS::Serverless::Function"
    assert fn["Metadata"]["BuildMethod"] == "makefile"
    assert p["Runtime"] == "provided.al2023" and p["Handler"] == "bootstrap"
    assert (BACKUP.parent / p["CodeUri"]).resolve() == ROOT
    assert p["Architectures"] == [{"Ref": "Architecture"}]
    assert p["Role"] == {"Fn::GetAtt": ["KeeperRole", "Arn"]}
    assert p["Environment"]["Variables"]["SNAPFERRY_MODE"] == "keeper"
    assert re.search(r"^build-SnapferryFunction build-KeeperFunction:",
                     (ROOT / "mk" / "sam.mk").read_text(), re.M)
    mk = (ROOT / "mk" / "sam.mk").read_text()
    deploy = mk.split("\ndeploy-backup:", 1)[1].split("\n\n", 1)[0]
    assert deploy.startswith(" sam-build-backup"), deploy
    log_groups = [r["Properties"] for r in backup["Resources"].values()
                  if r["Type"] == "AWS::Logs::LogGroup"]
    assert log_groups == [{"LogGroupName": {"Fn::Sub": "/aws/lambda/${KeeperFunction}"},
                           "RetentionInDays": {"Ref": "LogRetentionDays"}}]


def contract_variables():
    """Variable names of the configuration table of DESIGN.md (the contract)."""
    design = SHARED / "DESIGN.md"
    if not design.exists():
        skip_or_fail("../shared/DESIGN.md not found")
    text = design.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            family = re.match(r"\s*`([A-Z][A-Z0-9_]*_)\*`", first)
            if family:
                # "`DRILL_*` (`INCLUDE_PATTERN`, `CONCURRENCY`, ...)" names DRILL_INCLUDE_PATTERN, ...
                names.update(family.group(1) + n
                             for n in re.findall(r"`([A-Z][A-Z0-9_]+)`", first[family.end():]))
                continue
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
            # "`AWS_ENDPOINT_URL_RDS`, `_STS`, `_KMS`" abbreviates the siblings
            names.update("AWS_ENDPOINT_URL" + s for s in re.findall(r"`(_[A-Z]+)`", first))
    return names


# Not template parameters: the endpoint overrides exist for local emulators only
# (a deployed function talks to the real endpoints).
NOT_DEPLOYED = {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL_STS",
                "AWS_ENDPOINT_URL_KMS"}


# Contract variables of features still open (README "Limitations" says so): none now
# (BACKUP_REGIONS is read, DRILL_* are the keeper's). The one-Region spelling
# BACKUP_REGION, which the contract keeps, stays a parameter next to BACKUP_REGIONS.
NOT_YET = set()
NOT_YET_FAMILIES = ()
KEPT_SPELLINGS = {"BACKUP_REGION"}


def test_contract_parser_reads_families():
    names = contract_variables()
    assert {"DRILL_INCLUDE_PATTERN", "DRILL_PROBE", "BACKUP_REGIONS"} <= names
    assert "PROBE" not in names and "INCLUDE_PATTERN" in names


# Issue 15 (the bunker contract): one binary, two modes. The keeper's variables are set on
# the keeper (templates/backup-account.yaml) and nowhere else, so that production can't
# shorten retention or restore; a variable of the other mode is Runtime.ConfigInvalid.
# SNAPFERRY_MODE and KEEPER_MIN_RETENTION_DAYS join DESIGN.md's table with that contract.
BUNKER_VARIABLES = {"SNAPFERRY_MODE", "KEEPER_MIN_RETENTION_DAYS"}
KEEPER_ONLY = {"SNAPFERRY_MODE", "RETENTION_DAYS", "RETENTION_MIN_COPIES",
               "KEEPER_MIN_RETENTION_DAYS", "RESTORE", "RESTORE_INSTANCE_CLASS",
               "RESTORE_SUBNET_GROUP", "RESTORE_SECURITY_GROUP_IDS",
               "DRILL_INCLUDE_PATTERN", "DRILL_CONCURRENCY", "DRILL_INSTANCE_CLASS",
               "DRILL_SUBNET_GROUP", "DRILL_SECURITY_GROUP_IDS", "DRILL_TIMEOUT_MINUTES",
               "DRILL_MAX_AGE_DAYS", "DRILL_PROBE"}
BOTH_MODES = {"NAME_PREFIX", "DRY_RUN", "LOG_LEVEL"}


def deployed_contract():
    names = contract_variables() | BUNKER_VARIABLES
    assert "BACKUP_ROLE_ARN" in names and "RESTORE_SECURITY_GROUP_IDS" in names
    return {n for n in names - NOT_YET if not n.startswith(NOT_YET_FAMILIES)}


def _env_from_parameters(template, env, constant=()):
    for var, value in env.items():
        # each variable comes from a parameter (or a resource of the stack), and an
        # empty optional parameter leaves the variable unset
        if var in constant:
            continue
        refs = json.dumps(value)
        assert '"Ref"' in refs or '"Fn::GetAtt"' in refs, var
        if isinstance(value, dict) and "Fn::If" in value:
            cond = value["Fn::If"][0]
            assert {"Ref": "AWS::NoValue"} in value["Fn::If"][1:] or var == "SHARE_KMS_KEY_ID", var
            assert cond in template["Conditions"], var


def test_every_contract_variable_is_a_parameter(prod, backup):
    names = deployed_contract()
    assert KEEPER_ONLY | BOTH_MODES <= names
    ferry = prod["Resources"]["SnapferryFunction"]["Properties"]["Environment"]["Variables"]
    keeper = backup["Resources"]["KeeperFunction"]["Properties"]["Environment"]["Variables"]
    # the ferry (production): everything but the keeper's; SNAPFERRY_MODE unset (default)
    assert set(ferry) == ((names - KEEPER_ONLY) | KEPT_SPELLINGS) - NOT_DEPLOYED
    # the keeper (backup account): its own, and nothing of the ferry's but the two the
    # chain reads there too (issue 10: every destination Region, its own Region's key)
    assert set(keeper) == KEEPER_ONLY | BOTH_MODES | {"BACKUP_REGIONS", "BACKUP_KMS_KEY_ID"}
    assert keeper["SNAPFERRY_MODE"] == "keeper"
    _env_from_parameters(prod, ferry)
    _env_from_parameters(backup, keeper, constant={"SNAPFERRY_MODE"})
    keeper_params = {"RETENTION_DAYS": "RetentionDays", "RETENTION_MIN_COPIES":
                     "RetentionMinCopies", "KEEPER_MIN_RETENTION_DAYS":
                     "KeeperMinRetentionDays", "RESTORE": "Restore"}
    for var, param in keeper_params.items():
        assert keeper[var] == {"Ref": param}, var
        assert param in backup["Parameters"] and param not in prod["Parameters"], param
    assert backup["Parameters"]["KeeperMinRetentionDays"]["Default"] == 7
    assert backup["Parameters"]["RetentionMinCopies"]["MinValue"] == 1
    # one NamePrefix for both stacks: same parameter spelling and default
    assert prod["Parameters"]["NamePrefix"] == backup["Parameters"]["NamePrefix"] | {
        "Description": prod["Parameters"]["NamePrefix"]["Description"]}
    # the variables the code reads are all in the contract
    config_c = sorted((ROOT / "src").glob("config*.c"))
    if config_c:
        read = set(re.findall(r'"([A-Z][A-Z0-9_]{3,})"',
                              "".join(f.read_text() for f in config_c)))
        read -= {"AWS_REGION", "AWS_DEFAULT_REGION"}   # set by Lambda
        assert read <= names | KEPT_SPELLINGS, "config.c reads variables outside the contract: %s" % (read - names)


# ---- IAM: what the code calls, what the templates grant ---------------------
def service_operations(service):
    """Operation names of ${service} from botocore's model (the SDKs' own list)."""
    botocore_session = pytest.importorskip("botocore.session")
    return set(botocore_session.get_session().get_service_model(service).operation_names)


# Each service client lives in src/<service>.c; JSON targets may appear anywhere.
CLIENT_FILES = {"rds": "rds.c", "sts": "sts.c", "kms": "kms.c"}


def code_actions():
    """IAM actions the code can call: every string literal in a service's client module
    that is an operation of that service, and every TrentService.<Op> JSON target."""
    src = ROOT / "src"
    missing = [f for f in CLIENT_FILES.values() if not (src / f).exists()]
    if missing:
        skip_or_fail("service clients not written yet: " + ", ".join(missing))
    actions = set()
    for service, name in CLIENT_FILES.items():
        ops = service_operations(service)
        text = (src / name).read_text(encoding="utf-8")
        literals = set(re.findall(r'"([A-Za-z]+)"', text))
        actions |= {service + ":" + op for op in literals & ops}
    kms_ops = service_operations("kms")
    for path in sorted(src.glob("*.c")):
        for op in re.findall(r'"TrentService\.([A-Za-z]+)"', path.read_text(encoding="utf-8")):
            assert op in kms_ops, "%s: unknown KMS operation %s" % (path.name, op)
            actions.add("kms:" + op)
    return actions


def iam_statements(template):
    """(resource logical id, statement) of every identity policy (roles and AWS::IAM::Policy),
    both branches of Fn::If included: everything the template can grant."""
    out = []

    def add(owner, doc):
        for st in doc["Statement"]:
            if isinstance(st, dict) and "Fn::If" in st:
                out.extend((owner, s) for s in st["Fn::If"][1:] if s != {"Ref": "AWS::NoValue"})
            else:
                out.append((owner, st))

    for lid, res in template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for pol in props.get("Policies", []):
                add(lid, pol["PolicyDocument"])
        elif res["Type"] == "AWS::IAM::Policy":
            role = props["Roles"][0]["Ref"]
            add(role, props["PolicyDocument"])
        elif res["Type"] == "AWS::Serverless::Function":
            assert "Policies" not in props, "the function's permissions live in its role"
    return out


def as_list(v):
    return v if isinstance(v, list) else [v]


def granted(template):
    return {a for _, st in iam_statements(template) if st["Effect"] == "Allow"
            for a in as_list(st["Action"])}


# Granted although the code never calls them: RDS calls KMS on the caller's behalf
# when it copies or restores an encrypted snapshot, and it needs the caller to be
# allowed to.  Each is granted only under kms:ViaService / kms:GrantIsForAWSResource.
SERVICE_REQUIRED = {
    "kms:CreateGrant": "RDS creates grants on the source, share and backup keys for a copy or restore",
    "kms:Decrypt": "RDS decrypts the source snapshot's data key (source key / share key)",
    "kms:ReEncrypt*": "RDS re-encrypts the data key under the target key of a copy",
    "kms:GenerateDataKey*": "RDS generates the data key of the copy under the target key",
}
# Called by the code but granted to everyone: no IAM permission exists for it.
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
# What the Lambda service does with the function's role (not API calls of snapferry).
PLATFORM = {
    "logs:CreateLogStream": "the Lambda service writes the function's stdout to its log group",
    "logs:PutLogEvents": "same",
    "sqs:SendMessage": "failed asynchronous invocations go to the dead-letter queue",
    "events:PutEvents": "EventBridge forwards the backup account's copy-finished events to "
                        "the production bus (ForwardCopyEventsRole, assumed by EventBridge)",
}


def test_templates_grant_exactly_what_the_code_calls(prod, backup):
    calls = code_actions()
    assert {"rds:CopyDBSnapshot", "sts:AssumeRole", "kms:DescribeKey"} <= calls, calls
    grants = granted(prod) | granted(backup)
    api = {a for a in grants if a.split(":")[0] in ("rds", "kms", "sts")}
    missing = calls - NEEDS_NO_PERMISSION - api
    extra = api - calls - set(SERVICE_REQUIRED)
    assert not missing, "the code calls actions no template grants: %s" % sorted(missing)
    assert not extra, "the templates grant actions the code never calls: %s" % sorted(extra)
    other = grants - api
    assert other <= set(PLATFORM), sorted(other - set(PLATFORM))


# The conditions a delete of a snapshot may carry: production deletes its own transit
# copies (lineage tag present); the keeper deletes snapferry's backup copies (created-by).
DELETE_CONDITIONS = ({"Null": {"aws:ResourceTag/snapferry:source-arn": "false"}},
                     {"StringEquals": {"aws:ResourceTag/snapferry:created-by": "snapferry"}})
# The keeper's restore drills delete only DBs named <NamePrefix>-drill-* tagged as drills.
DRILL_DELETE = ("rds:DeleteDBInstance", "rds:DeleteDBCluster")
DRILL_DELETE_CONDITION = {"Null": {"aws:ResourceTag/snapferry:drill": "false"}}


def test_no_wildcards_and_conditions_on_service_actions(prod, backup):
    for template in (prod, backup):
        for owner, st in iam_statements(template):
            actions = as_list(st["Action"])
            for a in actions:
                assert a != "*" and not a.endswith(":*"), (owner, a)
            cond = json.dumps(st.get("Condition", {}))
            if set(actions) & set(SERVICE_REQUIRED):
                assert "kms:ViaService" in cond or "kms:GrantIsForAWSResource" in cond, (owner, st)
            if "kms:CreateGrant" in actions:
                assert "kms:GrantIsForAWSResource" in cond, (owner, st)
            if st.get("Resource") == "*":
                # Only actions on no resource of the account's: DescribeKey (the function
                # names keys by id), and DescribeAccountAttributes (no resource type in the
                # Service Authorization Reference: "*" is the only resource it takes).
                assert actions in (["kms:DescribeKey"], ["rds:DescribeAccountAttributes"]), \
                    (owner, st)
            for a in actions:
                if a in DRILL_DELETE:
                    assert st["Condition"] == DRILL_DELETE_CONDITION, (owner, st)
                    for r in as_list(st["Resource"]):
                        assert re.search(r":(db|cluster):\$\{NamePrefix\}-drill-\*",
                                         json.dumps(r)), (owner, a, r)
                    continue
                if a.startswith(("rds:Delete", "rds:Restore")) or a == "rds:AddTagsToResource":
                    # every snapshot these name is one of snapferry's (the prefix)
                    snaps = [json.dumps(r) for r in as_list(st["Resource"])
                             if re.search(r":(cluster-)?snapshot:", json.dumps(r))]
                    if a.startswith("rds:Delete"):
                        assert snaps, (owner, a)
                    for r in snaps:
                        assert re.search(r":(cluster-)?snapshot:\$\{NamePrefix\}-\*", r), (owner, a, r)
                if a.startswith("rds:Delete"):
                    assert st["Condition"] in DELETE_CONDITIONS, (owner, st)


def role_grants(template, role):
    """{action: [statements]} granted to one role (its policies and attached policies)."""
    out = {}
    for owner, st in iam_statements(template):
        if owner == role and st["Effect"] == "Allow":
            for a in as_list(st["Action"]):
                out.setdefault(a, []).append(st)
    return out


def test_split_between_the_accounts(prod, backup):
    p = role_grants(prod, "FunctionRole")
    b = role_grants(backup, "BackupRole")
    k = role_grants(backup, "KeeperRole")
    # production: shares its own snapshots, assumes the ferry-facing role; the keeper
    # restores and deletes in the backup account and never assumes a role
    assert [s["Resource"] for s in p["sts:AssumeRole"]] == [{"Ref": "BackupRoleArn"}]
    assert not any(a.startswith("sts:") for a in set(b) | set(k))
    assert "rds:ModifyDBSnapshotAttribute" in p
    assert "rds:RestoreDBInstanceFromDBSnapshot" in k and "rds:RestoreDBInstanceFromDBSnapshot" not in p
    assert "rds:CopyDBSnapshot" in p and "rds:CopyDBSnapshot" in b
    # the keeper copies only within the backup account: its chain (issue 10), from this
    # account's copies in the other Regions into its own
    for a in ("rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot"):
        (chain,) = k[a]
        assert chain["Sid"] == "ChainCopyIntoThisRegion", chain
        for r in as_list(chain["Resource"]):
            assert "${AWS::AccountId}:" in r["Fn::Sub"] and "${NamePrefix}-*" in r["Fn::Sub"]


# Issue 15: the ferry-facing role may only add (the bunker contract, exactly).
ADD_ONLY = {"rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots",
            "rds:ListTagsForResource", "rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot",
            "rds:AddTagsToResource", "kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt",
            "kms:GenerateDataKey*"}


def test_backup_role_is_add_only(backup):
    role = backup["Resources"]["BackupRole"]["Properties"]
    # organization mode (issue 12) or one production role: test_org.py renders both
    (trust_if,) = role["AssumeRolePolicyDocument"]["Statement"]
    cond, org_trust, trust = trust_if["Fn::If"]
    assert cond == "OrgMode" and org_trust["Principal"] == {"AWS": "*"}
    assert org_trust["Condition"] == {
        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"},
                         "aws:PrincipalOrgID": {"Ref": "OrganizationId"}},
        "ArnLike": {"aws:PrincipalArn": {
            "Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${ProductionFunctionRoleName}"}}}
    assert trust["Action"] == org_trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}
    assert trust["Condition"]["ArnEquals"] == {"aws:PrincipalArn": {"Ref": "ProductionFunctionRoleArn"}}
    assert "Service" not in trust["Principal"]
    assert backup["Parameters"]["ExternalId"]["MinLength"] >= 2   # no default: required
    # IAM is global: with several Regions the name carries the Region (issue 10)
    assert role["RoleName"] == {"Fn::If": ["SeveralRegions", {
        "Fn::Sub": "${BackupRoleName}-${AWS::Region}"}, {"Ref": "BackupRoleName"}]}
    assert backup["Parameters"]["BackupRoleName"]["Default"] == "snapferry-backup"
    g = role_grants(backup, "BackupRole")
    assert set(g) == ADD_ONLY, sorted(set(g) ^ ADD_ONLY)
    # tags only at creation: no lineage on the resource yet, snapferry's lineage in the
    # request, snapferry's keys only
    # (the single step's twin, several Regions only: the same in each listed Region)
    tag, step = g["rds:AddTagsToResource"]
    assert tag["Sid"] == "TagNewCopiesAtCreation"
    assert tag["Condition"] == {
        "Null": {"aws:ResourceTag/snapferry:created-by": "true"},
        "StringEquals": {"aws:RequestTag/snapferry:created-by": "snapferry",
                         "aws:RequestTag/snapferry:role": "backup"},
        "ForAllValues:StringLike": {"aws:TagKeys": "snapferry:*"}}
    assert step["Sid"] == "SingleStepTagNewCopiesAtCreation"
    assert step["Condition"] == dict(tag["Condition"], StringEquals=dict(
        tag["Condition"]["StringEquals"],
        **{"aws:RequestedRegion": {"Fn::Split": [",", {"Ref": "BackupRegions"}]}}))
    # the backup key: what RDS needs to encrypt a new copy; the share key: to read it;
    # through RDS of this Region, or (the single step) of a listed Region or the share
    # key's own (test_backup_role_single_step_in_every_listed_region renders them)
    bkey = {"Fn::GetAtt": ["BackupKey", "Arn"]}
    for a, sts in g.items():
        if not a.startswith("kms:"):
            continue
        for st in sts:
            if st["Sid"].startswith("SingleStep"):
                assert "kms:ViaService" in json.dumps(st["Condition"]), (a, st)
            else:
                assert "rds.${AWS::Region}.amazonaws.com" in json.dumps(st["Condition"]), \
                    (a, st)
            if a == "kms:Decrypt":
                assert bkey not in as_list(st["Resource"]), "no Decrypt on the backup key"
    key_stmts = [s for s in key_statements(backup, "BackupKey")
                 if s["Principal"]["AWS"] == {"Fn::GetAtt": ["BackupRole", "Arn"]}]
    assert {a for s in key_stmts for a in as_list(s["Action"])} == {
        "kms:DescribeKey", "kms:GenerateDataKey*", "kms:CreateGrant"}
    for s in key_stmts:     # the key policy alone suffices in its account: same conditions
        cond, org, single = s["Condition"]["Fn::If"]
        assert cond == "OrgMode"
        assert single["StringEquals"] == {
            "kms:ViaService": {"Fn::Sub": "rds.${AWS::Region}.amazonaws.com"}}
        assert org["StringEquals"] == dict(single["StringEquals"], **{
            "aws:PrincipalOrgID": {"Ref": "OrganizationId"}})
        assert {k: v for k, v in org.items() if k != "StringEquals"} == \
            {k: v for k, v in single.items() if k != "StringEquals"}
    assert backup["Resources"]["BackupKey"]["DeletionPolicy"] == "Retain"
    assert {"BackupRoleArn", "BackupKeyArn", "KeeperRoleArn",
            "KeeperFunctionName"} <= set(backup["Outputs"])


def _render_backup(regions, region, share_key="", org=""):
    from fidelity.render import SAM_PYTHON, render_backup
    if not SAM_PYTHON.exists():
        skip_or_fail(f"{SAM_PYTHON} is missing: the SAM transform needs SAM CLI's venv")
    acct = "210987654321"
    params = {"ExternalId": "snapferry-ext-7f3a", "BackupRegions": regions,
              "ProductionShareKeyArn": share_key}
    if org:
        params["OrganizationId"] = org
    else:
        params["ProductionFunctionRoleArn"] = "arn:aws:iam::123456789012:role/snapferry-function"
    return render_backup(params, acct, region,
                         f"arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab")


def _sids(stack, lid):
    return {st["Sid"]: st for _, doc in stack.role_policies(lid) for st in doc["Statement"]}


def test_backup_role_single_step_in_every_listed_region():
    """Issue 10, the single step: the ferry-facing role of ANY Region's stack copies into
    every Region of BackupRegions (not others), reads the pinned share key through the RDS
    endpoint of each listed Region and of the key's own Region, and encrypts with each
    Region's backup key, found by the tag every stack puts on its key. One Region: the
    role and the key exactly as before (no single-step statement, no tag)."""
    regions = "eu-west-1,us-west-2"
    share = "arn:aws:kms:us-east-1:123456789012:key/share-1"
    st = _render_backup(regions, "us-west-2", share)
    b = _sids(st, "BackupRole")
    listed = regions.split(",")
    for sid in ("SingleStepReadListedRegions", "SingleStepCopyIntoListedRegions"):
        assert b[sid]["Condition"] == {"StringEquals": {"aws:RequestedRegion": listed}}
    assert b["SingleStepCopyIntoListedRegions"]["Resource"] == [
        "arn:aws:rds:*:210987654321:snapshot:snapferry-*",
        "arn:aws:rds:*:210987654321:cluster-snapshot:snapferry-*"]
    assert b["SingleStepTagNewCopiesAtCreation"]["Condition"]["StringEquals"][
        "aws:RequestedRegion"] == listed
    via = [f"rds.{r}.amazonaws.com" for r in listed]
    for sid in ("SingleStepReadShareKeyThroughRds", "SingleStepShareKeyGrantsForRds"):
        assert b[sid]["Resource"] == share
        assert b[sid]["Condition"]["StringEquals"] == {
            "kms:ViaService": via + ["rds.us-east-1.amazonaws.com"]}
    assert b["SingleStepShareKeyGrantsForRds"]["Condition"]["Bool"] == {
        "kms:GrantIsForAWSResource": "true"}
    for sid in ("SingleStepEncryptWithListedBackupKeys", "SingleStepBackupKeyGrantsForRds"):
        assert b[sid]["Resource"] == "arn:aws:kms:*:210987654321:key/*"
        assert b[sid]["Condition"]["StringEquals"] == {
            "aws:ResourceTag/snapferry:backup-key": "snapferry", "kms:ViaService": via}
    assert "kms:Decrypt" not in b["SingleStepEncryptWithListedBackupKeys"]["Action"]
    assert st.resource("BackupKey")["Tags"] == [
        {"Key": "snapferry:backup-key", "Value": "snapferry"}]
    # no pinned share key (first deployment; organization mode): RDS of any Region
    for org in ("", "o-abcdefghij"):
        un = _sids(_render_backup(regions, "eu-west-1", "", org), "BackupRole")
        r = un["SingleStepReadShareKeyThroughRds"]
        assert r["Condition"]["StringLike"] == {"kms:ViaService": "rds.*.amazonaws.com"}
        assert r["Resource"] == ("arn:aws:kms:*:*:key/*" if org else
                                 "arn:aws:kms:*:123456789012:key/*")
        assert r["Condition"].get("StringEquals") == (
            {"aws:PrincipalOrgID": org} if org else None)
    # one Region: as before the single step
    for one in (_render_backup("", "us-east-1", share),
                _render_backup("us-east-1", "us-east-1", share)):
        assert not [s for s in _sids(one, "BackupRole") if s.startswith("SingleStep")]
        assert "Tags" not in one.resource("BackupKey")


def test_keeper_role(backup):
    role = backup["Resources"]["KeeperRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert role["RoleName"] == {"Fn::If": ["SeveralRegions", {
        "Fn::Sub": "${KeeperRoleName}-${AWS::Region}"}, {"Ref": "KeeperRoleName"}]}
    assert backup["Parameters"]["KeeperRoleName"]["Default"] == "snapferry-keeper"
    g = role_grants(backup, "KeeperRole")
    (delete,) = {id(s): s for sts in (g["rds:DeleteDBSnapshot"], g["rds:DeleteDBClusterSnapshot"])
                 for s in sts}.values()
    assert delete["Sid"] == "DeleteOwnCopies"
    assert delete["Condition"] == DELETE_CONDITIONS[1]
    # restores always possible (the disaster-day restore), RESTORE only decides the
    # automatic ones; the keeper's resources are all of its own account
    for a in ("rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot",
              "rds:CreateDBInstance"):
        assert a in g, a
    assert "RestoreOn" not in backup.get("Conditions", {})
    assert not any("Fn::If" in json.dumps(st) for sts in g.values() for st in sts)
    tag, result, chain = g["rds:AddTagsToResource"]
    assert chain["Sid"] == "ChainTagNewCopiesAtCreation"
    assert not any("snapshot" in json.dumps(r) for r in as_list(tag["Resource"])), \
        "the keeper tags the DBs it restores"
    # ... and on a copy, only a restore drill's result (issue 13)
    assert result["Sid"] == "TagDrillResultOnCopies"
    assert result["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["snapferry:drill-result"]},
        "Null": {"aws:TagKeys": "false"}}
    (drop,) = {id(s): s for a in DRILL_DELETE for s in g[a]}.values()
    assert drop["Condition"] == DRILL_DELETE_CONDITION
    for st in {id(st): st for sts in g.values() for st in sts}.values():
        if as_list(st["Action"]) == ["rds:DescribeAccountAttributes"]:
            assert st["Resource"] == "*" and "Condition" not in st, st   # no resource type
            continue
        for r in as_list(st["Resource"]):
            s = json.dumps(r)
            assert "${AWS::AccountId}" in s or "KeeperLogGroup" in s or "BackupKey" in s, s
    assert "rds:DescribeAccountAttributes" in g   # BackupSnapshotQuotaUsedPercent
    assert "cloudwatch:PutMetricData" not in g   # metrics are EMF log lines


def test_scp_protects_backup_copies():
    """templates/scp-protect-backups.json: valid JSON; with its placeholders filled in,
    evaluated by the fidelity evaluator, it denies the listed actions on copies tagged
    snapferry:role=backup to everyone but exactly the keeper role and the break-glass
    role, and leaves other resources and tags at creation alone."""
    from fidelity import policy
    path = ROOT / "templates" / "scp-protect-backups.json"
    raw = path.read_text(encoding="utf-8")
    scp = json.loads(raw)
    docs = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for placeholder in ("scp-protect-backups.json", "BACKUP_ACCOUNT_ID",
                        "BREAK_GLASS_ROLE_NAME"):
        assert placeholder in docs, placeholder
    (st,) = scp["Statement"]
    assert st["Effect"] == "Deny"
    exempt = st["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert exempt == ["arn:aws:iam::BACKUP_ACCOUNT_ID:role/snapferry-keeper",
                      "arn:aws:iam::BACKUP_ACCOUNT_ID:role/BREAK_GLASS_ROLE_NAME"]
    acct = "210987654321"

    def fill(s):
        return s.replace("BACKUP_ACCOUNT_ID", acct).replace("BREAK_GLASS_ROLE_NAME",
                                                            "break-glass")
    pols = [("scp", json.loads(fill(raw)))]
    denied = ("rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot",
              "rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute",
              "rds:RemoveTagsFromResource", "rds:AddTagsToResource")
    assert set(as_list(st["Action"])) == set(denied)
    copy = f"arn:aws:rds:us-east-1:{acct}:snapshot:snapferry-orders-1"
    ccopy = f"arn:aws:rds:eu-west-1:{acct}:cluster-snapshot:snapferry-aurora-1"
    tagged = {"aws:resourcetag/snapferry:role": "backup"}
    principals = {
        "admin": f"arn:aws:iam::{acct}:role/Admin",
        "ferry-facing": f"arn:aws:iam::{acct}:role/snapferry-backup",
        "root": f"arn:aws:iam::{acct}:root",
        "another account's keeper": "arn:aws:iam::111122223333:role/snapferry-keeper",
        "a keeper look-alike": f"arn:aws:iam::{acct}:role/snapferry-keeper-2",
    }

    def decide(action, resource, ctx, arn):
        return policy.evaluate(pols, action, resource, dict(ctx, **{"aws:principalarn": arn}))
    for action in denied:
        for resource in (copy, ccopy):
            for who, arn in principals.items():
                d, why = decide(action, resource, tagged, arn)
                assert d == "deny", (action, who, why)
            for arn in exempt:
                d, why = decide(action, resource, tagged, fill(arn))
                assert d == "none", (action, arn, why)
            # a transit copy, an untagged snapshot, a copy being created (no tag yet)
            for ctx in ({"aws:resourcetag/snapferry:role": "transit"}, {}):
                d, why = decide(action, resource, ctx, principals["admin"])
                assert d == "none", (action, ctx, why)
    d, _ = decide("rds:DeleteDBInstance", f"arn:aws:rds:us-east-1:{acct}:db:orders", tagged,
                  principals["admin"])
    assert d == "none"


def key_statements(template, lid):
    return template["Resources"][lid]["Properties"]["KeyPolicy"]["Statement"]


def test_share_key_policy_lets_the_backup_account_copy(prod):
    stmts = key_statements(prod, "ShareKey")
    backup_root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${BackupAccountId}:root"}
    to_backup = [s for s in stmts if s["Principal"]["AWS"] == backup_root]
    acts = {a for s in to_backup for a in as_list(s["Action"])}
    # RDS user guide, "Allowing access to an AWS KMS key" (sharing encrypted snapshots)
    # (issue 9 defect 8: the documented pattern, statement for statement)
    assert acts == {"kms:Encrypt", "kms:DescribeKey", "kms:Decrypt", "kms:ReEncrypt*",
                    "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants",
                    "kms:RevokeGrant"}
    for s in to_backup:
        grants = {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}
        if grants & set(as_list(s["Action"])):
            assert set(as_list(s["Action"])) == grants
            assert s["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    fn_role = {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    assert any(s["Principal"]["AWS"] == fn_role for s in stmts)
    assert prod["Resources"]["ShareKey"]["Condition"] == "CreateShareKey"
    assert {"FunctionArn", "FunctionRoleArn", "ShareKeyArn", "DeadLetterQueueUrl",
            "NotificationTopicArn"} <= set(prod["Outputs"])


def test_alarms(prod):
    res = prod["Resources"]
    alarms = {lid: r["Properties"] for lid, r in res.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in alarms.values()}
    errors = by_metric[("AWS/Lambda", "Errors")]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SnapferryFunction"}}]
    rpo = by_metric[("snapferry", "NewestBackupAgeSecondsMax")]
    assert "Dimensions" not in rpo and rpo["Threshold"] == {"Ref": "RpoSeconds"}
    assert rpo["TreatMissingData"] == "breaching"   # no sweep is as bad as an old copy
    for a in alarms.values():
        assert a["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    log_group = [r for r in res.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(log_group) == 1 and "RetentionInDays" in log_group[0]["Properties"]


def test_backup_account_alarms(backup):
    """The bunker watches itself: the keeper's errors, the recovery point computed from
    the copies (alarms on no data too: a keeper that stopped is as bad), lineage mismatches."""
    res = backup["Resources"]
    alarms = {lid: r["Properties"] for lid, r in res.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in alarms.values()
                 if "Namespace" in a}
    # Restore drills: the largest LastGoodDrillAgeSeconds in days against DrillMaxAgeDays.
    drill = alarms["DrillAgeAlarm"]
    (age,) = [m for m in drill["Metrics"] if "MetricStat" in m]
    assert age["MetricStat"]["Metric"] == {"Namespace": "snapferry",
                                           "MetricName": "LastGoodDrillAgeSeconds"}
    assert drill["Threshold"] == {"Ref": "DrillMaxAgeDays"}
    assert res["DrillScheduleRule"]["Properties"]["Targets"][0]["Input"] == '{"action":"drill"}'
    errors = by_metric[("AWS/Lambda", "Errors")]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "KeeperFunction"}}]
    rpo = by_metric[("snapferry", "NewestBackupAgeSecondsMax")]
    # issue 10: one stack per destination Region; the keeper emits the Max with its Region
    assert rpo["Dimensions"] == [{"Name": "Region", "Value": {"Ref": "AWS::Region"}}]
    assert rpo["Threshold"] == {"Ref": "RpoSeconds"}
    assert rpo["TreatMissingData"] == "breaching"
    lineage = by_metric[("snapferry", "LineageMismatch")]
    assert lineage["Threshold"] == 0 and lineage["ComparisonOperator"] == "GreaterThanThreshold"
    for a in alarms.values():
        assert a["AlarmActions"] == [{"Ref": "NotificationTopic"}]


# ---- EventBridge patterns ------------------------------------------------------
# Home-made: no offline implementation of EventBridge pattern matching exists (the
# real one is the service, or its TestEventPattern API).  It covers the subset the
# templates use and refuses anything else, so a new operator can't pass silently.
def _match_value(alternatives, value):
    values = value if isinstance(value, list) else [value]
    for alt in alternatives:
        if isinstance(alt, dict):
            (op, arg), = alt.items()
            if op != "prefix":
                raise NotImplementedError("pattern operator %r" % op)
            if any(isinstance(v, str) and v.startswith(arg) for v in values):
                return True
        elif any(v == alt and type(v) is type(alt) for v in values):
            return True
    return False


def pattern_matches(pattern, event):
    if not isinstance(event, dict):
        return False
    for key, want in pattern.items():
        if key not in event:
            return False
        if isinstance(want, dict):
            if not pattern_matches(want, event[key]):
                return False
        elif isinstance(want, list):
            if not _match_value(want, event[key]):
                return False
        else:
            raise ValueError("pattern leaves must be arrays: %r" % (want,))
    return True


def test_pattern_matcher_itself():
    p = {"source": ["aws.rds"], "detail": {"EventID": ["A", "B"], "Message": [{"prefix": "Fin"}]}}
    ok = {"source": "aws.rds", "detail": {"EventID": "B", "Message": "Finished copy", "X": 1}}
    assert pattern_matches(p, ok)
    for broken in ({"source": "aws.ec2"}, {"detail": {"EventID": "C"}},
                   {"detail": {"Message": "Started copy"}}, {"detail": "flat"}):
        ev = copy.deepcopy(ok)
        for k, v in broken.items():
            if isinstance(v, dict) and isinstance(ev[k], dict):
                ev[k].update(v)
            else:
                ev[k] = v
        assert not pattern_matches(p, ev), broken
    assert not pattern_matches(p, {"source": "aws.rds"})
    assert pattern_matches({"detail": {"EventCategories": ["backup"]}},
                           {"detail": {"EventCategories": ["creation", "backup"]}})
    assert not pattern_matches({"n": [1]}, {"n": "1"})
    with pytest.raises(NotImplementedError):
        pattern_matches({"a": [{"anything-but": "x"}]}, {"a": "y"})


# The accounts of the sample events: production's own, and its backup account.
OWN_ACCOUNT, BACKUP_ACCOUNT = "123456789012", "210987654321"


def _resolve(v, refs):
    """A pattern with its account Refs replaced by the samples' accounts."""
    if isinstance(v, dict) and set(v) == {"Ref"} and v["Ref"] in refs:
        return refs[v["Ref"]]
    if isinstance(v, dict):
        return {k: _resolve(x, refs) for k, x in v.items()}
    if isinstance(v, list):
        return [_resolve(x, refs) for x in v]
    return v


def rds_patterns(template):
    """Every RDS event pattern of ${template}, its account Refs resolved as deployed for the
    sample events: template.yaml in OWN_ACCOUNT, the backup account's in BACKUP_ACCOUNT."""
    keeper = "KeeperFunction" in template["Resources"]
    refs = {"AWS::AccountId": BACKUP_ACCOUNT if keeper else OWN_ACCOUNT,
            "BackupAccountId": BACKUP_ACCOUNT}
    return [_resolve(p, refs) for p in _rds_patterns(template)]


def _rds_patterns(template):
    out = []
    for lid, res in template["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            for ev in res["Properties"].get("Events", {}).values():
                if ev["Type"] in ("EventBridgeRule", "CloudWatchEvent"):
                    out.append(ev["Properties"]["Pattern"])
        elif res["Type"] == "AWS::Events::Rule" and "EventPattern" in res["Properties"]:
            out.append(res["Properties"]["EventPattern"])
    return out


# DESIGN.md, "Triggers": the RDS events that advance a snapshot.
TRIGGERS = {
    "RDS DB Snapshot Event": {"RDS-EVENT-0042", "RDS-EVENT-0091", "RDS-EVENT-0197", "RDS-EVENT-0060"},
    "RDS DB Cluster Snapshot Event": {"RDS-EVENT-0075", "RDS-EVENT-0169"},
}


def test_trigger_list_agrees_with_design():
    design = SHARED / "DESIGN.md"
    if not design.exists():
        skip_or_fail("../shared/DESIGN.md not found")
    table = design.read_text(encoding="utf-8").split("## Triggers", 1)[1].split("\n## ", 1)[0]
    ids = set()
    for m in re.finditer(r"RDS-EVENT-(\d{4})((?:\s*/\s*\d{4})*)", table):
        ids.add("RDS-EVENT-" + m.group(1))
        ids.update("RDS-EVENT-" + n for n in re.findall(r"\d{4}", m.group(2)))
    assert ids == set().union(*TRIGGERS.values())


def must_trigger(event):
    """The oracle: an RDS snapshot event of the own account whose (detail-type, EventID)
    the design lists, or a copy-finished event of the backup account (forwarded to the
    production bus, issue 11)."""
    if not isinstance(event, dict) or event.get("source") != "aws.rds":
        return False
    detail = event.get("detail")
    ids = TRIGGERS.get(event.get("detail-type"), set())
    if event.get("account") == BACKUP_ACCOUNT:
        ids = ids & KEEPER_TRIGGERS.get(event.get("detail-type"), set())
    elif event.get("account") != OWN_ACCOUNT:
        return False
    return isinstance(detail, dict) and detail.get("EventID") in ids


def sample_events():
    files = sorted(glob.glob(str(ROOT / "events" / "*.json")))
    files += sorted(glob.glob(str(SHARED / "reference" / "events" / "*.json")))
    out = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out.append((os.path.relpath(f, ROOT.parent), json.load(fh)))
    return out


def synthesized_events():
    """Every trigger built into the AWS sample envelopes (aws-facts §8 suggests it), and
    near misses: right EventID under the wrong detail-type or source, neighbour IDs."""
    base = {"version": "0", "id": "00000000-0000-0000-0000-000000000000", "source": "aws.rds",
            "account": "123456789012", "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:rds:us-east-1:123456789012:snapshot:s"],
            "detail": {"EventCategories": ["creation"], "SourceType": "SNAPSHOT",
                       "SourceArn": "arn:aws:rds:us-east-1:123456789012:snapshot:s",
                       "Date": "2024-01-01T00:00:00.000Z", "Message": "m",
                       "SourceIdentifier": "s"}}
    out = []
    for dt, ids in TRIGGERS.items():
        others = sorted(set().union(*TRIGGERS.values()) - ids)
        for eid in sorted(ids) + others + ["RDS-EVENT-0040", "RDS-EVENT-0041", "RDS-EVENT-0074",
                                  "RDS-EVENT-0196", "RDS-EVENT-0059", "RDS-EVENT-0168"]:
            ev = copy.deepcopy(base)
            ev["detail-type"], ev["detail"]["EventID"] = dt, eid
            out.append(("synth %s %s" % (dt, eid), ev))
        for eid in sorted(ids):
            for field, value in (("source", "aws.events"), ("source", "custom.rds"),
                                 ("detail-type", "RDS DB Instance Event"),
                                 ("detail-type", "RDS DB Cluster Event")):
                ev = copy.deepcopy(base)
                ev["detail-type"], ev["detail"]["EventID"] = dt, eid
                ev[field] = value
                out.append(("synth %s %s %s=%s" % (dt, eid, field, value), ev))
            ev = copy.deepcopy(base)
            ev["detail-type"] = dt
            ev["detail"].pop("EventID", None)
            out.append(("synth %s without EventID" % dt, ev))
    out.append(("synth scheduled", {"version": "0", "id": "1", "detail-type": "Scheduled Event",
                                    "source": "aws.events", "account": "123456789012",
                                    "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
                                    "resources": ["arn:aws:events:us-east-1:123456789012:rule/r"],
                                    "detail": {}}))
    for payload in ({"action": "sweep"}, {"action": "restore", "db": "orders"},
                    {"action": "advance", "snapshot": "rds:orders-2024"}):
        out.append(("synth manual %s" % payload["action"], payload))
    return out


def test_rules_match_exactly_the_triggering_events(prod):
    patterns = rds_patterns(prod)
    assert patterns, "no EventBridge rule for RDS events"
    samples = sample_events() + synthesized_events()
    positives = 0
    for name, event in samples:
        want = must_trigger(event)
        got = any(pattern_matches(p, event) for p in patterns)
        assert got == want, "%s: rule %s, design says %s" % (name, "matches" if got else
                                                          "does not match", want)
        positives += want
    # every trigger (detail-type, EventID) is exercised, and some real samples are negative
    assert positives >= sum(len(v) for v in TRIGGERS.values())
    assert any(not must_trigger(e) for n, e in samples if not n.startswith("synth"))


# The keeper's rule: RDS's copy-finished events of the backup account (same-Region 0197,
# cross-Region 0060, aws-facts §1.2); AWS documents none for cluster snapshot copies.
KEEPER_TRIGGERS = {"RDS DB Snapshot Event": {"RDS-EVENT-0197", "RDS-EVENT-0060"}}


def test_keeper_rule_matches_copy_finished_events(backup):
    patterns = rds_patterns(backup)
    assert patterns, "no EventBridge rule for the keeper"
    positives = 0
    for name, event in sample_events() + synthesized_events():
        want = (isinstance(event, dict) and event.get("source") == "aws.rds" and
                isinstance(event.get("detail"), dict) and
                event["detail"].get("EventID") in
                KEEPER_TRIGGERS.get(event.get("detail-type"), set()))
        got = any(pattern_matches(p, event) for p in patterns)
        assert got == want, "%s: keeper rule %s" % (name, "matches" if got else "misses")
        positives += want
    assert positives >= 2
    events = backup["Resources"]["KeeperFunction"]["Properties"]["Events"]
    sched = [e["Properties"] for e in events.values() if e["Type"] == "Schedule"]
    assert len(sched) == 1 and sched[0]["Schedule"] == {"Ref": "KeeperSchedule"}
    assert "Input" not in sched[0]
    assert backup["Parameters"]["KeeperSchedule"]["Default"] == "rate(1 hour)"


def test_schedule_sends_a_scheduled_event(prod):
    events = prod["Resources"]["SnapferryFunction"]["Properties"]["Events"]
    sched = [e["Properties"] for e in events.values() if e["Type"] == "Schedule" and
             e["Properties"]["Schedule"] == {"Ref": "SweepSchedule"}]
    assert len(sched) == 1
    assert prod["Parameters"]["SweepSchedule"]["Default"] == "rate(1 hour)"
    # no Input: EventBridge delivers its own "Scheduled Event" document, which the
    # function classifies as a sweep
    assert "Input" not in sched[0]


def test_inflight_schedule(prod):
    """Issue 11: the in-flight check every 5 minutes, {"action":"inflight"}, "off" disables
    it (the rule stays, DISABLED: a schedule expression can't be "off")."""
    p = prod["Resources"]["SnapferryFunction"]["Properties"]["Events"]["Inflight"]
    assert p["Type"] == "Schedule"
    p = p["Properties"]
    assert json.loads(p["Input"]) == {"action": "inflight"}
    assert p["Schedule"] == {"Fn::If": ["InflightOn", {"Ref": "InflightSchedule"},
                                        "rate(5 minutes)"]}
    assert p["State"] == {"Fn::If": ["InflightOn", "ENABLED", "DISABLED"]}
    assert prod["Parameters"]["InflightSchedule"]["Default"] == "rate(5 minutes)"
    assert prod["Conditions"]["InflightOn"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "InflightSchedule"}, "off"]}]}


def test_forwarded_copy_events_reach_production(prod, backup):
    """Issue 11: the backup account forwards its copy-finished events to the production
    bus named by ProductionEventBusArn (a role EventBridge assumes, PutEvents on that bus
    only); production's bus policy lets exactly the backup account in."""
    rule = backup["Resources"]["ForwardCopyEventsRule"]
    role = backup["Resources"]["ForwardCopyEventsRole"]
    assert rule["Condition"] == role["Condition"] == "ForwardCopyEvents"
    (t,) = rule["Properties"]["Targets"]
    assert t["Arn"] == {"Ref": "ProductionEventBusArn"}
    assert t["RoleArn"] == {"Fn::GetAtt": ["ForwardCopyEventsRole", "Arn"]}
    assert rule["Properties"]["EventPattern"]["detail"]["EventID"] == [
        "RDS-EVENT-0197", "RDS-EVENT-0060"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "events.amazonaws.com"}]
    (pol,) = role["Properties"]["Policies"]
    assert pol["PolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Action": "events:PutEvents",
        "Resource": {"Ref": "ProductionEventBusArn"}}]
    assert backup["Parameters"]["ProductionEventBusArn"]["Default"] == ""
    bus = prod["Resources"]["BackupAccountBusPolicy"]["Properties"]
    assert bus["EventBusName"] == "default"
    assert bus["Statement"]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${BackupAccountId}:root"}}
    assert bus["Statement"]["Action"] == "events:PutEvents"
    # the forwarded event, as delivered on production's bus, is matched by exactly one rule
    doc = json.loads((ROOT / "events" / "copy-finished-forwarded.json").read_text())
    assert doc["account"] == BACKUP_ACCOUNT
    assert sum(pattern_matches(p, doc) for p in rds_patterns(prod)) == 1
    own = json.loads((ROOT / "events" / "copy-finished-local.json").read_text())
    assert sum(pattern_matches(p, own) for p in rds_patterns(prod)) == 1


def _alarmed_metrics_are_emitted(template):
    """Every alarm on the snapferry namespace reads a metric that src/ emits with
    log_metric() and the same dimensions (none for the recovery point alarm)."""
    emitted = {}
    for path in sorted((ROOT / "src").glob("*.c")):
        for call in re.findall(r'\blog_metric\(([^;]*)\);', path.read_text(encoding="utf-8")):
            args = [a.strip() for a in call.split(",")]   # name, value, unit, dim, dimval
            if len(args) != 5 or not re.fullmatch(r'"[A-Za-z]+"', args[0]):
                continue   # a variable name: not checkable here
            dim = None if args[3] == "NULL" else args[3].strip('"')
            emitted.setdefault(args[0].strip('"'), set()).add(dim)
    if not emitted:
        skip_or_fail("no log_metric() calls in src/ yet")
    for lid, res in template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in props:
            # metric math: each metric it reads is emitted without dimensions
            for m in props["Metrics"]:
                if "MetricStat" in m:
                    name = m["MetricStat"]["Metric"]["MetricName"]
                    assert None in emitted.get(name, set()), (lid, name)
            continue
        if res["Type"] == "AWS::CloudWatch::Alarm" and props["Namespace"] == "snapferry":
            dims = {d["Name"] for d in props.get("Dimensions", [])}
            assert props["MetricName"] in emitted, (lid, props["MetricName"], sorted(emitted))
            assert (next(iter(dims)) if dims else None) in emitted[props["MetricName"]], lid


def test_alarmed_metrics_are_emitted_by_the_code(prod):
    _alarmed_metrics_are_emitted(prod)


def test_keeper_alarmed_metrics_are_emitted_by_the_code(backup):
    """LineageMismatch, NewestBackupAgeSecondsMax and BackupSnapshotQuotaUsedPercent (the
    organization mode's BackupSnapshotQuotaAlarm) are the keeper's."""
    _alarmed_metrics_are_emitted(backup)


# events/README.md names the files by what they are: a second oracle, independent
# of the EventID table above.
EVENT_NAMES_TRIGGER = re.compile(r"^(snapshot-created-|cluster-snapshot-created-|copy-finished-)")
EVENT_NAMES_NOT = re.compile(r"^(negative-snapshot-deleted|negative-cluster-snapshot-creating|"
                             r"negative-instance-event|scheduled-|manual-|invalid-)")


def test_rules_against_the_named_sample_events(prod):
    files = sorted((ROOT / "events").glob("*.json"))
    if not files:
        skip_or_fail("events/ has no samples yet")
    patterns = rds_patterns(prod)
    seen = {True: 0, False: 0}
    for f in files:
        want = True if EVENT_NAMES_TRIGGER.match(f.name) else (
            False if EVENT_NAMES_NOT.match(f.name) else None)
        if want is None:
            continue   # e.g. other-account/region samples: the rule can't tell, the code refuses
        event = json.loads(f.read_text(encoding="utf-8"))
        got = any(pattern_matches(p, event) for p in patterns)
        assert got == want, "%s: the rule %s it" % (f.name, "matches" if got else "misses")
        seen[want] += 1
    assert seen[True] >= 6 and seen[False] >= 3, seen


def test_name_prefix_is_lower_case_only(prod, backup):
    """Issue 9 defect 2: RDS stores snapshot ids in lower case and IAM compares resource ARNs
    case-sensitively: an upper-case NamePrefix would grant nothing, so neither template
    accepts one (the bootstrap refuses such a NAME_PREFIX at start-up too)."""
    for t in (prod, backup):
        spec = t["Parameters"]["NamePrefix"]
        pat = re.compile(spec["AllowedPattern"])
        assert pat.fullmatch(spec["Default"])
        for good in ("snapferry", "snap-ferry-2", "a"):
            assert pat.fullmatch(good), good
        for bad in ("SnapFerry", "snapFerry", "SNAPFERRY", "snap--ferry", "-snap", "snap-",
                    "2snap", "snap_ferry"):
            assert not pat.fullmatch(bad), bad


def test_production_role_has_no_restore_reads(prod, backup):
    """Issue 9 defect 7: DescribeDBInstances / DescribeDBClusters are the restore's
    (src/restore.c), and restores are the keeper's (issue 15): neither the production role
    nor the ferry-facing role reads DBs (the enforced run, test_enforced_policies.py,
    proves it with zero denials)."""
    p = granted(prod)
    b = role_grants(backup, "BackupRole")
    k = role_grants(backup, "KeeperRole")
    for a in ("rds:DescribeDBInstances", "rds:DescribeDBClusters"):
        assert a not in p and a not in b, a
        assert a in k, a


# ---- the StackSet-ready twin (issue 12) -----------------------------------------------
STACKSET_SCRIPT = ROOT / "scripts" / "stackset_template.py"
# the same for every production account of the organization (the StackSet's values)
SAME_FOR_ALL = {"BackupAccountId", "BackupRoleArn", "BackupKmsKeyId", "ArtifactBucketPrefix"}


def _sam_python():
    p = ROOT / ".venv-sam" / "bin" / "python"
    if not p.exists():
        skip_or_fail("SAM CLI's venv (.venv-sam) is missing: the generator needs samtranslator")
    return str(p)


def test_stackset_twin_is_generated_from_template_yaml(tmp_path):
    """templates/production-stackset.yaml is what the generator makes of template.yaml
    now (a drift check: edit template.yaml, then make package-stackset), and the generator
    refuses a check against an edited copy."""
    r = subprocess.run([_sam_python(), str(STACKSET_SCRIPT), "--check"], capture_output=True,
                       text=True, timeout=300, env=sam_env(), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    edited = tmp_path / "twin.yaml"
    edited.write_text(STACKSET.read_text(encoding="utf-8").replace("MemorySize: 128",
                                                                   "MemorySize: 256"))
    r = subprocess.run([_sam_python(), str(STACKSET_SCRIPT), "--check", "-o", str(edited)],
                       capture_output=True, text=True, timeout=300, env=sam_env(), cwd=ROOT)
    assert r.returncode == 1 and "out of date" in r.stderr


def test_stackset_twin_has_no_transform_and_code_per_region(prod):
    twin = load(STACKSET)
    assert "Transform" not in twin
    types = {r["Type"] for r in twin["Resources"].values()}
    assert not [t for t in types if t.startswith("AWS::Serverless::")], types
    fns = {lid: r for lid, r in twin["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert list(fns) == ["SnapferryFunction"]
    code = fns["SnapferryFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
                    "S3Key": {"Ref": "ArtifactKey"}}
    assert "CodeUri" not in json.dumps(twin)
    # no Region or account baked in by the offline transform
    text = STACKSET.read_text(encoding="utf-8")
    assert not re.search(r"(?<![0-9])[0-9]{12}(?![0-9])", text)
    assert not re.search(r"\b[a-z]{2}-[a-z]+-[0-9]\b", text)
    # the same parameters as template.yaml, plus the artefact's; none per account
    assert set(twin["Parameters"]) == set(prod["Parameters"]) | {"ArtifactBucketPrefix",
                                                                  "ArtifactKey"}
    for name, spec in twin["Parameters"].items():
        assert "Default" in spec or name in SAME_FOR_ALL, name
    # the share key: created by each stack unless an existing one is given
    assert twin["Parameters"]["ExistingShareKmsKeyArn"]["Default"] == ""
    assert twin["Resources"]["ShareKey"]["Condition"] == "CreateShareKey"
    # the policies are template.yaml's, statement for statement
    for lid in ("FunctionRole", "FunctionKmsPolicy", "FunctionPlatformPolicy", "ShareKey"):
        assert twin["Resources"][lid] == prod["Resources"][lid], lid
    # what SAM made of the events and the invoke configuration keeps the parameters
    eic = twin["Resources"]["SnapferryFunctionEventInvokeConfig"]["Properties"]
    assert eic["MaximumRetryAttempts"] == {"Ref": "MaximumRetryAttempts"}
    assert eic["MaximumEventAgeInSeconds"] == {"Ref": "MaximumEventAgeInSeconds"}
    sched = [r["Properties"] for r in twin["Resources"].values()
             if r["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in r["Properties"]]
    assert sorted(map(json.dumps, (s["ScheduleExpression"] for s in sched))) == sorted(
        map(json.dumps, ({"Ref": "SweepSchedule"}, {"Fn::If": [
            "InflightOn", {"Ref": "InflightSchedule"}, "rate(5 minutes)"]})))
    assert sorted(map(json.dumps, rds_patterns(twin))) == sorted(map(json.dumps,
                                                                     rds_patterns(prod)))
