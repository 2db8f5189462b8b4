"""Render snapferry's two templates with concrete parameters, as CloudFormation would, and
load what they deploy that matters to the enforced-policy run (fidelity.policy) into the
fidelity world: the function role (trust, inline policies, the AWS::IAM::Policy resources
attached to it), the ferry-facing backup role, the keeper's role, the share key and the backup
key with their key policies, and the environments of the ferry and the keeper.

Both templates go through AWS's SAM transform first (samtranslator, run with the SAM CLI's
own interpreter in .venv-sam: the version `sam deploy` uses, kept out of the test venv).
The intrinsics are then resolved here: Ref, Fn::Sub, Fn::GetAtt, Fn::If and Conditions,
Fn::Join, Fn::Select, Fn::Split, Fn::Equals/Not/And/Or and the pseudo parameters.
"""
import json
import os
import pathlib
import re
import subprocess
import sys


ROOT = pathlib.Path(__file__).resolve().parents[2]
PROD_TEMPLATE = ROOT / "template.yaml"
BACKUP_TEMPLATE = ROOT / "templates" / "backup-account.yaml"
SAM_PYTHON = pathlib.Path(os.environ.get("SAM_PYTHON", ROOT / ".venv-sam" / "bin" / "python"))


class RenderError(RuntimeError):
    pass


sys.path.insert(0, str(ROOT / "scripts"))
from cfn_yaml import load  # noqa: E402  (the one loader of the templates)


_SAM_SCRIPT = r"""
import json, sys
from samtranslator.translator.transform import transform
class NoManagedPolicies:
    # the templates name no managed policy: nothing to look up in IAM
    def load(self):
        return {}
doc = json.load(sys.stdin)
print(json.dumps(transform(doc["template"], doc["parameters"], NoManagedPolicies())))
"""


def sam_transform(template, parameters, region):
    if not SAM_PYTHON.exists():
        raise RenderError(f"{SAM_PYTHON} is missing: SAM CLI's venv (make setup)")
    env = dict(os.environ, AWS_DEFAULT_REGION=region, AWS_REGION=region)
    p = subprocess.run([str(SAM_PYTHON), "-c", _SAM_SCRIPT], env=env,
                       input=json.dumps({"template": template, "parameters": parameters}),
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RenderError("SAM transform failed:\n" + p.stderr[-4000:])
    return json.loads(p.stdout)


_NOVALUE = object()


class Stack:
    """One rendered stack: parameters (defaults applied), conditions, and a resolver that
    needs `attributes` for the GetAtt/Ref of resources it names."""

    def __init__(self, template, parameters, account, region, refs=None, attributes=None):
        self.t = template
        self.account, self.region = account, region
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            if name in parameters:
                v = str(parameters[name])
            elif "Default" in spec:
                v = str(spec["Default"])
            else:
                raise RenderError(f"parameter {name} has no value")
            pat = spec.get("AllowedPattern")
            if pat and not re.fullmatch(pat, v):
                raise RenderError(f"parameter {name}={v!r} does not match {pat}")
            if "AllowedValues" in spec and v not in [str(x) for x in spec["AllowedValues"]]:
                raise RenderError(f"parameter {name}={v!r} not in AllowedValues")
            self.params[name] = v
        unknown = set(parameters) - set(self.params)
        if unknown:
            raise RenderError(f"unknown parameters {sorted(unknown)}")
        self.refs = dict(refs or {})            # logical id -> Ref value
        self.attributes = dict(attributes or {})  # "Id.Attr" -> value
        self.conditions = {}
        for name in template.get("Conditions", {}):
            self.conditions[name] = self._condition(name)

    def _condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.t["Conditions"][name]))
        return self.conditions[name]

    def _ref(self, name):
        pseudo = {"AWS::AccountId": self.account, "AWS::Region": self.region,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                  "AWS::StackName": "snapferry-test", "AWS::NoValue": _NOVALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.refs:
            return self.refs[name]
        raise RenderError(f"Ref {name}: no value (give it in refs=)")

    def _getatt(self, lid, attr):
        k = f"{lid}.{attr}"
        if k not in self.attributes:
            raise RenderError(f"GetAtt {k}: no value (give it in attributes=)")
        return self.attributes[k]

    def _sub(self, text, variables):
        def one(m):
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self._getatt(*name.split(".", 1)))
            return str(self._ref(name))
        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, node):
        if isinstance(node, list):
            out = [self.resolve(x) for x in node]
            return [x for x in out if x is not _NOVALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (k, v), = node.items()
            if k == "Ref":
                return self._ref(v)
            if k == "Fn::GetAtt":
                lid, attr = v if isinstance(v, list) else v.split(".", 1)
                return self._getatt(lid, attr)
            if k == "Fn::Sub":
                if isinstance(v, list):
                    return self._sub(v[0], {n: self.resolve(x) for n, x in v[1].items()})
                return self._sub(v, {})
            if k == "Fn::If":
                cond, a, b = v
                return self.resolve(a if self._condition(cond) else b)
            if k == "Fn::Join":
                return v[0].join(str(x) for x in self.resolve(v[1]))
            if k == "Fn::Select":
                return self.resolve(v[1])[int(self.resolve(v[0]))]
            if k == "Fn::Split":
                return str(self.resolve(v[1])).split(v[0])
            if k == "Fn::Equals":
                a, b = self.resolve(v[0]), self.resolve(v[1])
                return str(a) == str(b)
            if k == "Fn::Not":
                return not self.resolve(v[0])
            if k == "Fn::And":
                return all(self.resolve(x) for x in v)
            if k == "Fn::Or":
                return any(self.resolve(x) for x in v)
            if k == "Condition":
                return self._condition(v)
            if k.startswith("Fn::"):
                raise RenderError(f"intrinsic {k} is not supported by the renderer")
        out = {}
        for k, v in node.items():
            r = self.resolve(v)
            if r is not _NOVALUE:
                out[k] = r
        return out

    def resource(self, lid):
        res = self.t["Resources"][lid]
        if "Condition" in res and not self._condition(res["Condition"]):
            return None
        return self.resolve(res.get("Properties", {}))

    def role_policies(self, role_lid):
        """[(policy name, document)] the role gets: its Policies and every
        AWS::IAM::Policy resource attached to it (its Roles naming the role)."""
        props = self.resource(role_lid)
        out = [(p["PolicyName"], p["PolicyDocument"]) for p in props.get("Policies", [])]
        for lid, res in self.t["Resources"].items():
            if res["Type"] != "AWS::IAM::Policy":
                continue
            raw_roles = res["Properties"]["Roles"]
            if not any(r == {"Ref": role_lid} for r in raw_roles):
                continue
            p = self.resource(lid)
            if p is not None:
                out.append((p["PolicyName"], p["PolicyDocument"]))
        return out


def render_production(parameters, region, template=None):
    """template.yaml (or the given loaded copy of it) through the SAM transform, as
    `sam deploy` sends it: the intrinsics stay for production_stack() to resolve."""
    raw = _packaged(template or load(PROD_TEMPLATE))
    return sam_transform(raw, {k: str(v) for k, v in parameters.items()}, region)


def _packaged(raw):
    # `sam deploy` packages the code first: CodeUri becomes the uploaded artefact
    for res in raw["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://snapferry-artifacts/snapferry.zip"
    return raw


KEEPER_FUNCTION = "snapferry-backup-KeeperFunction-TEST"


def render_backup(parameters, account, region, key_arn, template=None):
    """templates/backup-account.yaml (or the given loaded copy) through the SAM transform
    (the keeper is an AWS::Serverless::Function), as a Stack with every resource the
    policies name."""
    raw = _packaged(template or load(BACKUP_TEMPLATE))
    transformed = sam_transform(raw, {k: str(v) for k, v in parameters.items()}, region)
    # The role names as the stack gives them (with several BackupRegions they carry the
    # Region, issue 10): what Ref and GetAtt Arn of the roles return.
    probe = Stack(transformed, parameters, account, region)
    name = probe.resolve(transformed["Resources"]["BackupRole"]["Properties"]["RoleName"])
    keeper = probe.resolve(transformed["Resources"]["KeeperRole"]["Properties"]["RoleName"])
    fn = KEEPER_FUNCTION
    return Stack(transformed, parameters, account, region,
                 refs={"BackupRole": name, "BackupKey": key_arn.rsplit("/", 1)[-1],
                       "KeeperRole": keeper, "KeeperFunction": fn,
                       "KeeperLogGroup": f"/aws/lambda/{fn}",
                       "NotificationTopic":
                           f"arn:aws:sns:{region}:{account}:snapferry-backup-topic"},
                 attributes={"BackupRole.Arn": f"arn:aws:iam::{account}:role/{name}",
                             "BackupKey.Arn": key_arn,
                             "KeeperRole.Arn": f"arn:aws:iam::{account}:role/{keeper}",
                             "KeeperLogGroup.Arn":
                                 f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{fn}:*",
                             "KeeperFunction.Arn":
                                 f"arn:aws:lambda:{region}:{account}:function:{fn}"})


def production_stack(transformed, parameters, account, region, share_key_arn):
    name = parameters.get("FunctionRoleName", "snapferry-function")
    fn = "snapferry-SnapferryFunction-TEST"
    return Stack(transformed, parameters, account, region,
                 refs={"FunctionRole": name, "SnapferryFunction": fn,
                       "ShareKey": share_key_arn.rsplit("/", 1)[-1],
                       "DeadLetterQueue": f"https://sqs.{region}.amazonaws.com/{account}/dlq",
                       "FunctionLogGroup": f"/aws/lambda/{fn}"},
                 attributes={"FunctionRole.Arn": f"arn:aws:iam::{account}:role/{name}",
                             "ShareKey.Arn": share_key_arn,
                             "FunctionLogGroup.Arn":
                                 f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{fn}:*",
                             "DeadLetterQueue.Arn": f"arn:aws:sqs:{region}:{account}:dlq",
                             "DeadLetterQueue.QueueName": "dlq",
                             "SnapferryFunction.Arn":
                                 f"arn:aws:lambda:{region}:{account}:function:{fn}"})


def _deploy_role(iam, stack, lid):
    props = stack.resource(lid)
    iam.create_role(RoleName=props["RoleName"],
                    AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))
    for name, doc in stack.role_policies(lid):
        iam.put_role_policy(RoleName=props["RoleName"], PolicyName=name,
                            PolicyDocument=json.dumps(doc))
    return props["RoleName"]


def _tag_key(kms, key_id, props):
    """The rendered AWS::KMS::Key's Tags (Key/Value) put on the key (KMS: TagKey/TagValue)."""
    tags = props.get("Tags") or []
    if tags:
        kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]}
                                             for t in tags])


def build_enforced_world(control, prod_account, backup_account="210987654321",
                         region="us-east-1", pinned=True, external_id="snapferry-ext-7f3a",
                         prod_parameters=None, backup_parameters=None, edit_prod=None,
                         edit_backup=None, db_id="proddb", snapshot_id="proddb-manual-1",
                         backup_region=None, more_backup_regions=()):
    """Deploy both templates into the fidelity server behind `control` (a
    fidelity.client.Control) and switch the policy evaluator on.

    pinned: the backup stack's ProductionShareKeyArn is the share key (else empty).
    edit_prod / edit_backup: functions given the loaded template (a dict) before it is
    rendered, for negative controls. backup_region: the Region of the backup stack whose role
    production assumes (default: `region`, production's); more_backup_regions: the same
    backup stack deployed in each of these Regions too, before production (issue 10, the
    single step: production's BackupKmsKeyId then lists every Region's key, unless
    prod_parameters gives it); .more_backup: {Region: add_enforced_backup_region's dict}. Returns a fidelity.world.World whose credentials are
    the function role's (as Lambda gives them), with .template_env: the function's
    Environment from the rendered template, .rendered: the resolved policies, and the
    keeper: .keeper_env (its Environment from the backup template), .keeper_role_arn and
    .keeper_credentials (the keeper role's, as Lambda gives them, in the backup account)."""
    from .world import World, admin_client
    endpoint = control.endpoint
    iam_p = admin_client(endpoint, "iam", prod_account, region)
    backup_region = backup_region or region
    iam_b = admin_client(endpoint, "iam", backup_account, backup_region)
    kms_p = admin_client(endpoint, "kms", prod_account, region)
    kms_b = admin_client(endpoint, "kms", backup_account, backup_region)
    rds_p = admin_client(endpoint, "rds", prod_account, region)

    # The keys first: their ARNs are in the policies (CloudFormation's order is the same,
    # the key policies are written with the key).
    share = kms_p.create_key(Description="snapferry share key (template.yaml ShareKey)")
    share = share["KeyMetadata"]
    backup_key = kms_b.create_key(Description="snapferry backup key")["KeyMetadata"]

    bp = {"ProductionFunctionRoleArn": f"arn:aws:iam::{prod_account}:role/snapferry-function",
          "ExternalId": external_id,
          "ProductionShareKeyArn": share["Arn"] if pinned else ""}
    bp.update(backup_parameters or {})
    braw = load(BACKUP_TEMPLATE)
    if edit_backup:
        edit_backup(braw)
    bstack = render_backup(bp, backup_account, backup_region, backup_key["Arn"], braw)
    role_name = _deploy_role(iam_b, bstack, "BackupRole")
    role_arn = f"arn:aws:iam::{backup_account}:role/{role_name}"
    bkey_props = bstack.resource("BackupKey")
    kms_b.put_key_policy(KeyId=backup_key["KeyId"], PolicyName="default",
                         Policy=json.dumps(bkey_props["KeyPolicy"]))
    _tag_key(kms_b, backup_key["KeyId"], bkey_props)
    kms_b.create_alias(AliasName=bstack.resource("BackupKeyAlias")["AliasName"],
                       TargetKeyId=backup_key["KeyId"])
    keeper_role = _deploy_role(iam_b, bstack, "KeeperRole")
    keeper_role_arn = f"arn:aws:iam::{backup_account}:role/{keeper_role}"
    keeper_fn = bstack.resolve(bstack.t["Resources"]["KeeperFunction"]["Properties"])
    keeper_env = {k: str(v) for k, v in keeper_fn["Environment"]["Variables"].items()}

    # the same (edited) template in every Region, as one deploys it
    more = {r: _backup_stack_in(control, backup_account, r, bp, braw)
            for r in more_backup_regions}
    pp = {"BackupAccountId": backup_account, "BackupRoleArn": role_arn,
          "BackupExternalId": external_id,
          "BackupKmsKeyId": ",".join([backup_key["Arn"]] +
                                     [m["key_arn"] for m in more.values()])}
    pp.update(prod_parameters or {})
    praw = load(PROD_TEMPLATE)
    if edit_prod:
        edit_prod(praw)
    transformed = render_production(pp, region, praw)
    pstack = production_stack(transformed, pp, prod_account, region, share["Arn"])
    fn_role = _deploy_role(iam_p, pstack, "FunctionRole")
    fn_role_arn = f"arn:aws:iam::{prod_account}:role/{fn_role}"
    kms_p.put_key_policy(KeyId=share["KeyId"], PolicyName="default",
                         Policy=json.dumps(pstack.resource("ShareKey")["KeyPolicy"]))
    kms_p.create_alias(AliasName=pstack.resource("ShareKeyAlias")["AliasName"],
                       TargetKeyId=share["KeyId"])
    fn = pstack.resolve(transformed["Resources"]["SnapferryFunction"]["Properties"])
    template_env = {k: str(v) for k, v in fn["Environment"]["Variables"].items()}

    db = rds_p.create_db_instance(
        DBInstanceIdentifier=db_id, DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="snapadmin", MasterUserPassword="not-a-secret-1",
        StorageEncrypted=True, Tags=[{"Key": "env", "Value": "production"}])["DBInstance"]
    snap = rds_p.create_db_snapshot(DBInstanceIdentifier=db_id,
                                    DBSnapshotIdentifier=snapshot_id)["DBSnapshot"]

    creds = control._req("POST", "/_fidelity/policy",
                         {"role_credentials": fn_role_arn})["credentials"]
    keeper_creds = control._req("POST", "/_fidelity/policy",
                                {"role_credentials": keeper_role_arn,
                                 "session_name": "snapferry-keeper"})["credentials"]
    control._req("POST", "/_fidelity/policy", {"enabled": True})
    world = World(
        endpoint=endpoint, region=region, prod_account=prod_account,
        backup_account=backup_account, db_id=db_id, db_arn=db["DBInstanceArn"],
        snapshot_id=snap["DBSnapshotIdentifier"], snapshot_arn=snap["DBSnapshotArn"],
        rds_default_key_arn=db["KmsKeyId"],
        share_key_id=share["KeyId"], share_key_arn=share["Arn"],
        backup_key_id=backup_key["KeyId"], backup_key_arn=backup_key["Arn"],
        role_name=role_name, role_arn=role_arn, external_id=external_id,
        function_user=fn_role, function_user_arn=fn_role_arn,
        access_key_id=creds["AccessKeyId"], secret_access_key=creds["SecretAccessKey"])
    world.session_token = creds["SessionToken"]
    world.template_env = template_env
    world.keeper_env = keeper_env
    world.keeper_role_arn = keeper_role_arn
    world.keeper_credentials = keeper_creds
    world.backup_parameters = bp
    world.backup_region = backup_region
    world.more_backup = more
    world.rendered = {
        "function_role": pstack.role_policies("FunctionRole"),
        "function_trust": pstack.resource("FunctionRole")["AssumeRolePolicyDocument"],
        "share_key": pstack.resource("ShareKey")["KeyPolicy"],
        "backup_role": bstack.role_policies("BackupRole"),
        "backup_trust": bstack.resource("BackupRole")["AssumeRolePolicyDocument"],
        "backup_key": bkey_props["KeyPolicy"],
        "keeper_role": bstack.role_policies("KeeperRole"),
        "keeper_trust": bstack.resource("KeeperRole")["AssumeRolePolicyDocument"]}
    return world


def rules_hold(stack):
    """The template's Rules (CloudFormation checks them before it creates anything):
    [(rule, assertion description)] of every assertion that fails."""
    failed = []
    for name, rule in stack.t.get("Rules", {}).items():
        if "RuleCondition" in rule and not stack.resolve(rule["RuleCondition"]):
            continue
        for a in rule.get("Assertions", []):
            if not stack.resolve(a["Assert"]):
                failed.append((name, a.get("AssertDescription", "")))
    return failed


def add_enforced_production_account(control, world, account, db_id="orders",
                                    snapshot_id="orders-m1", prod_parameters=None):
    """Organization mode (issue 12): one more production account of the fleet, deployed from
    template.yaml with the same parameters as every other (the StackSet's): its own function
    role and share key, rendered for that account, a DB `db_id` (aws/rds) and its manual
    snapshot. Returns a copy of `world` for it, holding that function role's credentials
    (as Lambda gives them) and .template_env (its function's Environment)."""
    import dataclasses
    from .world import admin_client
    region = world.region
    iam = admin_client(world.endpoint, "iam", account, region)
    kms = admin_client(world.endpoint, "kms", account, region)
    rds = admin_client(world.endpoint, "rds", account, region)
    share = kms.create_key(Description="snapferry share key (template.yaml ShareKey)")
    share = share["KeyMetadata"]
    pp = {"BackupAccountId": world.backup_account, "BackupRoleArn": world.role_arn,
          "BackupExternalId": world.external_id, "BackupKmsKeyId": world.backup_key_arn}
    pp.update(prod_parameters or {})
    transformed = render_production(pp, region)
    pstack = production_stack(transformed, pp, account, region, share["Arn"])
    fn_role = _deploy_role(iam, pstack, "FunctionRole")
    fn_role_arn = f"arn:aws:iam::{account}:role/{fn_role}"
    kms.put_key_policy(KeyId=share["KeyId"], PolicyName="default",
                       Policy=json.dumps(pstack.resource("ShareKey")["KeyPolicy"]))
    kms.create_alias(AliasName=pstack.resource("ShareKeyAlias")["AliasName"],
                     TargetKeyId=share["KeyId"])
    fn = pstack.resolve(transformed["Resources"]["SnapferryFunction"]["Properties"])
    db = rds.create_db_instance(
        DBInstanceIdentifier=db_id, DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="snapadmin", MasterUserPassword="not-a-secret-1",
        StorageEncrypted=True)["DBInstance"]
    snap = rds.create_db_snapshot(DBInstanceIdentifier=db_id,
                                  DBSnapshotIdentifier=snapshot_id)["DBSnapshot"]
    creds = control._req("POST", "/_fidelity/policy",
                         {"role_credentials": fn_role_arn})["credentials"]
    w = dataclasses.replace(
        world, prod_account=account, db_id=db_id, db_arn=db["DBInstanceArn"],
        snapshot_id=snapshot_id, snapshot_arn=snap["DBSnapshotArn"],
        rds_default_key_arn=db["KmsKeyId"], share_key_id=share["KeyId"],
        share_key_arn=share["Arn"], function_user=fn_role, function_user_arn=fn_role_arn,
        access_key_id=creds["AccessKeyId"], secret_access_key=creds["SecretAccessKey"],
        _clients={})
    w.session_token = creds["SessionToken"]
    w.template_env = {k: str(v) for k, v in fn["Environment"]["Variables"].items()}
    return w


def add_enforced_backup_region(control, world, region):
    """The backup stack deployed once more, in `region` (issue 10: one stack per Region of
    BackupRegions, the same parameters): its backup key, its roles (their names carry the
    Region) and its keeper. Returns a dict: key_arn, role_arn (its ferry-facing role),
    keeper_env (the rendered keeper's Environment), keeper_role_arn, keeper_credentials,
    rendered (its keeper role's, ferry-facing role's and key's policies)."""
    return _backup_stack_in(control, world.backup_account, region, world.backup_parameters)


def _backup_stack_in(control, account, region, parameters, template=None):
    from .world import admin_client
    endpoint = control.endpoint
    iam_b = admin_client(endpoint, "iam", account, region)
    kms_b = admin_client(endpoint, "kms", account, region)
    key = kms_b.create_key(Description=f"snapferry backup key ({region})")["KeyMetadata"]
    bstack = render_backup(parameters, account, region, key["Arn"], template)
    role = _deploy_role(iam_b, bstack, "BackupRole")
    key_props = bstack.resource("BackupKey")
    kms_b.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                         Policy=json.dumps(key_props["KeyPolicy"]))
    _tag_key(kms_b, key["KeyId"], key_props)
    kms_b.create_alias(AliasName=bstack.resource("BackupKeyAlias")["AliasName"],
                       TargetKeyId=key["KeyId"])
    keeper_role = _deploy_role(iam_b, bstack, "KeeperRole")
    keeper_role_arn = f"arn:aws:iam::{account}:role/{keeper_role}"
    fn = bstack.resolve(bstack.t["Resources"]["KeeperFunction"]["Properties"])
    creds = control._req("POST", "/_fidelity/policy",
                         {"role_credentials": keeper_role_arn,
                          "session_name": "snapferry-keeper"})["credentials"]
    return {"key_arn": key["Arn"], "keeper_role_arn": keeper_role_arn,
            "role_arn": f"arn:aws:iam::{account}:role/{role}",
            "keeper_env": {k: str(v) for k, v in fn["Environment"]["Variables"].items()},
            "keeper_credentials": creds,
            "rendered": {"keeper_role": bstack.role_policies("KeeperRole"),
                         "backup_role": bstack.role_policies("BackupRole"),
                         "backup_key": key_props["KeyPolicy"]}}
