"""Organization mode (issue 12): one backup account for every production account of an AWS
Organization, the production stack deployed into each account by a StackSet.

- The backup template's organization mode renders with the organization id and no account
  list: the add-only role trusts the function role name of any account of the organization
  (aws:PrincipalOrgID + aws:PrincipalArn), the backup key the same through RDS.
- The enforced-policy run (tests/fidelity/policy.py, with a minimal notion of which accounts
  are in the organization): THREE production accounts, each with its own function role and
  share key rendered from template.yaml with the same parameters (the StackSet's), with
  same-named DBs and snapshots, ferry into one backup account under the org-mode role;
  every source of every account arrives, zero denials. A role of an account outside the
  organization, and a role of a member account with another name, are denied AssumeRole.

The emulator reports every function ARN in account 012345678912 and the function refuses
events of another account, so one production account runs under the Runtime Interface
Emulator (012345678912) and the two others run the same bootstrap with `bootstrap --event -`
(the handler the Runtime API loop calls), with their own function role's credentials.
"""
import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError

import ferry_support as fs
from ferry_support import SCHEDULED, run_event, snapshot_event

ORG_ID = "o-a1b2c3d4e5"
PROD = "012345678912"          # the emulator's account
FLEET = ["111111111111", "222222222222"]
OUTSIDER = "999999999999"      # an account of no organization
BACKUP = "210987654321"
ORG_PARAMS = {"OrganizationId": ORG_ID, "ProductionFunctionRoleArn": ""}


def _need_sam():
    from fidelity.render import SAM_PYTHON
    from harness.rie_fixtures import skip_or_fail
    if not SAM_PYTHON.exists():
        skip_or_fail(f"{SAM_PYTHON} is missing: the SAM transform needs SAM CLI's venv "
                     "(make setup)")


# ---- rendering --------------------------------------------------------------------------

def _render(params):
    from fidelity.render import render_backup
    key = f"arn:aws:kms:us-east-1:{BACKUP}:key/1111aaaa-2222-3333-4444-5555bbbb5555"
    return render_backup(dict({"ExternalId": "snapferry-ext-7f3a"}, **params), BACKUP,
                         "us-east-1", key)


def _accounts_in(doc):
    return set(re.findall(r"(?<![0-9])[0-9]{12}(?![0-9])", json.dumps(doc)))


def test_org_mode_policies_render_with_the_org_id_and_no_account_list():
    _need_sam()
    from fidelity.render import rules_hold
    s = _render(ORG_PARAMS)
    assert rules_hold(s) == []
    trust = s.resource("BackupRole")["AssumeRolePolicyDocument"]
    (st,) = trust["Statement"]
    assert st["Principal"] == {"AWS": "*"} and st["Action"] == "sts:AssumeRole"
    assert st["Condition"] == {
        "StringEquals": {"sts:ExternalId": "snapferry-ext-7f3a", "aws:PrincipalOrgID": ORG_ID},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/snapferry-function"}}
    key = s.resource("BackupKey")["KeyPolicy"]
    role_stmts = [k for k in key["Statement"]
                  if k["Principal"] == {"AWS": f"arn:aws:iam::{BACKUP}:role/snapferry-backup"}]
    assert len(role_stmts) == 2
    for k in role_stmts:
        assert k["Condition"]["StringEquals"] == {
            "kms:ViaService": "rds.us-east-1.amazonaws.com", "aws:PrincipalOrgID": ORG_ID}
    policies = s.role_policies("BackupRole")
    # no production account anywhere: only the backup account's own id
    for doc in [trust, key] + [d for _n, d in policies]:
        assert _accounts_in(doc) <= {BACKUP}, doc
    stmts = {st["Sid"]: st for _n, d in policies for st in d["Statement"]}
    assert "arn:aws:rds:*:*:snapshot:*" in stmts["CopySharedSnapshots"]["Resource"]
    assert "arn:aws:rds:*:*:cluster-snapshot:*" in stmts["CopySharedSnapshots"]["Resource"]
    assert stmts["ReadShareKeyThroughRds"]["Resource"] == ["arn:aws:kms:us-east-1:*:key/*"]
    # a pinned share key means one production account: ignored in organization mode
    s2 = _render(dict(ORG_PARAMS, ProductionShareKeyArn=f"arn:aws:kms:us-east-1:{PROD}:key/x"))
    st2 = {st["Sid"]: st for _n, d in s2.role_policies("BackupRole") for st in d["Statement"]}
    assert st2["ReadShareKeyThroughRds"]["Resource"] == ["arn:aws:kms:us-east-1:*:key/*"]
    # another role name (the StackSet's FunctionRoleName)
    s3 = _render(dict(ORG_PARAMS, ProductionFunctionRoleName="fleet-ferry"))
    c = s3.resource("BackupRole")["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert c["ArnLike"]["aws:PrincipalArn"] == "arn:aws:iam::*:role/fleet-ferry"


def test_single_account_mode_unchanged_and_modes_exclusive():
    _need_sam()
    from fidelity.render import rules_hold
    role = f"arn:aws:iam::{PROD}:role/snapferry-function"
    s = _render({"ProductionFunctionRoleArn": role})
    assert rules_hold(s) == []
    (st,) = s.resource("BackupRole")["AssumeRolePolicyDocument"]["Statement"]
    assert st["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}
    assert st["Condition"]["ArnEquals"] == {"aws:PrincipalArn": role}
    assert "aws:PrincipalOrgID" not in json.dumps(s.resource("BackupKey")["KeyPolicy"])
    assert rules_hold(_render({"ProductionFunctionRoleArn": ""})), "neither mode given"
    assert rules_hold(_render(dict(ORG_PARAMS, ProductionFunctionRoleArn=role))), "both"


# ---- the enforced run: three production accounts, one backup account --------------------

def _org(aws, accounts):
    aws._req("POST", "/_fidelity/policy",
             {"organization": {"id": ORG_ID, "accounts": list(accounts)}})


def _role_in(w, account, name, aws):
    """A role `name` in `account` allowed to assume the ferry-facing role (what its own
    account's admin can always grant), and its credentials as Lambda would give them."""
    from fidelity.world import admin_client
    iam = admin_client(w.endpoint, "iam", account, w.region)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    iam.put_role_policy(RoleName=name, PolicyName="assume-backup", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": w.role_arn}]}))
    return aws._req("POST", "/_fidelity/policy",
                    {"role_credentials": f"arn:aws:iam::{account}:role/{name}"})["credentials"]


def _assume(w, creds):
    sts = boto3.client("sts", endpoint_url=w.endpoint, region_name=w.region,
                       aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    return sts.assume_role(RoleArn=w.role_arn, RoleSessionName="org-test",
                           ExternalId=w.external_id)


def _run(w, event):
    """`bootstrap --event -` with the account's function role credentials and the
    configuration its stack gives the function."""
    rc, res, logs = run_event(w, event, AWS_SESSION_TOKEN=w.session_token, **w.template_env)
    assert rc == 0, (res, logs[-5:])
    return res


def test_three_org_accounts_ferry_into_one_backup_account(aws, start_rie):
    _need_sam()
    from fidelity.render import add_enforced_production_account
    from test_enforced_policies import Enforced
    e = Enforced(aws, start_rie, backup_account=BACKUP, backup_parameters=ORG_PARAMS,
                 db_id="orders", snapshot_id="orders-m1")
    w0 = e.world
    _org(aws, [PROD, BACKUP] + FLEET)
    fleet = [add_enforced_production_account(aws, w0, a) for a in FLEET]
    # the same stack everywhere: only the share key (created by each stack) differs
    def same(env):
        return {k: v for k, v in env.items() if k != "SHARE_KMS_KEY_ID"}
    for w in fleet:
        assert same(w.template_env) == same(w0.template_env)
        assert w.template_env["SHARE_KMS_KEY_ID"] == w.share_key_arn != w0.share_key_arn
    aws._req("POST", "/_fidelity/policy", {"enabled": True})   # clean record

    res = e.event("orders-m1")
    assert res.get("outcome") == "done", res
    for w in fleet:
        res = _run(w, snapshot_event(w, "orders-m1"))
        assert res["outcome"] == "done", res
        assert res["backup"] == fs.bid(w, "orders-m1"), res
    # the sweeps: each account's automated snapshots (same names in every account)
    for _ in range(2):
        res = e.invoke(dict(SCHEDULED, account=PROD))
        done0 = res.get("outcome") == "done"
        done = [_run(w, dict(SCHEDULED, account=w.prod_account))["outcome"] == "done"
                for w in fleet]
        if done0 and all(done):
            break
    assert done0 and all(done)

    backup = fs.instance_snapshots(w0, "backup")
    rds_b = w0.admin("rds", "backup")
    arrived = 0
    for w in [w0] + fleet:
        sources = dict(fs.instance_snapshots(w, "prod"))
        sources.update(fs.instance_snapshots(w, "prod", "automated"))
        sources = {k: v for k, v in sources.items() if not k.startswith("snapferry-")}
        assert "orders-m1" in sources and len(sources) >= 2, sources
        for sid, s in sources.items():
            b = fs.bid(w, sid)
            assert b in backup, (w.prod_account, sid, sorted(backup))
            tags = fs.tags_of(rds_b, backup[b]["DBSnapshotArn"])
            assert tags["snapferry:source-arn"] == s["DBSnapshotArn"], tags
            assert tags["snapferry:created-by"] == "snapferry"
            assert backup[b]["KmsKeyId"] == w0.backup_key_arn
            arrived += 1
    assert arrived == len([k for k in backup if k.startswith("snapferry-")])
    rec = e.assert_no_denials()
    # every account assumed the one org-mode role, with its own function role
    assumed = {x["principal"] for x in rec["evaluated"] if x["action"] == "sts:AssumeRole"}
    assert assumed == {f"arn:aws:iam::{a}:role/snapferry-function" for a in [PROD] + FLEET}

    # a role of an account outside the organization: denied, by the trust policy
    outsider = _role_in(w0, OUTSIDER, "snapferry-function", aws)
    with pytest.raises(ClientError) as ei:
        _assume(w0, outsider)
    assert ei.value.response["Error"]["Code"] == "AccessDenied"
    d = aws._req("GET", "/_fidelity/policy")["denials"][-1]
    assert d["principal"].startswith(f"arn:aws:sts::{OUTSIDER}:assumed-role/snapferry-function/")
    assert "trust policy" in d["reason"] and "aws:PrincipalOrgID" in json.dumps(d["statements"])
    # a member account's role with another name: denied, by aws:PrincipalArn
    creds = _role_in(w0, FLEET[0], "not-snapferry", aws)
    with pytest.raises(ClientError) as ei:
        _assume(w0, creds)
    assert ei.value.response["Error"]["Code"] == "AccessDenied"
    d = aws._req("GET", "/_fidelity/policy")["denials"][-1]
    assert "not-snapferry" in d["principal"] and "aws:PrincipalArn" in json.dumps(d["statements"])
    # control: the same outsider becomes a member, and the same call is allowed
    _org(aws, [PROD, BACKUP, OUTSIDER] + FLEET)
    assert _assume(w0, outsider)["Credentials"]["AccessKeyId"]


def test_org_control_backup_account_outside_the_organization(aws, start_rie):
    """Negative control of the org condition on the keys (the backup key's policy and the
    role's KMS policy): the production account is a member but the backup account, whose
    role session RDS acts for, is not: RDS is refused the keys, each denial naming
    aws:PrincipalOrgID, and no copy arrives."""
    _need_sam()
    from test_enforced_policies import Enforced
    e = Enforced(aws, start_rie, backup_account=BACKUP, backup_parameters=ORG_PARAMS,
                 db_id="orders", snapshot_id="orders-m1")
    _org(aws, [PROD])
    aws._req("POST", "/_fidelity/policy", {"enabled": True})
    res = e.event("orders-m1")
    assert res.get("outcome") != "done", res
    denials = aws._req("GET", "/_fidelity/policy")["denials"]
    assert denials, res
    for d in denials:
        assert d["principal"].startswith(f"arn:aws:sts::{BACKUP}:assumed-role/snapferry-backup/")
        assert d["action"].startswith("kms:") and d["call"] == "rds:CopyDBSnapshot", d
        assert "aws:PrincipalOrgID" in json.dumps(d["statements"]), d
    assert fs.bid(e.world, "orders-m1") not in fs.instance_snapshots(e.world, "backup")


# ---- make deploy-org -------------------------------------------------------------------

def _make(*args):
    import subprocess
    from harness.paths import ROOT
    return subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


ORG_VARS = ["BACKUP_ACCOUNT_ID=210987654321",
            "BACKUP_ROLE_ARN=arn:aws:iam::210987654321:role/snapferry-backup",
            "BACKUP_KMS_KEY_ID=arn:aws:kms:us-east-1:210987654321:key/abc-def",
            "BACKUP_EXTERNAL_ID=ext-7f3a", "ARTIFACT_BUCKET_PREFIX=acme-snapferry",
            "ORG_UNITS=ou-ab12-11111111 ou-ab12-22222222", "REGIONS=eu-west-1"]


def test_make_deploy_org_dry_run_prints_the_stackset_commands():
    r = _make("deploy-org", "DRY=1", *ORG_VARS)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("aws ")]
    assert len(lines) == 2, r.stdout
    create, instances = (l.split() for l in lines)
    assert create[:3] == ["aws", "cloudformation", "create-stack-set"]

    def opt(cmd, name):
        return cmd[cmd.index(name) + 1]
    assert opt(create, "--permission-model") == "SERVICE_MANAGED"
    assert opt(create, "--auto-deployment") == "Enabled=true,RetainStacksOnAccountRemoval=false"
    assert opt(create, "--template-body") == "file://templates/production-stackset.yaml"
    assert opt(create, "--capabilities") == "CAPABILITY_NAMED_IAM"
    params = dict(p[len("ParameterKey="):].split(",ParameterValue=", 1)
                  for p in create if p.startswith("ParameterKey="))
    assert params == {"BackupAccountId": "210987654321",
                      "BackupRoleArn": "arn:aws:iam::210987654321:role/snapferry-backup",
                      "BackupKmsKeyId": "arn:aws:kms:us-east-1:210987654321:key/abc-def",
                      "BackupExternalId": "ext-7f3a", "ArtifactBucketPrefix": "acme-snapferry",
                      "ArtifactKey": params["ArtifactKey"], "Architecture": "x86_64",
                      "FunctionRoleName": "snapferry-function"}
    assert re.fullmatch(r"snapferry/[0-9.]+/snapferry\.zip", params["ArtifactKey"])
    assert instances[:3] == ["aws", "cloudformation", "create-stack-instances"]
    assert opt(instances, "--deployment-targets") == \
        "OrganizationalUnitIds=ou-ab12-11111111,ou-ab12-22222222"
    i = instances.index("--regions")
    assert instances[i + 1:i + 3] == ["eu-west-1", "--call-as"]
    assert opt(create, "--call-as") == opt(instances, "--call-as") == "SELF"
    r = _make("deploy-org", "DRY=1", "CALL_AS=DELEGATED_ADMIN", *ORG_VARS)
    assert r.stdout.count("--call-as DELEGATED_ADMIN") == 2
    # every parameter of the twin the command passes exists in it
    from test_templates import STACKSET, load
    assert set(params) <= set(load(STACKSET)["Parameters"])


def test_make_deploy_org_refuses_missing_values():
    r = _make("deploy-org", "DRY=1", *[v for v in ORG_VARS if not v.startswith(("ORG_UNITS",
                                                                            "BACKUP_ROLE"))])
    assert r.returncode != 0 and "aws " not in r.stdout
    assert "BACKUP_ROLE_ARN" in r.stderr and "ORG_UNITS" in r.stderr
    r = _make("deploy-org", "DRY=1", "CALL_AS=ME", *ORG_VARS)
    assert r.returncode != 0 and "CALL_AS" in r.stderr
    # IAM role names are account-wide: one Region per StackSet
    r = _make("deploy-org", "DRY=1", *ORG_VARS, "REGIONS=us-east-1 eu-west-1")
    assert r.returncode != 0 and "one Region per StackSet" in r.stderr and "aws " not in r.stdout


def test_make_upload_stackset_artifact_dry_run_one_bucket_per_region():
    r = _make("upload-stackset-artifact", "DRY=1", "ARTIFACT_BUCKET_PREFIX=acme-snapferry",
              "REGIONS=us-east-1,eu-west-1", "ARTIFACT_KEY=snapferry/9.9/snapferry.zip")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == [
        "aws s3 cp build/snapferry.zip s3://acme-snapferry-us-east-1/snapferry/9.9/snapferry.zip "
        "--region us-east-1",
        "aws s3 cp build/snapferry.zip s3://acme-snapferry-eu-west-1/snapferry/9.9/snapferry.zip "
        "--region eu-west-1"]
