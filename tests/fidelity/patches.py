"""In-process patches of moto 5.2.5's RDS, KMS and STS models: the AWS behaviours snapferry
depends on and moto lacks (DESIGN.md, "Testing with real parts"). apply() installs them once.

Unshareable snapshots: TdeCredentialArn is kept on instances and reported on their
snapshots, snapshots report their OptionGroupName, DescribeOptionGroups reports each
option's Persistent/Permanent flags (from moto's copy of AWS's DescribeOptionGroupOptions
data), and ModifyDBSnapshotAttribute refuses to share a TDE snapshot or one whose option
group has persistent/permanent options (but Oracle's Timezone/OLS), as AWS documents.

Each patch wraps moto's own function and calls it where it can; every deviation from moto is
the AWS behaviour named in the comment above it. The account a call acts in is the backend's
account_id, which moto derives from the request's access key (AssumeRole keys act in the
role's account, unknown keys in 123456789012), so the patches inherit moto's rule unchanged.
"""
import base64
import copy
import fnmatch
import json
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from . import require_pinned_moto
from .state import STATE

_applied = False
_local = threading.local()

# AWS's description of the AWS-managed RDS key (aws-facts.md §4).
RDS_DEFAULT_KEY_DESCRIPTION = ("Default key that protects my RDS database volumes when no "
                               "other key is defined")


def _err(code, message):
    from moto.rds.exceptions import RDSClientError
    # moto maps the model's shape name (e.g. DBSnapshotNotFoundFault) to the wire code
    # (DBSnapshotNotFound) and its HTTP status when it serializes the error.
    return RDSClientError(code, message)


def split_arn(arn):
    """arn:partition:service:region:account:type:id (RDS; the id may hold colons, as in
    rds:db-...) or arn:partition:service:region:account:type/id (KMS, IAM)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    resource = parts[5]
    sep = ":" if ":" in resource and ("/" not in resource or
                                      resource.index(":") < resource.index("/")) else "/"
    rtype, _, rid = resource.partition(sep)
    return {"partition": parts[1], "service": parts[2], "region": parts[3],
            "account": parts[4], "type": rtype, "id": rid}


# ---------------------------------------------------------------------------------------
# KMS: the AWS-managed keys behind alias/aws/*
# ---------------------------------------------------------------------------------------

def kms_backend(account, region):
    from moto.kms.models import kms_backends
    return kms_backends[account][region]


def aws_managed_key_arn(account, region, alias="alias/aws/rds"):
    """ARN of the account's AWS-managed key behind `alias`, created on first use as AWS does."""
    kms = kms_backend(account, region)
    key_id = kms.get_key_id_from_alias(alias)
    return kms.keys[key_id].arn


def resolve_key(kms_key_id, account, region):
    """The moto Key for a key id, key ARN, alias name or alias ARN, or None."""
    kms_key_id = kms_key_id or ""
    acct, reg = account, region
    if kms_key_id.startswith("arn:"):
        a = split_arn(kms_key_id)
        if not a or a["service"] != "kms":
            return None
        acct, reg = a["account"], a["region"]
    try:
        kms = kms_backend(acct, reg)
        key = kms.describe_key(kms_key_id)
    except Exception:  # moto raises KeyError/AttributeError/NotFound for unknown ids
        return None
    return key


def key_is_aws_managed(key):
    return key is not None and (key.key_manager == "AWS" or any(
        a.startswith("alias/aws/") for a in key.aliases))


def _patch_kms():
    from moto.kms.models import KmsBackend

    orig_generate = KmsBackend._generate_default_keys
    orig_describe = KmsBackend.describe_key

    # AWS: keys behind alias/aws/<service> are AWS-managed — DescribeKey says
    # KeyManager "AWS" (moto says CUSTOMER for every key).
    def _generate_default_keys(self, alias_name):
        key_id = orig_generate(self, alias_name)
        if key_id is not None:
            key = self.keys[key_id]
            key.key_manager = "AWS"
            if alias_name == "alias/aws/rds":
                key.description = RDS_DEFAULT_KEY_DESCRIPTION
            else:
                service = alias_name.rsplit("/", 1)[-1]
                key.description = (f"Default key that protects my {service} data when no "
                                   "other key is defined")
        return key_id

    def describe_key(self, key_id):
        key = orig_describe(self, key_id)
        key.key_manager = "AWS" if any(a.startswith("alias/aws/") for a in key.aliases) \
            else "CUSTOMER"
        return key

    KmsBackend._generate_default_keys = _generate_default_keys
    KmsBackend.describe_key = describe_key


def key_policy_allows(key, account, actions=("kms:Decrypt", "kms:CreateGrant")):
    """Whether the key policy lets `account` use the key for all `actions` (Allow statements
    only: principal = the account id, its root, any of its principals, or *)."""
    if key.account_id == account:
        return True
    try:
        policy = json.loads(key.policy)
    except (TypeError, ValueError):
        return False
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = set()
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal", {})
        if principal == "*":
            principals = ["*"]
        else:
            principals = principal.get("AWS", []) if isinstance(principal, dict) else []
            if isinstance(principals, str):
                principals = [principals]
        if not any(p == "*" or p == account or f":{account}:" in p for p in principals):
            continue
        acts = st.get("Action", [])
        if isinstance(acts, str):
            acts = [acts]
        for want in actions:
            if any(fnmatch.fnmatchcase(want.lower(), a.lower()) for a in acts):
                allowed.add(want)
    return allowed == set(actions)


# ---------------------------------------------------------------------------------------
# RDS
# ---------------------------------------------------------------------------------------

def rds_backend(account, region):
    from moto.rds.models import rds_backends
    return rds_backends[account][region]


def _normalise_kms_key_id(backend, kms_key_id, encrypted):
    """What AWS records as KmsKeyId: the key ARN; for an encrypted resource created without
    KmsKeyId, the ARN of the account's AWS-managed key behind alias/aws/rds."""
    if not encrypted:
        return kms_key_id if kms_key_id not in (None, "default_kms_key_id") else None
    if kms_key_id in (None, "", "default_kms_key_id"):
        return aws_managed_key_arn(backend.account_id, backend.region_name)
    key = resolve_key(kms_key_id, backend.account_id, backend.region_name)
    return key.arn if key is not None else kms_key_id


def _is_shared_with(snapshot, account):
    values = snapshot.attributes.get("restore", [])
    return account in values or "all" in values


def _kind(resource_type):
    from moto.rds.models import DBSnapshot, DBInstance, DBCluster
    return {DBSnapshot: "snapshot", DBInstance: "db-instance",
            DBCluster: "db-cluster"}.get(resource_type, "cluster-snapshot")


def _not_found(resource_type, identifier):
    from moto.rds.models import DBSnapshot
    if resource_type is DBSnapshot:
        return _err("DBSnapshotNotFoundFault", f"DBSnapshot {identifier} not found.")
    return _err("DBClusterSnapshotNotFoundFault",
                f"DBClusterSnapshot {identifier} not found.")


def _invalid_state(resource_type, message):
    from moto.rds.models import DBSnapshot
    if resource_type is DBSnapshot:
        return _err("InvalidDBSnapshotStateFault", message)
    return _err("InvalidDBClusterSnapshotStateFault", message)


def _own_id(backend, identifier, resource_type):
    """Accept the ARN of one of the caller's own snapshots where AWS accepts an id."""
    if identifier and identifier.startswith("arn:"):
        a = split_arn(identifier)
        if (not a or a["account"] != backend.account_id
                or a["region"] != backend.region_name or a["type"] != _kind(resource_type)):
            raise _not_found(resource_type, identifier)
        return a["id"]
    return identifier


def find_snapshot(backend, identifier, resource_type, for_account=None):
    """A snapshot by id (caller's own) or ARN (own, or another account's shared with the
    caller), or None. AWS: another account's snapshot is visible only when its `restore`
    attribute names the caller's account (or `all`)."""
    caller = for_account or backend.account_id
    if identifier.startswith("arn:"):
        a = split_arn(identifier)
        if not a or a["service"] != "rds" or a["type"] != _kind(resource_type):
            return None
        # A lost account's snapshots are out of everyone else's reach (POST
        # /_fidelity/gone): a copy from production's share fails once production is gone.
        if a["account"] != caller and STATE.is_gone(a["account"]):
            return None
        other = rds_backend(a["account"], a["region"])
        snap = other.resource_map[resource_type].get(a["id"])
        if snap is None:
            return None
        if a["account"] != caller and not _is_shared_with(snap, caller):
            return None
        return snap
    return backend.resource_map[resource_type].get(identifier)


def _shared_view(snapshot):
    """How an account sees another account's snapshot shared with it: identifier = the ARN,
    SnapshotType `shared`, no tags (tags stay with the owner) — boto/boto3#2335 shows the ARN
    in DBSnapshotIdentifier / DBClusterSnapshotIdentifier for shared snapshots."""
    cls = type(snapshot)
    view_cls = _VIEW_CLASSES.get(cls)
    if view_cls is None:
        id_attr = ("_db_snapshot_identifier" if hasattr(snapshot, "_db_snapshot_identifier")
                   else "_db_cluster_snapshot_identifier")
        owner_id_prop = property(lambda s: s.__dict__["_fidelity_owner_id"])
        view_cls = type(cls.__name__, (cls,), {
            "arn": property(lambda s: s.__dict__["_fidelity_owner_arn"]),
            "resource_id": owner_id_prop,
            "_fidelity_id_attr": id_attr,
        })
        _VIEW_CLASSES[cls] = view_cls
    view = copy.copy(snapshot)
    owner_arn = snapshot.arn
    view.__class__ = view_cls
    view.__dict__["_fidelity_owner_arn"] = owner_arn
    view.__dict__["_fidelity_owner_id"] = snapshot.resource_id
    view.__dict__[view_cls._fidelity_id_attr] = owner_arn
    view.__dict__["snapshot_type"] = "shared"
    view.__dict__["_tags"] = []
    return view


_VIEW_CLASSES = {}


def shared_with(backend, resource_type):
    """Every snapshot of another account in the caller's region shared with the caller."""
    from moto.rds.models import rds_backends
    out = []
    for account, regions in list(rds_backends.items()):
        if account == backend.account_id:
            continue
        other = regions.get(backend.region_name) if hasattr(regions, "get") else None
        if other is None:
            continue
        for snap in list(other.resource_map[resource_type].values()):
            # SnapshotType=shared: snapshots shared with this account by id (`all` makes
            # a snapshot public, which is IncludePublic's business).
            if backend.account_id in snap.attributes.get("restore", []):
                out.append(_shared_view(snap))
    return out


@contextmanager
def _resolved(snapshot):
    """Lets moto's restore functions find a snapshot our lookup already resolved."""
    _local.resolved = snapshot
    try:
        yield
    finally:
        _local.resolved = None


def _hold(snapshot, action, account):
    """AWS: a copy is `creating` (instance) / `copying` (cluster) until it finishes; when a
    hold is on, the new snapshot stays there until POST /_fidelity/release."""
    if not STATE.should_hold(action, account, getattr(snapshot, "region", None)):
        return
    from moto.rds.models import DBSnapshot
    if isinstance(snapshot, DBSnapshot):
        snapshot.status = "creating"
    else:
        snapshot.status = "copying" if action.startswith("Copy") else "creating"
    snapshot.percent_progress = 0
    snapshot._fidelity_held = action


# States a copy can end in besides `available` (release with "status"). DB snapshots: `failed`
# and the DB-instance states `incompatible-*`. A DB cluster snapshot's documented states are
# only `available`, `copying` and `creating` (DBClusterSnapshot.Status): no incompatible-*;
# a cluster copy that fails is modelled as `failed`, which AWS does not document either.
FAILED_STATES = ("failed", "incompatible-restore", "incompatible-parameters",
                 "incompatible-network")
CLUSTER_FAILED_STATES = ("failed",)


def release(snapshot_id=None, account=None, region=None, status="available"):
    """Make held snapshots `available` (or end them in a failure state of their kind:
    FAILED_STATES for DB snapshots, CLUSTER_FAILED_STATES for cluster snapshots); returns
    what was released. Nothing changes when a matching snapshot can't take `status`."""
    if status != "available" and status not in FAILED_STATES:
        raise ValueError(f"status must be available or one of {FAILED_STATES}")
    from moto.rds.models import rds_backends, DBSnapshot, DBClusterSnapshot
    matches = []
    for acct, regions in list(rds_backends.items()):
        if account and acct != account:
            continue
        for reg in list(regions.keys()):
            if region and reg != region:
                continue
            backend = regions[reg]
            for rtype in (DBSnapshot, DBClusterSnapshot):
                for snap in list(backend.resource_map[rtype].values()):
                    if not getattr(snap, "_fidelity_held", None):
                        continue
                    if snapshot_id and snapshot_id not in (snap.resource_id, snap.arn):
                        continue
                    if rtype is DBClusterSnapshot and status != "available" and \
                            status not in CLUSTER_FAILED_STATES:
                        raise ValueError(f"cluster snapshot {snap.resource_id}: status must "
                                         f"be available or one of {CLUSTER_FAILED_STATES}")
                    matches.append((acct, reg, rtype, snap))
    matches += _held_dbs(snapshot_id, account, region)
    released = []
    for acct, reg, rtype, snap in matches:
        snap.status = status
        snap.percent_progress = 100 if status == "available" else 0
        snap._fidelity_held = None
        released.append({"account": acct, "region": reg, "kind": _kind(rtype),
                         "id": snap.resource_id, "arn": snap.arn})
    return released


def _hold_db(db, action, account):
    """AWS: a restored DB (and an instance added to a cluster) is `creating` until it is
    ready; when a hold on ${action} is on, it stays there until POST /_fidelity/release
    makes it `available` or a failure state (FAILED_STATES, e.g. incompatible-parameters)."""
    if not STATE.should_hold(action, account):
        return
    db.status = "creating"
    db._fidelity_held = action


def _held_dbs(db_id, account, region):
    """Held DB instances and clusters matching the release's filters."""
    from moto.rds.models import rds_backends, DBInstance, DBCluster
    out = []
    for acct, regions in list(rds_backends.items()):
        if account and acct != account:
            continue
        for reg, backend in list(regions.items()):
            if region and reg != region:
                continue
            for rtype in (DBInstance, DBCluster):
                for db in list(backend.resource_map[rtype].values()):
                    if getattr(db, "_fidelity_held", None) and \
                            (not db_id or db_id in (db.resource_id, db.arn)):
                        out.append((acct, reg, rtype, db))
    return out


def _patch_db_holds(B):
    """Restores and CreateDBInstance may be held `creating` (_hold_db).  moto's DBCluster
    turns `creating` into `available` the first time it is read: not while held."""
    from moto.rds.models import DBCluster
    prop = DBCluster.status

    def status(self):
        if getattr(self, "_fidelity_held", None):
            return self._status
        return prop.fget(self)

    DBCluster.status = property(status, prop.fset)
    for name, action in (("restore_db_instance_from_db_snapshot",
                          "RestoreDBInstanceFromDBSnapshot"),
                         ("restore_db_cluster_from_snapshot", "RestoreDBClusterFromSnapshot"),
                         ("create_db_instance", "CreateDBInstance")):
        def wrap(orig, act):
            def f(self, *a, **kw):
                db = orig(self, *a, **kw)
                _hold_db(db, act, self.account_id)
                return db
            return f
        setattr(B, name, wrap(getattr(B, name), action))


def held():
    from moto.rds.models import rds_backends, DBSnapshot, DBClusterSnapshot
    out = []
    for acct, regions in list(rds_backends.items()):
        for reg in list(regions.keys()):
            backend = regions[reg]
            for rtype in (DBSnapshot, DBClusterSnapshot):
                for snap in list(backend.resource_map[rtype].values()):
                    if getattr(snap, "_fidelity_held", None):
                        out.append({"account": acct, "region": reg, "kind": _kind(rtype),
                                    "id": snap.resource_id, "status": snap.status})
    return out


def create_automated_snapshot(account, region, db, kind="instance", when=None):
    """An automated snapshot `rds:<db>-YYYY-MM-DD-HH-MM` as RDS's backup window makes it
    (moto makes one only when the DB is created). A later minute is used if taken."""
    backend = rds_backend(account, region)
    t = when or datetime.now(timezone.utc)
    store = backend.database_snapshots if kind == "instance" else backend.cluster_snapshots
    for _ in range(1440):
        sid = f"rds:{db}-{t.strftime('%Y-%m-%d-%H-%M')}"
        if sid not in store:
            break
        t += timedelta(minutes=1)
    if kind == "instance":
        snap = backend.create_auto_snapshot(db, sid)
    elif kind == "cluster":
        snap = backend.create_auto_cluster_snapshot(db, sid)
    else:
        raise ValueError("kind must be 'instance' or 'cluster'")
    return {"id": snap.resource_id, "arn": snap.arn, "kind": kind, "account": account,
            "region": region}


def _parse_time(value):
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def set_snapshot_time(account, region, snapshot_id, when, kind="instance"):
    """Backdate a snapshot (SnapshotCreateTime, and OriginalSnapshotCreateTime of DB
    snapshots) — for look-back and retention tests. moto keeps naive UTC datetimes."""
    from moto.rds.models import DBSnapshot, DBClusterSnapshot
    backend = rds_backend(account, region)
    rtype = DBSnapshot if kind == "instance" else DBClusterSnapshot
    snap = backend.resource_map[rtype].get(snapshot_id)
    if snap is None:
        raise ValueError(f"no {kind} snapshot {snapshot_id} in {account}/{region}")
    t = _parse_time(when).astimezone(timezone.utc).replace(tzinfo=None)
    snap.created = t
    if hasattr(snap, "original_snapshot_create_time"):
        snap.original_snapshot_create_time = t
    return {"id": snap.resource_id, "arn": snap.arn, "time": t.isoformat() + "Z"}


# AWS (RDS quotas, "Manual DB instance snapshots" / "Manual DB cluster snapshots"): 100 per
# account and Region by default, adjustable; DescribeAccountAttributes reports each as an
# AccountQuota (ManualSnapshots, ManualClusterSnapshots) with Used and Max, and a manual
# snapshot beyond Max is refused with SnapshotQuotaExceeded (botocore's
# SnapshotQuotaExceededFault). moto has no DescribeAccountAttributes, and its own limit
# (MOTO_RDS_SNAPSHOT_LIMIT) counts automated snapshots too. Max is this layer's, one value
# for both quotas, per (account, Region), set by POST /_fidelity/snapshot-quota.
DEFAULT_SNAPSHOT_QUOTA = 100
_quotas = {}
_quota_lock = threading.Lock()


def reset_quotas():
    with _quota_lock:
        _quotas.clear()


def snapshot_quota(account, region):
    with _quota_lock:
        return _quotas.get((account, region), DEFAULT_SNAPSHOT_QUOTA)


def set_snapshot_quota(account, region, maximum):
    maximum = int(maximum)
    if maximum < 0:
        raise ValueError("max must be >= 0")
    with _quota_lock:
        _quotas[(account, region)] = maximum
    return {"account": account, "region": region, "max": maximum}


def manual_snapshots_used(backend, kind):
    """The account+Region's manual snapshots of ${kind} ("instance" or "cluster"), in any
    state: a copy under way counts (AWS counts it towards the quota once it is created)."""
    store = backend.database_snapshots if kind == "instance" else backend.cluster_snapshots
    # moto's threaded server may insert a snapshot while this counts (concurrent creates,
    # as the benchmark's set-up makes them): the ordered dict then refuses the iteration.
    for _ in range(100):
        try:
            return sum(1 for s in list(store.values()) if s.snapshot_type == "manual")
        except RuntimeError:
            continue
    return sum(1 for s in list(store.values()) if s.snapshot_type == "manual")


def check_snapshot_quota(backend, kind):
    from moto.rds.exceptions import SnapshotQuotaExceededFault
    if manual_snapshots_used(backend, kind) >= snapshot_quota(backend.account_id,
                                                              backend.region_name):
        raise SnapshotQuotaExceededFault()


# AWS (USER_CopySnapshot, Limitations): "You can have up to 20 snapshot copy requests in
# progress to a single destination Region per account." Counted here over the copies from
# another Region held in flight (creating / copying) in the destination account+Region. The
# error AWS answers beyond it is not documented: SnapshotQuotaExceeded is this layer's
# choice, NOT verified against a live account.
CROSS_REGION_COPIES_IN_FLIGHT = 20


def check_cross_region_copies(backend):
    from moto.rds.models import DBSnapshot, DBClusterSnapshot
    n = 0
    for rtype in (DBSnapshot, DBClusterSnapshot):
        for snap in backend.resource_map[rtype].values():
            if getattr(snap, "_fidelity_copy_from_region", backend.region_name) != \
                    backend.region_name and snap.status in ("creating", "copying"):
                n += 1
    if n >= CROSS_REGION_COPIES_IN_FLIGHT:
        raise _err("SnapshotQuotaExceeded",
                   f"You have {n} snapshot copy requests in progress to "
                   f"{backend.region_name}; at most {CROSS_REGION_COPIES_IN_FLIGHT} are "
                   "allowed per destination Region.")


def bulk_snapshots(account, region, db, count, prefix=None, kind="instance",
                   snapshot_type="manual", spacing_minutes=0):
    """Create `count` snapshots of one DB fast (benchmarks): manual ones named
    <prefix>-00000.., automated ones rds:<db>-<time>; with spacing_minutes each is that
    much older than the previous one. moto's snapshot quota applies
    (MOTO_RDS_SNAPSHOT_LIMIT in the server's environment, default 1000); this layer's
    (DEFAULT_SNAPSHOT_QUOTA) is raised for the account to hold them and their copies."""
    count = int(count)
    if count < 1 or count > 100000:
        raise ValueError("count must be 1..100000")
    if kind not in ("instance", "cluster"):
        raise ValueError("kind must be 'instance' or 'cluster'")
    if snapshot_type not in ("manual", "automated"):
        raise ValueError("type must be 'manual' or 'automated'")
    backend = rds_backend(account, region)
    if snapshot_type == "manual":
        # A benchmark account: its snapshot quota is raised (AWS: adjustable) to hold what
        # this makes, a transit copy of each, and the default's headroom.
        want = manual_snapshots_used(backend, kind) + 2 * count + DEFAULT_SNAPSHOT_QUOTA
        if snapshot_quota(account, region) < want:
            set_snapshot_quota(account, region, want)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    step = timedelta(minutes=int(spacing_minutes))
    prefix = prefix or f"{db}-bulk"
    made = []
    if snapshot_type == "automated" and not step:
        step = timedelta(minutes=1)   # automated ids are per minute: keep them distinct
    store = backend.database_snapshots if kind == "instance" else backend.cluster_snapshots
    t = now
    for i in range(count):
        if snapshot_type == "automated":
            while f"rds:{db}-{t.strftime('%Y-%m-%d-%H-%M')}" in store:
                t -= timedelta(minutes=1)   # taken (e.g. moto's own at DB creation)
            sid = f"rds:{db}-{t.strftime('%Y-%m-%d-%H-%M')}"
        else:
            sid = f"{prefix}-{i:05d}"
        if kind == "instance":
            snap = backend.create_db_snapshot(db, sid, snapshot_type=snapshot_type)
        else:
            snap = backend.create_db_cluster_snapshot(db, sid, snapshot_type=snapshot_type)
        if step:
            snap.created = t.replace(tzinfo=None)
            if hasattr(snap, "original_snapshot_create_time"):
                snap.original_snapshot_create_time = snap.created
        made.append(snap.resource_id)
        t -= step
    return {"count": len(made), "first": made[0], "last": made[-1]}


# Options AWS lets a snapshot be shared with although they are persistent and permanent:
# "except for Oracle DB instances that have the Timezone or OLS option (or both)"
# (USER_ShareSnapshot.html).
SHAREABLE_PERMANENT_ORACLE_OPTIONS = ("Timezone", "OLS")

_option_tables = {}


def _option_table(engine):
    """{option name: {major version: (persistent, permanent)}} for an engine, from moto's
    copy of AWS's DescribeOptionGroupOptions answers (moto/rds/resources/
    option_group_options/<engine>.json), which carry AWS's Persistent/Permanent flags:
    e.g. oracle-ee TDE, OLS and Timezone are persistent and permanent, sqlserver-ee/-se
    TDE persistent only — the table of USER_ShareSnapshot.html."""
    if engine not in _option_tables:
        from moto.rds.models import RDSBackend
        table = {}
        try:
            rows = RDSBackend.describe_option_group_options(engine)
        except Exception:  # an engine moto has no table for: no flags
            rows = []
        for row in rows:
            table.setdefault(row.get("Name"), {})[row.get("MajorEngineVersion")] = (
                bool(row.get("Persistent")), bool(row.get("Permanent")))
        _option_tables[engine] = table
    return _option_tables[engine]


def option_flags(engine, major_version, option_name):
    """(persistent, permanent) of an option of an engine's option group: the row of its
    major version, else of any version of that engine (the flags do not vary by version
    in AWS's table), else (False, False)."""
    versions = _option_table(engine or "").get(option_name) or {}
    if major_version in versions:
        return versions[major_version]
    for flags in versions.values():
        return flags
    return (False, False)


def option_group_blockers(account, region, option_group_name):
    """Names of the options of an option group that keep its snapshots from being shared:
    persistent or permanent ones, but Timezone/OLS of Oracle."""
    if not option_group_name:
        return []
    og = rds_backend(account, region).option_groups.get(option_group_name)
    if og is None:
        return []
    oracle = (og.engine_name or "").startswith("oracle")
    out = []
    for opt in og.options:
        if not (opt["Persistent"] or opt["Permanent"]):
            continue
        if oracle and opt["OptionName"] in SHAREABLE_PERMANENT_ORACLE_OPTIONS:
            continue
        out.append(opt["OptionName"])
    return out


def unshareable_reason(snap):
    """Why AWS refuses to share DB snapshot `snap` with another account, or None."""
    tde = getattr(snap, "tde_credential_arn", None)
    if tde:
        return (f"The snapshot {snap.resource_id} is encrypted with Transparent Data "
                f"Encryption (TdeCredentialArn {tde}) and can't be shared.")
    blockers = option_group_blockers(snap.account_id, snap.region,
                                     getattr(snap, "option_group_name", None))
    if blockers:
        return (f"The snapshot {snap.resource_id} uses option group "
                f"{snap.option_group_name} with persistent or permanent options "
                f"({', '.join(blockers)}) and can't be shared.")
    return None


def _paginate(items, max_records, marker):
    """AWS's MaxRecords (20..100, default 100) and opaque Marker (aws-facts.md §2.2)."""
    if max_records is None:
        limit = 100
    else:
        limit = int(max_records)
        if limit < 20 or limit > 100:
            raise _err("InvalidParameterValue",
                       f"Invalid value {limit} for MaxRecords. Must be between 20 and 100")
    start = 0
    if marker:
        try:
            start = int(json.loads(base64.b64decode(marker))["o"])
        except (ValueError, KeyError, TypeError):
            raise _err("InvalidParameterValue", "Invalid marker")
    page = items[start:start + limit]
    nxt = None
    if start + limit < len(items):
        nxt = base64.b64encode(json.dumps({"o": start + limit}).encode()).decode()
    return page, nxt


# AWS's tag limits for RDS resources (botocore's RDS model, shape Tag: a key of 1 to 128
# Unicode characters, a value of up to 256; the RDS User Guide, "Tagging Amazon RDS
# resources": at most 50 tags per resource).  Which error code AWS answers when a request
# breaks them is not documented (the model lists no tag fault for AddTagsToResource,
# CreateDBSnapshot or the copies): the layer answers InvalidParameterValue, the common 400
# of RDS's Common Errors for an invalid parameter value.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_PER_RESOURCE = 50


def check_tag_limits(new_tags, existing=()):
    """Raise AWS's refusal when `new_tags` (a request's Tags), added to `existing` (the
    resource's tags), break a limit."""
    keys = {t.get("Key") for t in existing or ()}
    for t in new_tags or ():
        key, value = t.get("Key") or "", t.get("Value") or ""
        if not 1 <= len(key) <= TAG_KEY_MAX:
            raise _err("InvalidParameterValue", f"Tag key length must be between 1 and "
                       f"{TAG_KEY_MAX} characters: {key[:40]}...")
        if len(value) > TAG_VALUE_MAX:
            raise _err("InvalidParameterValue", f"Tag value for key {key} exceeds the "
                       f"maximum length of {TAG_VALUE_MAX} characters.")
        keys.add(key)
    if len(keys) > TAGS_PER_RESOURCE:
        raise _err("InvalidParameterValue", f"Cannot have more than {TAGS_PER_RESOURCE} "
                   "tags on a resource.")


def _patch_tag_limits(B):
    """The limits on every request that tags a snapshot: Create*/Copy* (their Tags) and
    AddTagsToResource (added to the resource's tags)."""
    for name in ("create_db_snapshot", "create_db_cluster_snapshot", "copy_db_snapshot",
                 "copy_db_cluster_snapshot"):
        def wrap(orig):
            def tagged(self, *a, **kw):
                check_tag_limits(kw.get("tags"))
                return orig(self, *a, **kw)
            return tagged
        setattr(B, name, wrap(getattr(B, name)))

    orig_add = B.add_tags_to_resource

    def add_tags_to_resource(self, arn, tags):
        resource = self._get_resource_for_tagging(arn)
        check_tag_limits(tags, getattr(resource, "tags", None) or ())
        return orig_add(self, arn, tags)

    B.add_tags_to_resource = add_tags_to_resource



# ---- incremental copies ----------------------------------------------------------------
# AWS copies a snapshot incrementally only under conditions it documents (aws-facts.md,
# "Incremental copies"): the AWS Backup guide says "deleting previous copies first will
# cause full snapshot copies to be made (instead of incremental)", and the RDS User Guide
# ("Incremental snapshot copying") that "Copying shared incremental snapshots in the same
# AWS Region is supported when they're unencrypted, or encrypted using the same KMS key as
# the initial full snapshot". Modelled here, for each copy when it starts: it is
# incremental-eligible when the destination (account + Region) still holds an earlier
# *copy* of the same source DB, available, under the same KMS key (both unencrypted
# counts as the same). AWS does not say whether it then copies incrementally every time
# (its notes also say a copy of a copy may not be); this is eligibility, not a promise.

def snapshot_origin(snap):
    """The source DB a snapshot's data comes from, "account:region:db-id": a copy keeps
    its source's (recorded by record_copy), any other snapshot names its own DB."""
    origin = getattr(snap, "_fidelity_origin", None)
    if origin:
        return origin
    db = getattr(snap, "database", None)
    db_id = getattr(db, "db_instance_identifier", None) if db is not None else None
    if db_id is None:
        cl = getattr(snap, "cluster", None)
        db_id = getattr(cl, "db_cluster_identifier", None) if cl is not None else None
    return f"{snap.account_id}:{snap.region}:{db_id}"


def _copy_key(snap):
    encrypted = bool(getattr(snap, "encrypted", False) or
                     getattr(snap, "storage_encrypted", False))
    return snap.kms_key_id if encrypted else None


def incremental_eligible(origin, kms_key, earlier):
    """The earlier copy in ${earlier} (snapshots of the destination account + Region, the
    new copy not among them) that makes a copy of ${origin} under ${kms_key} eligible for
    an incremental copy, or None: a copy (not the DB's own snapshot) of the same source
    DB, still available, under the same key."""
    for c in earlier:
        if getattr(c, "_fidelity_origin", None) != origin:
            continue
        if c.status != "available" or _copy_key(c) != kms_key:
            continue
        return c
    return None


def record_copy(backend, snap, src, kind, earlier):
    """Note ${snap}, a copy of ${src} just accepted by ${backend}, in the copy log."""
    origin = snapshot_origin(src)
    snap._fidelity_origin = origin
    key = _copy_key(snap)
    prev = incremental_eligible(origin, key, [c for c in earlier if c is not snap])
    STATE.log_copy({"account": backend.account_id, "region": backend.region_name,
                    "id": snap.resource_id, "kind": kind, "source": src.arn,
                    "source_db": origin, "kms_key": key,
                    "incremental_eligible": prev is not None,
                    "previous": prev.resource_id if prev is not None else None})


def _patch_rds():
    from moto.rds import models as m
    from moto.rds.responses import RDSResponse
    from moto.core.responses import ActionResult

    B = m.RDSBackend
    DBSnapshot, DBClusterSnapshot = m.DBSnapshot, m.DBClusterSnapshot

    # --- 2. KmsKeyId of encrypted instances/clusters: the aws/rds key's ARN -------------
    orig_instance_init = m.DBInstance.__init__

    def instance_init(self, *args, **kwargs):
        orig_instance_init(self, *args, **kwargs)
        if getattr(self, "db_cluster_identifier", None) is None and hasattr(self, "kms_key_id"):
            self.kms_key_id = _normalise_kms_key_id(self.backend, self.kms_key_id,
                                                    bool(self.storage_encrypted))
        # AWS: CreateDBInstance's TdeCredentialArn is reported on the instance (DBInstance
        # .TdeCredentialArn, botocore's RDS model) and on its snapshots; moto drops it.
        # TdeCredentialPassword is never kept (moto ignores it too).
        self.tde_credential_arn = kwargs.get("tde_credential_arn") or None

    m.DBInstance.__init__ = instance_init

    # AWS: a DB snapshot records the instance's option group (DBSnapshot.OptionGroupName)
    # and TDE key store (DBSnapshot.TdeCredentialArn) at the time it was taken; copies keep
    # them (moto's copies are built from the source's captured instance). moto reports
    # neither on a snapshot.
    orig_snapshot_init = m.DBSnapshot.__init__

    def snapshot_init(self, backend, database, *args, **kwargs):
        orig_snapshot_init(self, backend, database, *args, **kwargs)
        self.option_group_name = getattr(database, "option_group_name", None)
        self.tde_credential_arn = getattr(database, "tde_credential_arn", None)

    m.DBSnapshot.__init__ = snapshot_init

    # AWS: DescribeOptionGroups reports Persistent and Permanent per option
    # (OptionGroupsList/OptionGroup/Options/Option/{Persistent,Permanent}); moto reports
    # only the name and settings. The flags come from option_flags() below.
    def og_options(self):
        out = []
        for name, settings in self._options.items():
            persistent, permanent = option_flags(self.engine_name,
                                                 self.major_engine_version, name)
            out.append({"OptionName": name,
                        "Persistent": persistent, "Permanent": permanent,
                        "OptionSettings": [{"Name": s.get("Name"), "Value": s.get("Value")}
                                           for s in settings]})
        return out

    m.OptionGroup.options = property(og_options)

    orig_cluster_init = m.DBCluster.__init__

    def cluster_init(self, *args, **kwargs):
        orig_cluster_init(self, *args, **kwargs)
        self.kms_key_id = _normalise_kms_key_id(self.backend, self.kms_key_id,
                                                bool(self.storage_encrypted))

    m.DBCluster.__init__ = cluster_init

    # KmsKeyId given to a copy/create: AWS answers KMSKeyNotAccessibleFault for a key that
    # does not exist or is not enabled; it records the key ARN.
    def _validate_kms_key(self, kms_key_id):
        key = resolve_key(kms_key_id, self.account_id, self.region_name)
        if key is None or key.region != self.region_name or key.key_state != "Enabled":
            raise m.KMSKeyNotAccessibleFault(kms_key_id)
        if key.account_id != self.account_id and not key_policy_allows(key, self.account_id):
            raise m.KMSKeyNotAccessibleFault(kms_key_id)
        return key.arn

    B._validate_kms_key = _validate_kms_key

    # --- 1. get_snapshot: ARNs keep their account; other accounts only when shared -----
    def get_snapshot(self, identifier, resource_type, not_found_exception):
        snap = find_snapshot(self, identifier, resource_type)
        if snap is None:
            raise not_found_exception(identifier)
        return snap

    B.get_snapshot = get_snapshot

    # --- 4./5. copies ------------------------------------------------------------------
    def _check_copy_source(self, source, resource_type, kms_key_id):
        """AWS rules for the source of a copy (aws-facts.md §2.2 CopyDBSnapshot)."""
        src = find_snapshot(self, source, resource_type)
        if src is None:
            raise _not_found(resource_type, source)
        if src.status != "available":
            raise _invalid_state(resource_type, f"Snapshot {source} is not in available "
                                 f"state (status: {src.status}).")
        encrypted = bool(getattr(src, "encrypted", False) or
                         getattr(src, "storage_encrypted", False))
        if src.region != self.region_name:
            # Cross-Region: the copy is made in the destination Region (the caller's).
            # "If the source snapshot is in a different AWS Region than the copy, specify a
            # valid DB snapshot ARN" (SourceDBSnapshotIdentifier).
            if not source.startswith("arn:"):
                raise _not_found(resource_type, source)
            # The old rule, still on some pages: "You can't copy an encrypted, shared DB
            # snapshot from one AWS Region to another". AWS's current CopyDBSnapshot /
            # CopyDBClusterSnapshot reference allows "an ARN of a snapshot that is in a
            # different account and a different AWS Region" (one step), so this refusal is
            # a switch, off by default (POST /_fidelity/rules). The code is not documented:
            # InvalidParameterValue is this layer's choice, NOT verified.
            if encrypted and src.account_id != self.account_id and \
                    STATE.refuse_shared_encrypted_cross_region:
                raise _err("InvalidParameterValue",
                           f"You can't copy an encrypted, shared snapshot {source} from "
                           f"{src.region} to {self.region_name}.")
            # "If you copy an encrypted DB snapshot to a different AWS Region, then you
            # must specify an AWS KMS key identifier for the destination AWS Region"
            # (KmsKeyId); the key itself must be a key of that Region (_validate_kms_key).
            # Code not documented: InvalidParameterValue, NOT verified.
            if encrypted and not kms_key_id:
                raise _err("InvalidParameterValue",
                           "KmsKeyId is required to copy an encrypted snapshot from "
                           f"{src.region} to {self.region_name}.")
        if src.account_id != self.account_id and encrypted:
            # AWS requires KmsKeyId to copy an encrypted snapshot shared from another account;
            # without one it answers KMSKeyNotAccessibleFault "Specified KMS key [None] does
            # not exist, is not enabled or you do not have permissions to access it."
            # (awslabs/aurora-snapshot-tool#25, a cross-account copy without a key).
            if not kms_key_id:
                raise _err("KMSKeyNotAccessibleFault",
                           "Specified KMS key [None] does not exist, is not enabled or you "
                           "do not have permissions to access it.")
            # ...and the copying account must be allowed to use the source's key.
            src_key = resolve_key(src.kms_key_id, src.account_id, src.region)
            if src_key is None or key_is_aws_managed(src_key) or \
                    not key_policy_allows(src_key, self.account_id):
                raise _err("KMSKeyNotAccessibleFault",
                           f"The source snapshot KMS key [{src.kms_key_id}] does not exist, "
                           "is not enabled or you do not have permissions to access it.")
        return src

    orig_copy = B.copy_db_snapshot

    def copy_db_snapshot(self, source_db_snapshot_identifier, target_db_snapshot_identifier,
                         kms_key_id=None, tags=None, copy_tags=False, **kw):
        src = _check_copy_source(self, source_db_snapshot_identifier, DBSnapshot, kms_key_id)
        check_snapshot_quota(self, "instance")
        if src.region != self.region_name:
            check_cross_region_copies(self)
        earlier = list(self.database_snapshots.values())
        snap = orig_copy(self, source_db_snapshot_identifier, target_db_snapshot_identifier,
                         kms_key_id=kms_key_id or None, tags=tags, copy_tags=copy_tags, **kw)
        snap.snapshot_type = "manual"
        snap._fidelity_copy_from_region = src.region
        if src.account_id != self.account_id or src.region != self.region_name:
            snap.source_db_snapshot_identifier = src.arn
            snap.source_region = src.region
        if not kms_key_id and src.encrypted:
            snap.kms_key_id = src.kms_key_id
            snap.encrypted = snap.storage_encrypted = True
        record_copy(self, snap, src, "instance", earlier)
        _hold(snap, "CopyDBSnapshot", self.account_id)
        return snap

    B.copy_db_snapshot = copy_db_snapshot

    orig_copy_cluster = B.copy_db_cluster_snapshot

    def copy_db_cluster_snapshot(self, source_db_cluster_snapshot_identifier,
                                 target_db_cluster_snapshot_identifier, kms_key_id=None,
                                 copy_tags=False, tags=None, **kw):
        src = _check_copy_source(self, source_db_cluster_snapshot_identifier,
                                 DBClusterSnapshot, kms_key_id)
        # AWS: "Copying a snapshot of a Multi-AZ DB cluster" is not supported
        # (multi-az-db-clusters-concepts.Limitations); only Aurora cluster snapshots are
        # copied. The error code is not documented: InvalidParameterCombination is this
        # layer's choice, NOT verified against a live account.
        if not (src.engine or "").startswith("aurora"):
            raise _err("InvalidParameterCombination",
                       f"Copying a snapshot of a Multi-AZ DB cluster ({src.engine}) is not "
                       "supported.")
        # AWS (CopyDBClusterSnapshot, KmsKeyId): "If you copy an unencrypted DB cluster
        # snapshot and specify a value for the KmsKeyId parameter, an error is returned."
        # Which error is not documented: InvalidParameterCombination, NOT verified.
        if kms_key_id and not (getattr(src, "encrypted", False) or
                               getattr(src, "storage_encrypted", False)):
            raise _err("InvalidParameterCombination",
                       f"Snapshot {source_db_cluster_snapshot_identifier} is not encrypted: "
                       "KmsKeyId can't be given to copy it.")
        check_snapshot_quota(self, "cluster")
        if src.region != self.region_name:
            check_cross_region_copies(self)
        earlier = list(self.cluster_snapshots.values())
        snap = orig_copy_cluster(self, source_db_cluster_snapshot_identifier,
                                 target_db_cluster_snapshot_identifier,
                                 kms_key_id=kms_key_id or None, copy_tags=copy_tags,
                                 tags=tags, **kw)
        snap.snapshot_type = "manual"
        snap._fidelity_copy_from_region = src.region
        if src.account_id != self.account_id or src.region != self.region_name:
            snap.source_db_cluster_snapshot_arn = src.arn
        record_copy(self, snap, src, "cluster", earlier)
        _hold(snap, "CopyDBClusterSnapshot", self.account_id)
        return snap

    B.copy_db_cluster_snapshot = copy_db_cluster_snapshot

    # --- manual snapshots (instance and cluster) may be held in creating too.
    def _make_create(orig, action):
        kind = "instance" if action == "CreateDBSnapshot" else "cluster"

        def create(self, *a, **kw):     # moto passes the request's members by name
            if kw.get("snapshot_type", "manual") == "manual":
                check_snapshot_quota(self, kind)
            snap = orig(self, *a, **kw)
            if snap.snapshot_type == "manual":
                _hold(snap, action, self.account_id)
            return snap
        return create

    B.create_db_snapshot = _make_create(B.create_db_snapshot, "CreateDBSnapshot")
    B.create_db_cluster_snapshot = _make_create(B.create_db_cluster_snapshot,
                                                "CreateDBClusterSnapshot")

    # --- deletes: own ARNs accepted; AWS (DeleteDBSnapshot / DeleteDBClusterSnapshot):
    # "The DB snapshot must be in the available state to be deleted", except that "if the
    # snapshot is being copied, the copy operation is terminated". So a copy that ended
    # `failed` / `incompatible-*` can't be deleted (InvalidDBSnapshotState, "The state of
    # the DB snapshot doesn't allow deletion") and its identifier stays taken: a new copy
    # under that name is DBSnapshotAlreadyExists (moto's own check).
    def _make_delete(orig, resource_type):
        def delete(self, identifier, *a, **kw):
            ident = _own_id(self, identifier, resource_type)
            snap = self.resource_map[resource_type].get(ident)
            if snap is None:
                raise _not_found(resource_type, identifier)
            held_by = getattr(snap, "_fidelity_held", None)
            if snap.status != "available" and not (held_by or "").startswith("Copy"):
                raise _invalid_state(resource_type, f"Snapshot {ident} is in state "
                                     f"{snap.status}; it can't be deleted now.")
            out = orig(self, ident, *a, **kw)
            return out
        return delete

    B.delete_db_snapshot = _make_delete(B.delete_db_snapshot, DBSnapshot)
    B.delete_db_cluster_snapshot = _make_delete(B.delete_db_cluster_snapshot,
                                                DBClusterSnapshot)

    # --- 3. sharing rules ----------------------------------------------------------------
    def _check_share(self, snap, resource_type, values_to_add):
        if not values_to_add:
            return
        if snap.snapshot_type != "manual":
            # AWS: only manual snapshots can be shared; automated ones must be copied first
            # (DESIGN.md flow table; USER_ShareSnapshot.md).
            raise _invalid_state(resource_type, "Only manual snapshots can be shared; "
                                 f"{snap.resource_id} is {snap.snapshot_type}.")
        if snap.status != "available":
            raise _invalid_state(resource_type, f"Snapshot {snap.resource_id} is not "
                                 f"available (status: {snap.status}).")
        if resource_type is DBSnapshot:
            why = unshareable_reason(snap)
            if why:
                # AWS's rules: "You can't share Oracle or Microsoft SQL Server snapshots
                # that are encrypted using Transparent Data Encryption (TDE)"
                # (share-encrypted-snapshot.html) and "You can't share a DB snapshot that
                # uses an option group with permanent or persistent options, except for
                # Oracle DB instances that have the Timezone or OLS option (or both)"
                # (USER_ShareSnapshot.html). Neither page nor the API reference names the
                # error, and ModifyDBSnapshotAttribute's modelled errors (NotFound,
                # InvalidState, SharedSnapshotQuotaExceeded) have none for it:
                # InvalidParameterCombination (the snapshot combined with a share) is
                # this layer's choice, NOT verified against a live account.
                raise _err("InvalidParameterCombination", why)
        encrypted = bool(getattr(snap, "encrypted", False) or
                         getattr(snap, "storage_encrypted", False))
        if not encrypted:
            return
        # Code: the RDS API's generic InvalidParameterValue. The rules are documented in the
        # RDS user guide (share-encrypted-snapshot.html: "You can't share encrypted snapshots
        # as public", "You can't share a snapshot that has been encrypted using the default
        # KMS key of the AWS account that shared the snapshot") and the API reference of
        # ModifyDBSnapshotAttribute ("You can't use all as a value ... in this case"); neither
        # names the error code, and ModifyDB*SnapshotAttribute's modelled errors (NotFound,
        # InvalidState, SharedSnapshotQuotaExceeded) have none for these cases, so the
        # common InvalidParameterValue is used. Not verified against a live account.
        if "all" in values_to_add:
            raise _err("InvalidParameterValue",
                       "Encrypted snapshots can't be shared publicly: the value 'all' is not "
                       "allowed for an encrypted snapshot.")
        key = resolve_key(snap.kms_key_id, snap.account_id, snap.region)
        if key_is_aws_managed(key):
            raise _err("InvalidParameterValue",
                       "You can't share a snapshot encrypted with the default AWS KMS key of "
                       "the account (an AWS managed key). Copy it with a customer managed key "
                       "and share the copy.")

    orig_mod = B.modify_db_snapshot_attribute

    def modify_db_snapshot_attribute(self, db_snapshot_identifier, attribute_name,
                                     values_to_add=None, values_to_remove=None):
        ident = _own_id(self, db_snapshot_identifier, DBSnapshot)
        snap = self.database_snapshots.get(ident)
        if snap is None:
            raise _not_found(DBSnapshot, db_snapshot_identifier)
        _check_share(self, snap, DBSnapshot, values_to_add)
        if snap.snapshot_type != "manual":  # removing from an automated one: nothing to do
            return snap.attributes
        return orig_mod(self, ident, attribute_name, values_to_add, values_to_remove)

    B.modify_db_snapshot_attribute = modify_db_snapshot_attribute

    orig_cmod = B.modify_db_cluster_snapshot_attribute

    def modify_db_cluster_snapshot_attribute(self, db_cluster_snapshot_identifier,
                                             attribute_name, values_to_add=None,
                                             values_to_remove=None):
        ident = _own_id(self, db_cluster_snapshot_identifier, DBClusterSnapshot)
        snap = self.cluster_snapshots.get(ident)
        if snap is None:
            raise _not_found(DBClusterSnapshot, db_cluster_snapshot_identifier)
        _check_share(self, snap, DBClusterSnapshot, values_to_add)
        return orig_cmod(self, ident, attribute_name, values_to_add, values_to_remove)

    B.modify_db_cluster_snapshot_attribute = modify_db_cluster_snapshot_attribute

    def _make_describe_attrs(resource_type):
        def describe_attrs(self, *args, **kwargs):
            identifier = args[0] if args else next(iter(kwargs.values()))
            ident = _own_id(self, identifier, resource_type)
            snap = self.resource_map[resource_type].get(ident)
            if snap is None:
                raise _not_found(resource_type, identifier)
            return snap.attributes
        return describe_attrs

    B.describe_db_snapshot_attributes = _make_describe_attrs(DBSnapshot)
    B.describe_db_cluster_snapshot_attributes = _make_describe_attrs(DBClusterSnapshot)

    # --- 6. Describe: ARNs, IncludeShared, SnapshotType=shared --------------------------
    def _make_describe(orig, resource_type):
        parent_name = ("db_instance_identifier" if resource_type is DBSnapshot
                       else "db_cluster_identifier")

        def describe(self, *args, include_shared=False, **kwargs):
            # moto calls these positionally and by keyword; accept both.
            names = (parent_name, "db_snapshot_identifier", "snapshot_type", "filters")
            bound = dict(zip(names, args))
            bound.update(kwargs)
            parent_id = bound.get(parent_name)
            snapshot_id = bound.get("db_snapshot_identifier")
            snapshot_type = bound.get("snapshot_type")
            filters = bound.get("filters")
            resolved = getattr(_local, "resolved", None)
            if resolved is not None and snapshot_id == resolved.resource_id:
                return [resolved]
            if snapshot_id and snapshot_id.startswith("arn:"):
                a = split_arn(snapshot_id)
                if a and a["account"] == self.account_id:
                    snapshot_id = _own_id(self, snapshot_id, resource_type)
                else:
                    snap = find_snapshot(self, snapshot_id, resource_type)
                    if snap is None or not (include_shared or snapshot_type == "shared"):
                        raise _not_found(resource_type, snapshot_id)
                    return [_shared_view(snap)]
            if snapshot_type == "shared":
                return shared_with(self, resource_type)
            own = orig(self, parent_id, snapshot_id, snapshot_type, filters)
            if include_shared and snapshot_type is None and not snapshot_id:
                extra = shared_with(self, resource_type)
                if parent_id:
                    attr = ("db_instance_identifier" if resource_type is DBSnapshot
                            else "db_cluster_identifier")
                    extra = [s for s in extra if getattr(s, attr, None) == parent_id]
                own = list(own) + extra
            return own
        return describe

    B.describe_db_snapshots = _make_describe(B.describe_db_snapshots, DBSnapshot)
    B.describe_db_cluster_snapshots = _make_describe(B.describe_db_cluster_snapshots,
                                                     DBClusterSnapshot)

    def _truthy(v):
        return v is True or str(v).lower() == "true"

    def r_describe_db_snapshots(self):
        p = self.params
        filters = {f["Name"]: f["Values"] for f in p.get("Filters", [])}
        snaps = self.backend.describe_db_snapshots(
            p.get("DBInstanceIdentifier"), p.get("DBSnapshotIdentifier"),
            p.get("SnapshotType"), filters, include_shared=_truthy(p.get("IncludeShared")))
        page, marker = _paginate(list(snaps), p.get("MaxRecords"), p.get("Marker"))
        result = {"DBSnapshots": page}
        if marker:
            result["Marker"] = marker
        return ActionResult(result)

    def r_describe_db_cluster_snapshots(self):
        p = self.params
        # AWS: DescribeDBClusterSnapshots' SnapshotType is one of automated, manual, shared,
        # public ("The awsbackup type does not apply to Aurora", DescribeDBSnapshots).
        # The answer to another value is not documented: InvalidParameterValue, the API's
        # generic code, is this layer's choice, NOT verified against a live account.
        if p.get("SnapshotType") not in (None, "automated", "manual", "shared", "public"):
            raise _err("InvalidParameterValue",
                       f"Invalid value {p.get('SnapshotType')} for SnapshotType. Must be one "
                       "of automated, manual, shared, public.")
        filters = {f["Name"]: f["Values"] for f in p.get("Filters", [])}
        snaps = self.backend.describe_db_cluster_snapshots(
            p.get("DBClusterIdentifier"), p.get("DBClusterSnapshotIdentifier"),
            p.get("SnapshotType"), filters, include_shared=_truthy(p.get("IncludeShared")))
        page, marker = _paginate(list(snaps), p.get("MaxRecords"), p.get("Marker"))
        result = {"DBClusterSnapshots": page}
        if marker:
            result["Marker"] = marker
        return ActionResult(result)

    RDSResponse.describe_db_snapshots = r_describe_db_snapshots

    # DescribeAccountAttributes: moto has none. Only the two snapshot quotas this layer
    # models (see DEFAULT_SNAPSHOT_QUOTA); AWS lists more (DBInstances, AllocatedStorage..).
    def r_describe_account_attributes(self):
        b = self.backend
        mx = snapshot_quota(b.account_id, b.region_name)
        return ActionResult({"AccountQuotas": [
            {"AccountQuotaName": "ManualSnapshots",
             "Used": manual_snapshots_used(b, "instance"), "Max": mx},
            {"AccountQuotaName": "ManualClusterSnapshots",
             "Used": manual_snapshots_used(b, "cluster"), "Max": mx}]})

    RDSResponse.describe_account_attributes = r_describe_account_attributes
    RDSResponse.describe_db_cluster_snapshots = r_describe_db_cluster_snapshots

    # --- restores by ARN of a shared snapshot (AWS: "If you are restoring from a shared
    # manual DB snapshot, the DBSnapshotIdentifier must be the ARN").
    orig_restore = B.restore_db_instance_from_db_snapshot

    def restore_db_instance_from_db_snapshot(self, from_snapshot_id, overrides):
        snap = find_snapshot(self, from_snapshot_id or "", DBSnapshot)
        if snap is None:
            raise _not_found(DBSnapshot, from_snapshot_id)
        if snap.status != "available":
            raise _invalid_state(DBSnapshot, f"Snapshot {from_snapshot_id} is not available.")
        with _resolved(snap):
            return orig_restore(self, snap.resource_id, overrides)

    B.restore_db_instance_from_db_snapshot = restore_db_instance_from_db_snapshot

    orig_crestore = B.restore_db_cluster_from_snapshot

    def restore_db_cluster_from_snapshot(self, from_snapshot_id, overrides):
        snap = find_snapshot(self, from_snapshot_id or "", DBClusterSnapshot)
        if snap is None:
            raise _not_found(DBClusterSnapshot, from_snapshot_id)
        if snap.status != "available":
            raise _invalid_state(DBClusterSnapshot,
                                 f"Snapshot {from_snapshot_id} is not available.")
        # AWS (RestoreDBClusterFromSnapshot, EngineVersion): "If you don't specify an
        # engine version, the default version for the database engine in the AWS Region
        # is used" — not the snapshot's; moto keeps the snapshot cluster's version.
        if not overrides.get("engine_version"):
            overrides = dict(overrides, engine_version=m.DBCluster.default_engine_version(
                snap.engine))
        with _resolved(snap):
            return orig_crestore(self, snap.resource_id, overrides)

    B.restore_db_cluster_from_snapshot = restore_db_cluster_from_snapshot

    _patch_db_holds(B)
    # Last: around the copies and creates patched above.
    _patch_tag_limits(B)


# ---------------------------------------------------------------------------------------
# STS: AssumeRole honours the role's trust policy and its sts:ExternalId condition
# ---------------------------------------------------------------------------------------

def _caller_arns(account, access_key):
    """The ARNs a trust policy may name for this caller: the account root, and the IAM user
    or the role behind the access key."""
    from moto.iam.models import iam_backends
    arns = {account, f"arn:aws:iam::{account}:root"}
    try:
        iam = iam_backends[account]["aws"]
        key = iam.access_keys.get(access_key)
        if key is not None:
            if getattr(key, "role_arn", None):
                arns.add(key.role_arn)
            user = getattr(key, "user_name", None)
            if user:
                arns.add(f"arn:aws:iam::{account}:user/{user}")
    except Exception:
        pass
    return arns


def trust_allows(role, caller_arns, external_id):
    try:
        policy = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        return False
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        acts = st.get("Action", [])
        acts = [acts] if isinstance(acts, str) else acts
        if not any(fnmatch.fnmatchcase("sts:assumerole", a.lower()) for a in acts):
            continue
        principal = st.get("Principal", {})
        if principal == "*":
            ok = True
        else:
            p = principal.get("AWS", []) if isinstance(principal, dict) else []
            p = [p] if isinstance(p, str) else p
            ok = any(x == "*" or x in caller_arns for x in p)
        if not ok:
            continue
        cond = st.get("Condition", {})
        want = cond.get("StringEquals", {}).get("sts:ExternalId")
        if want is not None:
            want = [want] if isinstance(want, str) else want
            if external_id not in want:
                continue
        return True
    return False


def _patch_sts():
    from moto.sts.responses import TokenResponse
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError

    orig = TokenResponse.assume_role

    # AWS: AssumeRole fails with AccessDenied unless the role exists and its trust policy
    # allows the caller (including the sts:ExternalId condition); moto skips both checks.
    def assume_role(self):
        role_arn = self._get_param("RoleArn") or ""
        a = split_arn(role_arn)
        role = None
        if a and a["service"] == "iam" and a["id"] is not None:
            name = role_arn.rsplit("/", 1)[-1]
            try:
                role = iam_backends[a["account"]]["aws"].get_role(name)
            except Exception:
                role = None
        caller = _caller_arns(self.current_account, self.get_access_key())
        if role is None or not trust_allows(role, caller, self._get_param("ExternalId")):
            caller_arn = sorted(x for x in caller if ":user/" in x or ":role/" in x)
            who = caller_arn[0] if caller_arn else f"arn:aws:iam::{self.current_account}:root"
            raise STSClientError("AccessDenied", f"User: {who} is not authorized to perform: "
                                 f"sts:AssumeRole on resource: {role_arn}")
        return orig(self)

    TokenResponse.assume_role = assume_role


def apply():
    """Install every patch once (idempotent). Refuses to run on another moto version."""
    global _applied
    if _applied:
        return
    require_pinned_moto()
    _patch_kms()
    _patch_rds()
    _patch_sts()
    _applied = True
