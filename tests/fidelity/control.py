"""WSGI middleware in front of moto's app: the /_fidelity/ control API, error injection and
the per-account call log. It only reads requests (service, action, account, parameters);
moto still authenticates and answers everything it does not intercept.

Control API (JSON in, JSON out):
  GET  /_fidelity/status                  moto version, hold, injections, held snapshots
  POST /_fidelity/reset                   clear holds, injections, quotas and the call log
  POST /_fidelity/hold     {"enabled":true,"accounts":[..]?,"actions":[..]?,"regions":[..]?}
  POST /_fidelity/rules    {"refuse_shared_encrypted_cross_region":bool}  AWS's old rule: an
                          encrypted snapshot shared by another account is never copied
                          across Regions (default false: the current single-step rule)
  POST /_fidelity/release  {"id"?, "account"?, "region"?, "status"?}   held snapshots ->
                          available (or "status": failed / incompatible-* (DB snapshots only): the copy failed)
                          held DBs (restores, a cluster's writer) -> available or
                          failed / incompatible-* the same way
  POST /_fidelity/inject   {"action","code","status"?,"count"?,"message"?,"account"?,
                            "region"?,"service"?,"match"?:{param:value}}
  POST /_fidelity/strip    {"action","element","count"?,"account"?,"match"?}  successful
                          answers lose an XML element (e.g. a Describe without its ARN)
  GET  /_fidelity/calls    ?account=&action=&service=&since=
  GET  /_fidelity/copies   ?account=&region=&since=  every CopyDB(Cluster)Snapshot that was
                          accepted: {account, region, id, kind, source, source_db, kms_key,
                          incremental_eligible, previous} (patches.incremental_eligible)
  POST /_fidelity/automated-snapshot {"account","region","db","kind":"instance"|"cluster"}
  POST /_fidelity/snapshot-time {"account","region","id","time":ISO-8601,"kind"?}  backdate
  POST /_fidelity/bulk-snapshots {"account","region","db","count","prefix"?,"kind"?,
                                  "type"?:"manual"|"automated","spacing_minutes"?}
  POST /_fidelity/snapshot-quota {"account","region","max"}  the account+Region's manual
                          snapshot quota, both kinds (default 100; reset restores it):
                          DescribeAccountAttributes reports it, creates/copies beyond it are
                          refused with SnapshotQuotaExceeded
  POST /_fidelity/gone     {"accounts":[..], "gone"?: bool}  the accounts are lost (closed,
                          taken over): every request they sign is refused (403
                          InvalidClientTokenId) and their snapshots, shared or not, are
                          out of every other account's reach (a copy from them is NotFound)
  GET  /_fidelity/policy   the enforced-policy record: enabled, denials, errors, evaluated
  POST /_fidelity/policy   {"enabled": bool} switch enforcement (fidelity.policy; reset
                          turns it off) | {"role_credentials": role ARN} execution-role keys
                          | {"organization": {"id": "o-...", "accounts": [...]}} members
"""
import io
import json
import os
import re
import uuid
from urllib.parse import parse_qs

from moto.core.exceptions import ServiceException

from . import MOTO_VERSION
from . import patches
from . import policy
from .state import STATE

_CRED_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

# XML namespaces of the Query-protocol services snapferry calls (botocore models).
_XMLNS = {
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


def _xml_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def account_for(environ, access_key):
    """moto's rule (BaseResponse.get_current_account): MOTO_ACCOUNT_ID, then the
    x-moto-account-id header, then the account owning the access key, else the default."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from
    return get_account_id_from(access_key or "AKIAEXAMPLE")


def describe_request(environ, body):
    """(service, action, region, account, params, is_json) of an AWS API request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    m = _CRED_RE.search(auth)
    if not m and "X-Amz-Credential" in query:
        m = _CRED_RE.search("Credential=" + query["X-Amz-Credential"][0])
    access_key, region, service = (m.group(1), m.group(3), m.group(4)) if m else \
        (None, None, None)
    params = {k: v[0] for k, v in query.items() if not k.startswith("X-Amz-")}
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    ctype = environ.get("CONTENT_TYPE", "")
    is_json = bool(target) or "json" in ctype
    action = None
    if target:
        action = target.rsplit(".", 1)[-1]
        try:
            doc = json.loads(body or b"{}")
            if isinstance(doc, dict):
                params.update({k: v for k, v in doc.items()
                               if isinstance(v, (str, int, float, bool))})
        except ValueError:
            pass
    elif "x-www-form-urlencoded" in ctype or (body and b"Action=" in body[:4096]):
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: v[0] for k, v in form.items()})
        except UnicodeDecodeError:
            pass
    action = action or params.get("Action")
    account = account_for(environ, access_key)
    return service, action, region, account, params, is_json


def error_response(inj, service, is_json):
    """The wire error AWS sends: Query XML (ErrorResponse/Error/{Type,Code,Message} +
    RequestId, aws-facts.md §2.5) or JSON 1.1 ({"__type","message"}, §4)."""
    request_id = str(uuid.uuid4())
    status = inj["status"]
    if is_json:
        body = json.dumps({"__type": inj["code"], "message": inj["message"]}).encode()
        ctype = "application/x-amz-json-1.1"
    else:
        ns = _XMLNS.get(service)
        xmlns = f' xmlns="{ns}"' if ns else ""
        kind = "Receiver" if status >= 500 else "Sender"
        body = (f'<ErrorResponse{xmlns}><Error><Type>{kind}</Type>'
                f'<Code>{_xml_escape(inj["code"])}</Code>'
                f'<Message>{_xml_escape(inj["message"])}</Message></Error>'
                f'<RequestId>{request_id}</RequestId></ErrorResponse>').encode()
        ctype = "text/xml"
    headers = [("Content-Type", ctype), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", request_id)]
    return status, headers, body


_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


def _status_line(code):
    return f"{code} {_REASONS.get(code, 'Error')}"


class FidelityApp:
    """Wraps moto's DomainDispatcherApplication."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fidelity/"):
            return self._control(environ, start_response, path[len("/_fidelity/"):])
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        body = self._read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        try:
            service, action, region, account, params, is_json = describe_request(environ,
                                                                                 body)
        except Exception:  # never let the observer break the request
            return self.app(environ, start_response)
        if not action:
            return self.app(environ, start_response)
        entry = STATE.log_call(service, action, account, region, params)
        inj = STATE.take_injection(service, action, account, region, params)
        if inj is None and STATE.is_gone(account):
            # A lost account answers nothing of what it signs. AWS documents no single
            # error for it (a closed account's keys stop working: InvalidClientTokenId,
            # "The security token included in the request is invalid."); the point is
            # that nothing the account signs succeeds.
            inj = {"code": "InvalidClientTokenId", "status": 403,
                   "message": "The security token included in the request is invalid."}
        if inj is not None:
            status, headers, payload = error_response(inj, service, is_json)
            entry["status"], entry["error"], entry["injected"] = status, inj["code"], True
            start_response(_status_line(status), headers)
            return [payload]
        denied = _policy_denial(environ, entry, service, action, account, region, params,
                                is_json)
        if denied is not None:
            start_response(*denied[:2])
            return [denied[2]]

        strip = STATE.take_strip(action, account, params)
        if strip is not None:
            return self._stripped(environ, start_response, entry, strip)

        def observing_start_response(status, headers, exc_info=None):
            try:
                entry["status"] = int(status.split()[0])
            except (ValueError, IndexError):
                pass
            return start_response(status, headers, exc_info)

        result = self.app(environ, observing_start_response)
        if entry.get("status") and entry["status"] >= 400:
            chunks = list(result)
            if hasattr(result, "close"):
                result.close()
            entry["error"] = _error_code(b"".join(chunks))
            return chunks
        return result

    def _stripped(self, environ, start_response, entry, strip):
        """moto's answer without every <element>...</element> (flat elements only)."""
        got = {}

        def capture(status, headers, exc_info=None):
            got["status"], got["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, capture)
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        el = strip["element"].encode()
        body = re.sub(rb"<" + el + rb">[^<]*</" + el + rb">", b"", body)
        entry["status"] = int(got["status"].split()[0])
        entry["stripped"] = strip["element"]
        headers = [(k, v) for k, v in got["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(got["status"], headers)
        return [body]

    @staticmethod
    def _read_body(environ):
        length = environ.get("CONTENT_LENGTH")
        stream = environ["wsgi.input"]
        if length:
            try:
                return stream.read(int(length))
            except ValueError:
                return b""
        if environ.get("wsgi.input_terminated"):
            return stream.read()
        return b""

    # ---- control API -------------------------------------------------------------------
    def _control(self, environ, start_response, route):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            raw = self._read_body(environ)
            doc = json.loads(raw) if raw.strip() else {}
            if not isinstance(doc, dict):
                raise ValueError("the body must be a JSON object")
            query = {k: v[0] for k, v in
                     parse_qs(environ.get("QUERY_STRING", "")).items()}
            status, out = self._route(method, route, doc, query)
        except (ValueError, KeyError, TypeError) as e:
            status, out = 400, {"error": f"{type(e).__name__}: {e}"}
        except ServiceException as e:  # moto's answer, e.g. DBInstanceNotFound
            status, out = 400, {"error": f"{e.code}: {e.message}"}
        except Exception as e:  # moto errors while building snapshots etc.
            status, out = 500, {"error": f"{type(e).__name__}: {e}"}
        payload = json.dumps(out, default=str).encode()
        start_response(_status_line(status), [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(payload)))])
        return [payload]

    def _route(self, method, route, doc, query):
        if route == "status" and method == "GET":
            return 200, {"ready": True, "moto_version": MOTO_VERSION,
                         "hold": STATE.hold_view(), "injections": STATE.injections_view(),
                         "rules": STATE.rules_view(),
                         "held": patches.held()}
        if method != "POST" and route not in ("calls", "copies", "policy"):
            return 405, {"error": f"use POST for /_fidelity/{route}"}
        if route == "reset":
            STATE.reset()
            policy.reset()
            patches.reset_quotas()
            return 200, {"reset": True}
        if route == "policy":
            return _policy_route(method, doc)
        if route == "gone":
            accounts = doc.get("accounts")
            if not accounts or not isinstance(accounts, list):
                raise ValueError("'accounts' (a list of account ids) is required")
            return 200, {"gone": STATE.set_gone(accounts, bool(doc.get("gone", True)))}
        if route == "hold":
            STATE.set_hold(doc.get("enabled", True), doc.get("accounts"), doc.get("actions"),
                           doc.get("regions"))
            return 200, {"hold": STATE.hold_view()}
        if route == "rules":
            STATE.set_rules(doc)
            return 200, {"rules": STATE.rules_view()}
        if route == "release":
            released = patches.release(doc.get("id"), doc.get("account"), doc.get("region"),
                                       doc.get("status", "available"))
            return 200, {"released": released}
        if route == "strip":
            return 200, {"strip": STATE.add_strip(doc)}
        if route == "inject":
            return 200, {"injection": STATE.add_injection(doc)}
        if route == "calls":
            since = query.get("since")
            calls = STATE.calls_view(query.get("account"), query.get("action"),
                                     query.get("service"),
                                     int(since) if since is not None else None)
            return 200, {"calls": calls, "dropped": STATE.dropped_calls}
        if route == "copies":
            since = query.get("since")
            return 200, {"copies": STATE.copies_view(query.get("account"), query.get("region"),
                                                     int(since) if since is not None else None),
                         "dropped": STATE.dropped_copies}
        if route == "automated-snapshot":
            for k in ("account", "region", "db"):
                if not doc.get(k):
                    raise ValueError(f"'{k}' is required")
            return 200, patches.create_automated_snapshot(
                doc["account"], doc["region"], doc["db"], doc.get("kind", "instance"))
        if route == "snapshot-time":
            for k in ("account", "region", "id", "time"):
                if not doc.get(k):
                    raise ValueError(f"'{k}' is required")
            return 200, patches.set_snapshot_time(doc["account"], doc["region"], doc["id"],
                                                  doc["time"], doc.get("kind", "instance"))
        if route == "bulk-snapshots":
            for k in ("account", "region", "db", "count"):
                if not doc.get(k):
                    raise ValueError(f"'{k}' is required")
            return 200, patches.bulk_snapshots(
                doc["account"], doc["region"], doc["db"], doc["count"], doc.get("prefix"),
                doc.get("kind", "instance"), doc.get("type", "manual"),
                doc.get("spacing_minutes", 0))
        if route == "snapshot-quota":
            for k in ("account", "region"):
                if not doc.get(k):
                    raise ValueError(f"'{k}' is required")
            if doc.get("max") is None:
                raise ValueError("'max' is required")
            return 200, patches.set_snapshot_quota(doc["account"], doc["region"], doc["max"])
        return 404, {"error": f"no control route /_fidelity/{route}"}


def _policy_denial(environ, entry, service, action, account, region, params, is_json):
    """The enforced-policy hook (fidelity.policy): None, or (status line, headers, body) of
    AWS's access-denied error when the caller's policies refuse the request."""
    m = _CRED_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    denial = policy.check(service, action, account, region, params,
                          m.group(1) if m else None)
    if denial is None:
        return None
    status, headers, body = error_response(
        {"status": denial["status"], "code": denial["code"], "message": denial["message"]},
        service, is_json)
    entry["status"], entry["error"] = status, denial["code"]
    return _status_line(status), headers, body


def _policy_route(method, doc):
    """GET /_fidelity/policy: enabled, denials, errors, evaluated requests;
    POST {"enabled": bool}: switch enforcement (clears the record);
    POST {"role_credentials": role ARN}: the role's credentials as a service (Lambda)
    gets them for an execution role."""
    if method == "GET":
        return 200, policy.view()
    if "organization" in doc:
        return 200, policy.set_organization(doc["organization"])
    if doc.get("role_credentials"):
        return 200, {"credentials": policy.issue_role_credentials(
            doc["role_credentials"], doc.get("session_name", "snapferry"))}
    return 200, policy.configure(doc.get("enabled", True))


_CODE_RE = re.compile(rb"<Code>([^<]+)</Code>")
_TYPE_RE = re.compile(rb'"__type"\s*:\s*"([^"]+)"')


def _error_code(body):
    m = _CODE_RE.search(body) or _TYPE_RE.search(body)
    if not m:
        return None
    return m.group(1).decode("utf-8", "replace").rsplit("#", 1)[-1]
