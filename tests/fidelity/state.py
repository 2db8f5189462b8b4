"""The fidelity layer's own mutable state: copy holds, injected errors and the call log.

One process-wide instance (STATE), guarded by a lock because moto's server is threaded.
Cleared by POST /_fidelity/reset; moto's own /moto-api/reset does not touch it.
"""
import itertools
import threading
import time

# Copy/create actions a hold can apply to; copies by default.
HOLDABLE = ("CopyDBSnapshot", "CopyDBClusterSnapshot", "CreateDBSnapshot",
            "CreateDBClusterSnapshot",
            # restored DBs (instances, clusters) and a cluster's writer: held `creating`
            "RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot",
            "CreateDBInstance")
DEFAULT_HELD = ("CopyDBSnapshot", "CopyDBClusterSnapshot")

# Parameters that never go into the call log (secrets of DB users).
_SECRET_WORDS = ("password", "secret", "token", "privatekey")

# The call log is bounded so a long benchmark can't grow the server without limit.
MAX_CALLS = 50000


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self._seq = itertools.count(1)
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.hold_enabled = False
            self.hold_accounts = None      # None: every account
            self.hold_regions = None       # None: every Region
            # AWS's older rule (still on some pages): "You can't copy an encrypted, shared
            # DB snapshot from one AWS Region to another". The current CopyDBSnapshot
            # reference allows a source "in a different account and a different AWS
            # Region" in one step; True restores the old refusal (POST /_fidelity/rules).
            self.refuse_shared_encrypted_cross_region = False
            self.hold_actions = set(DEFAULT_HELD)
            self.injections = []
            self.strips = []
            # Accounts that are gone (POST /_fidelity/gone): production lost.
            self.gone = set()
            self.calls = []
            self.dropped_calls = 0
            self.copies = []
            self.dropped_copies = 0

    # ---- AWS rules that changed over time ---------------------------------------------
    def set_rules(self, doc):
        known = {"refuse_shared_encrypted_cross_region"}
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"unknown rules {sorted(unknown)}; known: {sorted(known)}")
        with self.lock:
            if "refuse_shared_encrypted_cross_region" in doc:
                self.refuse_shared_encrypted_cross_region = bool(
                    doc["refuse_shared_encrypted_cross_region"])

    def rules_view(self):
        with self.lock:
            return {"refuse_shared_encrypted_cross_region":
                    self.refuse_shared_encrypted_cross_region}

    # ---- lost accounts -----------------------------------------------------------------
    def set_gone(self, accounts, gone=True):
        with self.lock:
            if gone:
                self.gone |= set(accounts)
            else:
                self.gone -= set(accounts)
            return sorted(self.gone)

    def is_gone(self, account):
        with self.lock:
            return account in self.gone

    # ---- holds -------------------------------------------------------------------------
    def set_hold(self, enabled, accounts=None, actions=None, regions=None):
        with self.lock:
            self.hold_enabled = bool(enabled)
            self.hold_accounts = set(accounts) if accounts else None
            self.hold_regions = set(regions) if regions else None
            acts = set(actions) if actions else set(DEFAULT_HELD)
            unknown = acts - set(HOLDABLE)
            if unknown:
                raise ValueError(f"cannot hold {sorted(unknown)}; holdable: {list(HOLDABLE)}")
            self.hold_actions = acts

    def should_hold(self, action, account, region=None):
        with self.lock:
            if not self.hold_enabled or action not in self.hold_actions:
                return False
            if self.hold_regions is not None and region not in self.hold_regions:
                return False
            return self.hold_accounts is None or account in self.hold_accounts

    def hold_view(self):
        with self.lock:
            return {"enabled": self.hold_enabled,
                    "accounts": sorted(self.hold_accounts) if self.hold_accounts else None,
                    "regions": sorted(self.hold_regions) if self.hold_regions else None,
                    "actions": sorted(self.hold_actions)}

    # ---- injections --------------------------------------------------------------------
    def add_injection(self, spec):
        action = spec.get("action")
        code = spec.get("code")
        if not action or not code:
            raise ValueError("an injection needs 'action' (or '*') and 'code'")
        count = int(spec.get("count", 1))
        if count < 1:
            raise ValueError("'count' must be >= 1")
        status = int(spec.get("status", 400))
        if status < 400 or status > 599:
            raise ValueError("'status' must be an HTTP error status (400-599)")
        inj = {
            "id": next(self._seq),
            "action": action,
            "service": spec.get("service"),
            "account": spec.get("account"),
            "region": spec.get("region"),
            "match": spec.get("match") or {},   # request parameters that must be equal
            "code": code,
            "status": status,
            "message": spec.get("message") or _default_message(code),
            "remaining": count,
            "fired": 0,
        }
        with self.lock:
            self.injections.append(inj)
        return dict(inj)

    def take_injection(self, service, action, account, region, params):
        """The first live injection matching this request, with one use consumed."""
        with self.lock:
            for inj in self.injections:
                if inj["remaining"] <= 0:
                    continue
                if inj["action"] not in ("*", action):
                    continue
                if inj["service"] and inj["service"] != service:
                    continue
                if inj["account"] and inj["account"] != account:
                    continue
                if inj["region"] and inj["region"] != region:
                    continue
                if any(str(params.get(k)) != str(v) for k, v in inj["match"].items()):
                    continue
                inj["remaining"] -= 1
                inj["fired"] += 1
                return dict(inj)
        return None

    # ---- incomplete answers ---------------------------------------------------------------
    def add_strip(self, spec):
        """A successful answer of `action` loses the XML element `element` (e.g. a Describe
        without DBSnapshotArn), `count` times: the malformed answers AWS could give."""
        action, element = spec.get("action"), spec.get("element")
        if not action or not element or not str(element).isalnum():
            raise ValueError("a strip needs 'action' and an alphanumeric 'element'")
        count = int(spec.get("count", 1))
        if count < 1:
            raise ValueError("'count' must be >= 1")
        strip = {"id": next(self._seq), "action": action, "element": element,
                 "account": spec.get("account"), "match": spec.get("match") or {},
                 "remaining": count, "fired": 0}
        with self.lock:
            self.strips.append(strip)
        return dict(strip)

    def take_strip(self, action, account, params):
        with self.lock:
            for st in self.strips:
                if st["remaining"] <= 0 or st["action"] != action:
                    continue
                if st["account"] and st["account"] != account:
                    continue
                if any(str(params.get(k)) != str(v) for k, v in st["match"].items()):
                    continue
                st["remaining"] -= 1
                st["fired"] += 1
                return dict(st)
        return None

    def injections_view(self):
        with self.lock:
            return [dict(i) for i in self.injections]

    # ---- call log ----------------------------------------------------------------------
    def log_call(self, service, action, account, region, params):
        entry = {
            "seq": next(self._seq),
            "time": time.time(),
            "service": service,
            "action": action,
            "account": account,
            "region": region,
            "params": {k: v for k, v in params.items()
                       if k not in ("Action", "Version")
                       and not any(w in k.lower() for w in _SECRET_WORDS)},
            "status": None,
            "error": None,
            "injected": False,
        }
        with self.lock:
            if len(self.calls) >= MAX_CALLS:
                self.calls.pop(0)
                self.dropped_calls += 1
            self.calls.append(entry)
        return entry

    def calls_view(self, account=None, action=None, service=None, since=None):
        with self.lock:
            out = []
            for c in self.calls:
                if account and c["account"] != account:
                    continue
                if action and c["action"] != action:
                    continue
                if service and c["service"] != service:
                    continue
                if since is not None and c["seq"] <= since:
                    continue
                out.append(dict(c))
            return out


    # ---- copy log: was each copy incremental-eligible when it started (patches.py) -------
    def log_copy(self, entry):
        with self.lock:
            if len(self.copies) >= MAX_CALLS:
                self.copies.pop(0)
                self.dropped_copies += 1
            entry = dict(entry, seq=next(self._seq))
            self.copies.append(entry)
        return entry

    def copies_view(self, account=None, region=None, since=None):
        with self.lock:
            return [dict(c) for c in self.copies
                    if (not account or c["account"] == account)
                    and (not region or c["region"] == region)
                    and (since is None or c["seq"] > since)]


def _default_message(code):
    return {
        "Throttling": "Rate exceeded",
        "ThrottlingException": "Rate exceeded",
        "SnapshotQuotaExceeded": "Cannot create more than 100 manual snapshots",
        "SharedSnapshotQuotaExceeded": "You have exceeded the maximum number of accounts "
                                       "that you can share a manual DB snapshot with.",
        "AccessDenied": "User is not authorized to perform this action (injected)",
        "AccessDeniedException": "User is not authorized to perform this action (injected)",
        "KMSKeyNotAccessibleFault": "The specified KMS key does not exist, is not enabled "
                                    "or you do not have permissions to access it.",
        "InternalFailure": "An internal error occurred (injected).",
        "ServiceUnavailable": "Service unavailable (injected).",
    }.get(code, f"{code} (injected by the fidelity layer)")


STATE = State()
