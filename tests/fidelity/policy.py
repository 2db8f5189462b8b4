"""An IAM policy evaluator for the fidelity layer: the policies snapferry's templates ship,
enforced on every RDS, KMS and STS call made with an IAM principal's credentials.

moto 5.2.5's own enforcement checks the action name, compares Resource only with "*" for
RDS and KMS, evaluates only StringEquals on sts:ExternalId, and ignores cross-account trust
and key policies: with it, an ARN-scoped grant never matches and a missing key grant never
shows. This module is switched on per world (POST /_fidelity/policy {"enabled": true}); off,
the allow-all worlds behave as before.

What it evaluates (AWS's policy evaluation logic, single and cross account):
  - identity policies of the caller (IAM user or assumed role: inline and attached
    policies) with Action/NotAction, Resource/NotResource, wildcards; ARNs compare
    case-sensitively, action names case-insensitively; an explicit Deny wins;
  - RDS: the resources of each call, taken from the request (a copy is authorized on the
    source and the target, and on rds:AddTagsToResource for the target when Tags are
    passed; a restore on the snapshot and the new DB, ...: RDS_RESOURCES below);
  - KMS: for a direct call, the key policy AND the caller's IAM policy, with the key's
    tags as aws:ResourceTag/* (ABAC for AWS KMS) (a key policy that
    names the principal itself suffices in its own account; naming the account root
    delegates to IAM; another account needs both); for the keys RDS uses on the caller's
    behalf (IMPLIED_KMS below), the same with kms:ViaService = rds.<region>.amazonaws.com
    and kms:GrantIsForAWSResource = true on CreateGrant;
  - STS AssumeRole: the caller's IAM policy and the role's trust policy with its conditions;
  - condition operators StringEquals/StringNotEquals/StringLike/StringNotLike/ArnEquals/
    ArnLike/ArnNotEquals/ArnNotLike/Bool/Null and the ForAllValues:/ForAnyValue: prefixes,
    on the keys in CONTEXT_KEYS. Any other operator or key is recorded in errors() and
    the request is denied: never silently passed;
  - AWS Organizations, minimally: the accounts set_organization() names are members, and
    their principals' requests carry aws:PrincipalOrgID (POST /_fidelity/policy
    {"organization": {"id", "accounts"}}); any other principal's carry none.

Every denial is recorded (denials()) with the call, the principal, the resource, the key if
any, and every statement considered with the reason it did not apply; the caller gets
AWS's error shape (RDS/STS: AccessDenied, HTTP 403; KMS: AccessDeniedException, HTTP 400;
RDS copies/restores refused a key: KMSKeyNotAccessibleFault, HTTP 400, as RDS answers).
"""
import json
import re
import threading

from .patches import find_snapshot, rds_backend, resolve_key, split_arn

# Condition keys the evaluator knows how to fill (lower case: keys are case-insensitive).
CONTEXT_KEYS = ("sts:externalid", "aws:principalarn", "aws:principalaccount",
                "aws:principalorgid", "kms:viaservice", "kms:grantisforawsresource",
                "kms:calleraccount", "aws:tagkeys", "aws:requestedregion")
CONTEXT_PREFIXES = ("aws:resourcetag/", "aws:requesttag/")
OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "ArnEquals",
             "ArnLike", "ArnNotEquals", "ArnNotLike", "Bool", "Null")

_lock = threading.Lock()
_state = {"enabled": False, "denials": [], "errors": [], "evaluated": []}
# AWS Organizations, minimally (issue 12): account id -> organization id. A principal of a
# member account gets aws:PrincipalOrgID in its request context; any other has none (AWS
# leaves the key out for an account outside every organization).
_orgs = {}


class PolicyError(ValueError):
    """A policy uses something this evaluator does not implement."""


def configure(enabled):
    with _lock:
        _state["enabled"] = bool(enabled)
        _state["denials"] = []
        _state["errors"] = []
        _state["evaluated"] = []
    return view()


def reset():
    configure(False)
    set_organization(None)


def set_organization(org):
    """{"id": "o-...", "accounts": [12-digit ids]} makes those accounts members of that
    organization (replacing any earlier one); None: no organization."""
    with _lock:
        _orgs.clear()
        if org:
            if not re.fullmatch(r"o-[a-z0-9]{10,32}", str(org.get("id", ""))):
                raise ValueError(f"not an organization id: {org.get('id')!r}")
            for a in org.get("accounts", []):
                _orgs[str(a)] = org["id"]
        return {"organization": dict(_orgs)}


def view():
    with _lock:
        return {"enabled": _state["enabled"], "denials": list(_state["denials"]),
                "errors": list(_state["errors"]), "evaluated": list(_state["evaluated"])}


def enabled():
    return _state["enabled"]


# ---------------------------------------------------------------------------------------
# principals
# ---------------------------------------------------------------------------------------

class Principal:
    def __init__(self, account, arn, kind, name, session_arn=None):
        self.account, self.arn, self.kind, self.name = account, arn, kind, name
        self.session_arn = session_arn or arn   # what AWS's messages name

    def policies(self):
        """[(policy name, document)] of the identity's inline and attached policies."""
        from moto.iam.models import iam_backends
        iam = iam_backends[self.account]["aws"]
        ent = iam.get_role(self.name) if self.kind == "role" else iam.get_user(self.name)
        out = [(n, json.loads(d) if isinstance(d, str) else d)
               for n, d in sorted(ent.policies.items())]
        for arn, mp in sorted(ent.managed_policies.items()):
            doc = mp.document if hasattr(mp, "document") else mp.default_version.document
            out.append((arn, json.loads(doc) if isinstance(doc, str) else doc))
        return out


def principal_for(access_key):
    """The IAM principal behind an access key, or None (unknown keys, e.g. the world's
    set-up client, are not IAM principals: nothing is enforced on them)."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    if not access_key:
        return None
    for account, parts in list(iam_backends.items()):
        iam = parts.get("aws") if hasattr(parts, "get") else None
        if iam is None:
            continue
        key = iam.access_keys.get(access_key)
        if key is None:
            continue
        if getattr(key, "role_arn", None):
            role_name = key.role_arn.rsplit("/", 1)[-1]
            session = None
            for ar in getattr(sts_backends[account]["aws"], "assumed_roles", []):
                if ar.access_key_id == access_key:
                    session = (f"arn:aws:sts::{account}:assumed-role/{role_name}/"
                               f"{ar.session_name}")
            return Principal(account, key.role_arn, "role", role_name, session)
        user = getattr(key, "user_name", None)
        if user:
            return Principal(account, f"arn:aws:iam::{account}:user/{user}", "user", user)
    return None


def issue_role_credentials(role_arn, session_name="snapferry", region="us-east-1"):
    """Credentials of a role as a service (Lambda) gets them for its execution role: the
    service principal's own trust check is not this evaluator's business."""
    from moto.sts.models import sts_backends
    a = split_arn(role_arn)
    if not a or a["service"] != "iam":
        raise ValueError(f"not a role ARN: {role_arn}")
    ar = sts_backends[a["account"]]["aws"].assume_role(
        region_name=region, role_session_name=session_name, role_arn=role_arn, policy=None,
        duration=3600, external_id=None)
    return {"AccessKeyId": ar.access_key_id, "SecretAccessKey": ar.secret_access_key,
            "SessionToken": ar.session_token}


# ---------------------------------------------------------------------------------------
# statement matching
# ---------------------------------------------------------------------------------------

def _list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _glob(pattern, value, case=True):
    """IAM wildcards: * any run, ? one character; no other metacharacter."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.IGNORECASE) is not None


def action_matches(patterns, action):
    return any(_glob(p, action, case=False) for p in _list(patterns))


def resource_matches(patterns, resource):
    return any(p == "*" or _glob(p, resource) for p in _list(patterns))


def _arn_like(pattern, value):
    """ArnLike: each of the six colon-separated parts matched on its own."""
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return False
    return all(_glob(a, b) for a, b in zip(p, v))


def principal_matches(principal_block, who):
    """Whether a resource policy's Principal names `who`; returns "direct" (the principal
    or *), "account" (its account: IAM decides too) or None."""
    if principal_block == "*":
        return "direct"
    if not isinstance(principal_block, dict):
        return None
    for p in _list(principal_block.get("AWS")):
        if p == "*":
            return "direct"
        if p in (who.arn, who.session_arn):
            return "direct"
        if p in (who.account, f"arn:aws:iam::{who.account}:root"):
            return "account"
    return None


def _cond_values(context, key):
    k = key.lower()
    known = k in CONTEXT_KEYS or k.startswith(CONTEXT_PREFIXES)
    if not known:
        raise PolicyError(f"condition key {key} is not modelled by the fidelity evaluator")
    return context.get(k)


def condition_holds(condition, context):
    """(True/False, reason). Raises PolicyError on an unsupported operator or key."""
    for op, block in (condition or {}).items():
        base = op
        qualifier = None
        if ":" in op:
            qualifier, base = op.split(":", 1)
            if qualifier not in ("ForAllValues", "ForAnyValue"):
                raise PolicyError(f"condition operator {op} is not modelled")
        if base.endswith("IfExists") or base not in OPERATORS:
            raise PolicyError(f"condition operator {op} is not modelled")
        for key, wanted in block.items():
            wanted = [str(w) for w in _list(wanted)]
            present = _cond_values(context, key)
            values = None if present is None else [str(x) for x in _list(present)]
            if base == "Null":
                is_null = values is None or values == []
                if (wanted[0].lower() == "true") != is_null:
                    return False, f"{op} {key}={wanted[0]} (value {values})"
                continue
            if values is None:
                if qualifier == "ForAllValues" or base.startswith(("StringNot", "ArnNot")):
                    continue
                return False, f"{op} {key}: the request has no {key}"

            def one(v):
                if base in ("StringEquals", "StringNotEquals"):
                    return v in wanted
                if base in ("StringLike", "StringNotLike"):
                    return any(_glob(w, v) for w in wanted)
                if base in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
                    return any(_arn_like(w, v) for w in wanted)
                if base == "Bool":
                    return v.lower() in [w.lower() for w in wanted]
                raise PolicyError(f"condition operator {op} is not modelled")

            negate = base.startswith(("StringNot", "ArnNot"))
            if qualifier == "ForAllValues":
                ok = all(one(v) != negate for v in values)
            elif qualifier == "ForAnyValue":
                ok = any(one(v) != negate for v in values)
            else:
                if len(values) != 1:
                    raise PolicyError(f"{op} on the multivalued key {key} needs "
                                      "ForAllValues/ForAnyValue")
                ok = one(values[0]) != negate
            if not ok:
                return False, f"{op} {key} {wanted} (value {values})"
    return True, ""


def _statements(doc):
    return [s for s in _list(doc.get("Statement")) if isinstance(s, dict)]


def evaluate(policies, action, resource, context, who=None):
    """Evaluate [(policy name, document)] for one request.

    Returns (decision, considered): decision "deny" (explicit), "allow", "allow-account"
    (a resource policy allowed the principal's account only) or "none"; considered lists
    every statement as "<policy>/<Sid or #n>: <why it did or did not apply>"."""
    considered = []
    allow = None
    for pname, doc in policies:
        for n, st in enumerate(_statements(doc)):
            sid = f"{pname}/{st.get('Sid') or '#%d' % n}"
            how = "direct"
            if who is not None:      # a resource policy: the principal must match
                if "NotPrincipal" in st:
                    raise PolicyError(f"{sid}: NotPrincipal is not modelled")
                how = principal_matches(st.get("Principal"), who)
                if how is None:
                    considered.append(f"{sid}: principal does not match {who.arn}")
                    continue
            if "NotAction" in st:
                if action_matches(st["NotAction"], action):
                    considered.append(f"{sid}: NotAction excludes {action}")
                    continue
            elif not action_matches(st.get("Action"), action):
                considered.append(f"{sid}: action does not match")
                continue
            if "NotResource" in st:
                if resource_matches(st["NotResource"], resource):
                    considered.append(f"{sid}: NotResource excludes {resource}")
                    continue
            elif who is not None and "Resource" not in st:
                pass    # a resource policy without Resource (trust) is about its resource
            elif not resource_matches(st.get("Resource"), resource):
                considered.append(f"{sid}: resource {st.get('Resource')} does not match "
                                  f"{resource}")
                continue
            try:
                ok, why = condition_holds(st.get("Condition"), context)
            except PolicyError as e:
                raise PolicyError(f"{sid}: {e}") from None
            if not ok:
                considered.append(f"{sid}: condition not met: {why}")
                continue
            if st.get("Effect") == "Deny":
                considered.append(f"{sid}: explicit Deny")
                return "deny", considered
            considered.append(f"{sid}: allows" + ("" if how == "direct" else
                                                  " (the principal's account)"))
            if allow != "allow":
                allow = "allow" if how == "direct" else "allow-account"
    return allow or "none", considered


# ---------------------------------------------------------------------------------------
# the resources of a request
# ---------------------------------------------------------------------------------------

def _tags(params):
    """The Tags of an RDS Query request (Tags.Tag.N.Key / Tags.member.N.Key)."""
    found = {}
    for k, v in params.items():
        m = re.fullmatch(r"Tags\.(?:Tag|member)\.(\d+)\.(Key|Value)", k)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = v
    return {t.get("Key"): t.get("Value", "") for _, t in sorted(found.items())}


def _tag_keys(params):
    """The TagKeys of RemoveTagsFromResource (TagKeys.member.N)."""
    found = {}
    for k, v in params.items():
        m = re.fullmatch(r"TagKeys\.(?:member\.)?(\d+)", k)
        if m:
            found[int(m.group(1))] = v
    return [v for _, v in sorted(found.items())]


def _rds_arn(region, account, rtype, ident):
    if ident.startswith("arn:"):
        return ident
    return f"arn:aws:rds:{region}:{account}:{rtype}:{ident}"


# action -> [(parameter, resource type, role)]; role "source": the snapshot read,
# "target": the resource made (tags apply), "existing": a resource whose tags are
# aws:ResourceTag/*, "list": a Describe filter (no filter: the type's wildcard), "": another
# resource the request names. The resource types follow the Service Authorization Reference
# for Amazon RDS ("Actions, resources, and condition keys for Amazon RDS"): a copy is
# authorized on the source and the target snapshot (and og when an option group is named),
# a restore on the snapshot and the new DB/cluster plus the groups the request names. The
# stored copy of that page available when this was written held its headers, not every row:
# the rows used here are the page's as recalled, not re-read row by row.
RDS_RESOURCES = {
    "CopyDBSnapshot": [("SourceDBSnapshotIdentifier", "snapshot", "source"),
                       ("TargetDBSnapshotIdentifier", "snapshot", "target"),
                       ("OptionGroupName", "og", "")],
    "CopyDBClusterSnapshot": [("SourceDBClusterSnapshotIdentifier", "cluster-snapshot",
                               "source"),
                              ("TargetDBClusterSnapshotIdentifier", "cluster-snapshot",
                               "target")],
    "ModifyDBSnapshotAttribute": [("DBSnapshotIdentifier", "snapshot", "")],
    "ModifyDBClusterSnapshotAttribute": [("DBClusterSnapshotIdentifier", "cluster-snapshot",
                                          "")],
    "DescribeDBSnapshotAttributes": [("DBSnapshotIdentifier", "snapshot", "")],
    "DescribeDBClusterSnapshotAttributes": [("DBClusterSnapshotIdentifier",
                                             "cluster-snapshot", "")],
    "DeleteDBSnapshot": [("DBSnapshotIdentifier", "snapshot", "existing")],
    "DeleteDBClusterSnapshot": [("DBClusterSnapshotIdentifier", "cluster-snapshot",
                                 "existing")],
    "DescribeDBSnapshots": [("DBSnapshotIdentifier", "snapshot", "list"),
                            ("DBInstanceIdentifier", "db", "list")],
    "DescribeDBClusterSnapshots": [("DBClusterSnapshotIdentifier", "cluster-snapshot",
                                    "list"),
                                   ("DBClusterIdentifier", "cluster", "list")],
    "DescribeDBInstances": [("DBInstanceIdentifier", "db", "list")],
    "DescribeDBClusters": [("DBClusterIdentifier", "cluster", "list")],
    "DescribeOptionGroups": [("OptionGroupName", "og", "list")],
    "ListTagsForResource": [("ResourceName", None, "")],
    "AddTagsToResource": [("ResourceName", None, "existing")],
    # Issue 15: what an attacker holding the ferry-facing role would try on the backup
    # account's copies and DBs (the tests expect each denied, naming the statement).
    "RemoveTagsFromResource": [("ResourceName", None, "existing")],
    "DeleteDBInstance": [("DBInstanceIdentifier", "db", "existing")],
    "ModifyDBInstance": [("DBInstanceIdentifier", "db", "existing")],
    "DeleteDBCluster": [("DBClusterIdentifier", "cluster", "existing")],
    "ModifyDBCluster": [("DBClusterIdentifier", "cluster", "existing")],
    "RestoreDBInstanceFromDBSnapshot": [("DBSnapshotIdentifier", "snapshot", "source"),
                                        ("DBInstanceIdentifier", "db", "target"),
                                        ("DBSubnetGroupName", "subgrp", ""),
                                        ("OptionGroupName", "og", ""),
                                        ("DBParameterGroupName", "pg", "")],
    "RestoreDBClusterFromSnapshot": [("SnapshotIdentifier", "cluster-snapshot", "source"),
                                     ("DBClusterIdentifier", "cluster", "target"),
                                     ("DBSubnetGroupName", "subgrp", ""),
                                     ("DBClusterParameterGroupName", "cluster-pg", "")],
    # No resource type in the Service Authorization Reference: authorized on "*".
    "DescribeAccountAttributes": [],
    "CreateDBInstance": [("DBInstanceIdentifier", "db", "target"),
                         ("DBClusterIdentifier", "cluster", ""),
                         ("DBSubnetGroupName", "subgrp", ""),
                         ("OptionGroupName", "og", ""),
                         ("DBParameterGroupName", "pg", "")],
}


def _resource_tags(arn):
    """aws:ResourceTag/* of an existing RDS resource (from moto's state)."""
    a = split_arn(arn)
    if not a:
        return {}
    try:
        backend = rds_backend(a["account"], a["region"])
        return {t["Key"]: t["Value"] for t in backend.list_tags_for_resource(arn)}
    except Exception:
        return {}


def _snapshot_key(arn, kind, caller):
    """(KMS key ARN or None) of the snapshot at `arn`, as the caller can see it."""
    from moto.rds.models import DBClusterSnapshot, DBSnapshot
    a = split_arn(arn)
    if not a:
        return None
    rtype = DBSnapshot if kind == "snapshot" else DBClusterSnapshot
    try:
        snap = find_snapshot(rds_backend(a["account"], a["region"]), arn, rtype,
                             for_account=caller)
    except Exception:
        snap = None
    if snap is None:
        return None
    encrypted = bool(getattr(snap, "encrypted", False) or
                     getattr(snap, "storage_encrypted", False))
    key = getattr(snap, "kms_key_id", None)
    return key if encrypted and key else None


def _key_arn(key_id, account, region):
    key = resolve_key(key_id, account, region)
    return key.arn if key is not None else key_id


# The keys RDS uses on the caller's behalf, and the KMS actions it needs on each (RDS user
# guide: "Overview of encrypting Amazon RDS resources" / "Key management": RDS uses grants
# on the key; a copy decrypts under the source key and encrypts under the target key; a
# restore decrypts the snapshot). Each is evaluated with kms:ViaService=rds.<region>.
IMPLIED_KMS = {
    "source": ("kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt"),
    "target": ("kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey"),
}


def rds_requests(action, account, region, params):
    """[(action, resource, context extras, role)] the call is authorized on, plus the
    implied KMS uses [(kms action, key ARN)]."""
    if action not in RDS_RESOURCES:
        raise PolicyError(f"rds:{action} has no resource model in fidelity.policy")
    reqs, kms = [], []
    tags = _tags(params)
    source_key = None
    for param, rtype, role in RDS_RESOURCES[action]:
        ident = params.get(param)
        if not ident:
            continue
        if rtype is None:
            arn = ident
        else:
            arn = _rds_arn(region, account, rtype, ident)
        ctx = {}
        if role in ("existing", "") or role == "source":
            rt = _resource_tags(arn)
            for k, v in rt.items():
                ctx["aws:resourcetag/" + k.lower()] = v
        if role == "target" or action == "AddTagsToResource":
            for k, v in tags.items():
                ctx["aws:requesttag/" + k.lower()] = v
            if tags:
                ctx["aws:tagkeys"] = list(tags)
        if action == "RemoveTagsFromResource" and _tag_keys(params):
            ctx["aws:tagkeys"] = _tag_keys(params)
        reqs.append(("rds:" + action, arn, ctx, role))
        if role == "target" and tags and action != "AddTagsToResource":
            reqs.append(("rds:AddTagsToResource", arn,
                         {"aws:tagkeys": list(tags),
                          **{"aws:requesttag/" + k.lower(): v for k, v in tags.items()}},
                         "tags"))
        if role == "source" and rtype in ("snapshot", "cluster-snapshot"):
            source_key = _snapshot_key(arn, rtype, account)
    if not RDS_RESOURCES[action]:
        reqs.append(("rds:" + action, "*", {}, ""))
    elif not any(r[3] != "tags" for r in reqs):
        # a list call that names no resource: authorized on the type's wildcard
        first = RDS_RESOURCES[action][0]
        if first[1]:
            reqs.append(("rds:" + action, f"arn:aws:rds:{region}:{account}:{first[1]}:*",
                         {}, "list"))
    if action.startswith("Copy") and source_key:
        kms.append(("source", _key_arn(source_key, account, region)))
        target = params.get("KmsKeyId")
        kms.append(("target", _key_arn(target, account, region) if target else
                    _key_arn(source_key, account, region)))
    elif action.startswith("Restore") and source_key:
        kms.append(("source", _key_arn(source_key, account, region)))
        if params.get("KmsKeyId"):
            kms.append(("target", _key_arn(params["KmsKeyId"], account, region)))
    uses = [(a, key) for role, key in kms for a in IMPLIED_KMS[role]]
    return reqs, uses


def _ciphertext_key(blob):
    """The key id inside a ciphertext blob (moto's own format: AWS's is opaque too, and
    KMS reads the key from it when Decrypt/ReEncrypt name none)."""
    import base64
    from moto.kms.utils import _deserialize_ciphertext_blob
    if not blob:
        raise PolicyError("the request names no key and carries no ciphertext")
    try:
        return _deserialize_ciphertext_blob(base64.b64decode(blob)).key_id
    except Exception as e:
        raise PolicyError(f"the ciphertext names no key this evaluator can read: {e}") from None


def kms_requests(action, params):
    """[(IAM action, key id)] a direct KMS call is authorized on (Service Authorization
    Reference for AWS KMS: ReEncrypt needs kms:ReEncryptFrom on the source key and
    kms:ReEncryptTo on the destination key; Decrypt and ReEncrypt take the source key from
    the ciphertext when the request names none)."""
    if action == "ReEncrypt":
        src = params.get("SourceKeyId") or _ciphertext_key(params.get("CiphertextBlob"))
        return [("kms:ReEncryptFrom", src),
                ("kms:ReEncryptTo", params.get("DestinationKeyId", ""))]
    if action == "Decrypt" and not params.get("KeyId"):
        return [("kms:Decrypt", _ciphertext_key(params.get("CiphertextBlob")))]
    return [("kms:" + action, params.get("KeyId", ""))]


# ---------------------------------------------------------------------------------------
# KMS key policies
# ---------------------------------------------------------------------------------------

def aws_rds_key_policy(account, region):
    """The key policy AWS gives the AWS-managed aws/rds key (as the KMS console shows it)."""
    return {"Version": "2012-10-17", "Id": "auto-rds-2", "Statement": [
        {"Sid": "Allow access through RDS for all principals in the account that are "
                "authorized to use RDS",
         "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                        "kms:ViaService": f"rds.{region}.amazonaws.com"}}},
        {"Sid": "Allow direct access to key metadata to the account",
         "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
         "Resource": "*"}]}


def key_policy(key_arn):
    """(key ARN, [(name, policy document)]) of a key; None when the key does not exist."""
    a = split_arn(key_arn or "")
    if not a:
        return None
    key = resolve_key(key_arn, a["account"], a["region"])
    if key is None:
        return None
    from .patches import key_is_aws_managed
    if key_is_aws_managed(key):
        doc = aws_rds_key_policy(key.account_id, key.region)
    else:
        doc = json.loads(key.policy)
    aliases = sorted(getattr(key, "aliases", []) or [])
    name = aliases[0][len("alias/"):] if aliases else key.arn.rsplit("/", 1)[-1]
    return key.arn, [(f"key-policy({name})", doc)]


# ---------------------------------------------------------------------------------------
# the decision for one request
# ---------------------------------------------------------------------------------------

def _base_context(who):
    ctx = {"aws:principalarn": who.arn, "aws:principalaccount": who.account}
    if who.account in _orgs:
        ctx["aws:principalorgid"] = _orgs[who.account]
    return ctx


def _identity(who, action, resource, ctx):
    return evaluate(who.policies(), action, resource, ctx)


def _decide_iam(who, action, resource, ctx):
    """Identity policies only (RDS, STS caller side): (allowed, considered)."""
    d, considered = _identity(who, action, resource, ctx)
    return d == "allow", considered


def _key_tags(key_arn):
    """aws:ResourceTag/* of a KMS key (KMS authorizes its key operations on the key's tags:
    ABAC for AWS KMS), from moto's state."""
    from moto.kms.models import kms_backends
    a = split_arn(key_arn or "")
    if not a:
        return {}
    try:
        tags = kms_backends[a["account"]][a["region"]].list_resource_tags(key_arn)["Tags"]
    except Exception:
        return {}
    return {"aws:resourcetag/" + t["TagKey"].lower(): t["TagValue"] for t in tags}


def _decide_kms(who, action, key_arn, ctx):
    """Key policy AND IAM, as KMS evaluates: (allowed, considered)."""
    kp = key_policy(key_arn)
    if kp is None:
        return False, [f"no KMS key {key_arn}"]
    arn, kpol = kp
    ctx = dict(ctx, **_key_tags(arn))
    kd, kc = evaluate(kpol, action, arn, ctx, who=who)
    idd, ic = _identity(who, action, arn, ctx)
    same = split_arn(arn)["account"] == who.account
    considered = kc + ic
    if kd == "deny" or idd == "deny":
        return False, considered
    if kd == "allow" and same:
        return True, considered
    if kd in ("allow", "allow-account") and idd == "allow":
        return True, considered
    return False, considered


def _deny(call, who, action, resource, considered, code, status, why, key=None):
    d = {"call": call, "principal": who.session_arn, "action": action,
         "resource": resource, "key": key, "code": code, "status": status,
         "reason": why, "statements": considered}
    d["message"] = (f"User: {who.session_arn} is not authorized to perform: {action} on "
                    f"resource: {resource} because {why}")
    with _lock:
        _state["denials"].append(d)
    return d


def check(service, action, account, region, params, access_key):
    """None when the request may go on; else the denial (recorded) with the error to send:
    {"code", "status", "message", ...}."""
    if not _state["enabled"] or service not in ("rds", "kms", "sts"):
        return None
    who = principal_for(access_key)
    if who is None:
        return None
    call = f"{service}:{action}"
    try:
        return _check(service, action, region, params, who, call)
    except PolicyError as e:
        with _lock:
            _state["errors"].append({"call": call, "principal": who.session_arn,
                                     "error": str(e)})
        return _deny(call, who, call, "", [str(e)], "AccessDenied", 403,
                     f"the fidelity evaluator can't decide: {e}")


def _note(who, call, action, resource, considered):
    """Record an allowed request with the statements that allowed it (docs/permissions.md
    names, for each permission, the call that needed it)."""
    allowing = [c.split(": allows", 1)[0] for c in considered if ": allows" in c]
    with _lock:
        _state["evaluated"].append({"call": call, "principal": who.arn, "action": action,
                                    "resource": resource, "allowed_by": allowing})


def _check(service, action, region, params, who, call):
    base = _base_context(who)
    # aws:RequestedRegion: the Region the request is signed for and sent to (the SigV4
    # credential scope), e.g. the keeper's chain lists another Region's copies there.
    if region:
        base["aws:requestedregion"] = region
    if service == "sts":
        if action == "GetCallerIdentity":
            return None     # AWS: no permission needed
        if action != "AssumeRole":
            raise PolicyError(f"sts:{action} is not modelled")
        role_arn = params.get("RoleArn", "")
        ok, considered = _decide_iam(who, "sts:AssumeRole", role_arn, base)
        if not ok:
            return _deny(call, who, "sts:AssumeRole", role_arn, considered, "AccessDenied",
                         403, "no identity-based policy allows the sts:AssumeRole action")
        from moto.iam.models import iam_backends
        a = split_arn(role_arn)
        try:
            role = iam_backends[a["account"]]["aws"].get_role(role_arn.rsplit("/", 1)[-1])
            trust = json.loads(role.assume_role_policy_document)
        except Exception:
            return _deny(call, who, "sts:AssumeRole", role_arn, [], "AccessDenied", 403,
                         "the role does not exist")
        ctx = dict(base)
        if params.get("ExternalId") is not None:
            ctx["sts:externalid"] = params["ExternalId"]
        td, tc = evaluate([(f"trust({role.name})", trust)], "sts:AssumeRole", role_arn, ctx,
                          who=who)
        if td == "allow" or (td == "allow-account"):
            _note(who, call, "sts:AssumeRole", role_arn, considered + tc)
            return None     # the caller's own IAM allowed it above
        return _deny(call, who, "sts:AssumeRole", role_arn, considered + tc, "AccessDenied",
                     403, "the role's trust policy does not allow it")
    if service == "kms":
        ctx = dict(base, **{"kms:calleraccount": who.account})
        for kact, key_id in kms_requests(action, params):
            key_arn = _key_arn(key_id, who.account, region)
            ok, considered = _decide_kms(who, kact, key_arn, ctx)
            if not ok:
                return _deny(call, who, kact, key_arn, considered, "AccessDeniedException",
                             400, f"no policy allows the {kact} action on this key",
                             key=key_arn)
            _note(who, call, kact, key_arn, considered)
        return None
    # RDS
    reqs, uses = rds_requests(action, who.account, region, params)
    for act, resource, extra, _role in reqs:
        ok, considered = _decide_iam(who, act, resource, dict(base, **extra))
        if not ok:
            return _deny(call, who, act, resource, considered, "AccessDenied", 403,
                         f"no identity-based policy allows the {act} action")
        _note(who, call, act, resource, considered)
    for kact, key_arn in uses:
        ctx = dict(base, **{"kms:viaservice": f"rds.{region}.amazonaws.com",
                            "kms:calleraccount": who.account})
        if kact == "kms:CreateGrant":
            ctx["kms:grantisforawsresource"] = "true"
        ok, considered = _decide_kms(who, kact, key_arn, ctx)
        if not ok:
            return _deny(call, who, kact, key_arn, considered, "KMSKeyNotAccessibleFault",
                         400, f"RDS could not use the key for {kact} on the caller's behalf",
                         key=key_arn)
        _note(who, call, kact, key_arn, considered)
    return None
