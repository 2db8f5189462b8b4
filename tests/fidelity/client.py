"""A small client of the fidelity server's control API and of moto's /moto-api (standard
library only, so scripts can use it without boto3)."""
import json
import urllib.error
import urllib.parse
import urllib.request


class ControlError(RuntimeError):
    pass


class Control:
    def __init__(self, endpoint, timeout=10.0):
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _req(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (
            json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        if data is not None:
            # raw bodies go to /moto-api, which reads request.data: a form content type
            # (urllib's default) would make Flask swallow them.
            req.add_header("Content-Type", "application/json" if raw is None else
                           "text/plain")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read()
        except urllib.error.HTTPError as e:
            raise ControlError(f"{method} {path}: HTTP {e.code}: "
                               f"{e.read().decode(errors='replace')}") from None
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text.decode(errors="replace")

    # fidelity control API
    def status(self):
        return self._req("GET", "/_fidelity/status")

    def reset(self):
        return self._req("POST", "/_fidelity/reset", {})

    def hold(self, enabled=True, accounts=None, actions=None, regions=None):
        body = {"enabled": enabled}
        if accounts:
            body["accounts"] = list(accounts)
        if regions:
            body["regions"] = list(regions)
        if actions:
            body["actions"] = list(actions)
        return self._req("POST", "/_fidelity/hold", body)["hold"]

    def rules(self, refuse_shared_encrypted_cross_region=None):
        body = {}
        if refuse_shared_encrypted_cross_region is not None:
            body["refuse_shared_encrypted_cross_region"] = refuse_shared_encrypted_cross_region
        return self._req("POST", "/_fidelity/rules", body)["rules"]

    def gone(self, accounts, gone=True):
        """The accounts are lost: nothing they sign succeeds, nobody reaches their
        snapshots (POST /_fidelity/gone)."""
        return self._req("POST", "/_fidelity/gone",
                         {"accounts": list(accounts), "gone": gone})["gone"]

    def release(self, id=None, account=None, region=None):
        body = {k: v for k, v in (("id", id), ("account", account), ("region", region)) if v}
        return self._req("POST", "/_fidelity/release", body)["released"]

    def inject(self, action, code, status=400, count=1, message=None, account=None,
               region=None, service=None, match=None):
        body = {"action": action, "code": code, "status": status, "count": count}
        for k, v in (("message", message), ("account", account), ("region", region),
                     ("service", service), ("match", match)):
            if v:
                body[k] = v
        return self._req("POST", "/_fidelity/inject", body)["injection"]

    def strip(self, action, element, count=1, account=None, match=None):
        """The next `count` successful answers to `action` lose XML element `element`."""
        body = {"action": action, "element": element, "count": count}
        if account:
            body["account"] = account
        if match:
            body["match"] = match
        return self._req("POST", "/_fidelity/strip", body)["strip"]

    def calls(self, account=None, action=None, service=None, since=None):
        q = {k: v for k, v in (("account", account), ("action", action),
                               ("service", service), ("since", since)) if v is not None}
        path = "/_fidelity/calls" + ("?" + urllib.parse.urlencode(q) if q else "")
        return self._req("GET", path)["calls"]

    def copies(self, account=None, region=None, since=None):
        """The copy log: each accepted copy and whether it was incremental-eligible."""
        q = {k: v for k, v in (("account", account), ("region", region), ("since", since))
             if v is not None}
        path = "/_fidelity/copies" + ("?" + urllib.parse.urlencode(q) if q else "")
        return self._req("GET", path)["copies"]

    def automated_snapshot(self, account, region, db, kind="instance"):
        return self._req("POST", "/_fidelity/automated-snapshot",
                         {"account": account, "region": region, "db": db, "kind": kind})

    def snapshot_time(self, account, region, id, time, kind="instance"):
        """Backdate a snapshot; `time` is ISO-8601 (UTC if no offset)."""
        return self._req("POST", "/_fidelity/snapshot-time",
                         {"account": account, "region": region, "id": id, "time": time,
                          "kind": kind})

    def bulk_snapshots(self, account, region, db, count, prefix=None, kind="instance",
                       type="manual", spacing_minutes=0):
        body = {"account": account, "region": region, "db": db, "count": count,
                "kind": kind, "type": type, "spacing_minutes": spacing_minutes}
        if prefix:
            body["prefix"] = prefix
        return self._req("POST", "/_fidelity/bulk-snapshots", body)

    # moto's own API
    def snapshot_quota(self, account, region, max):
        """The account+Region's manual snapshot quota (both kinds; default 100)."""
        return self._req("POST", "/_fidelity/snapshot-quota",
                         {"account": account, "region": region, "max": max})

    def moto_reset(self):
        return self._req("POST", "/moto-api/reset", raw=b"")

    def reset_auth(self, initial_no_auth_action_count=0):
        """After this many unauthenticated calls moto checks every SigV4 signature and
        IAM policy (0: from now on)."""
        return self._req("POST", "/moto-api/reset-auth",
                         raw=str(initial_no_auth_action_count).encode())

    def reset_all(self):
        self.moto_reset()
        self.reset()
