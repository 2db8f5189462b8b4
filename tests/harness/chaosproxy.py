"""A seeded, fault-injecting HTTP proxy in front of the fidelity server (moto), for the chaos
test of the whole flow (tests/integration/test_chaos.py).

faultserver.py misbehaves on one scripted call; this proxy sits between the real bootstrap
and the real (emulated) AWS for a whole run and spoils a chosen share of the AWS API
requests that pass through it.  No real component injects faults between a client and AWS,
hence this home-made piece; everything it forwards is answered by moto + the fidelity layer.

Faults (`kinds`), each as AWS or the network delivers it:

  throttle  400 Throttling (Query XML, `<Type>Sender</Type>`, as RDS/STS send it) or
            ThrottlingException (JSON 1.1, KMS); the request never reaches moto
  500       InternalFailure (Query) / KMSInternalException (JSON); not forwarded
  503       ServiceUnavailable; not forwarded
  reset     the request is read, then the connection is reset (RST); not forwarded
  slow      forwarded and answered after a delay in `slow_s` (bounded)
  lost      forwarded to moto, which applies it (a copy is made, a share added...), then
            the connection is reset before any byte of the answer: the client never hears

Reproducible: whether a request is spoiled, and how, is a function of (seed, service, the
request body with its timestamps and key UUIDs blanked, how many times that same body was seen before)
only: not of the wall clock,
of the order in which concurrent clients' requests interleave, or of the client's
random back-off.  The same run with the same seed meets the same faults.

Requests without a SigV4 Authorization header (the tests' own control calls) pass through
untouched.  Bound to 127.0.0.1 only; every socket has a timeout, so a stuck client or
upstream ends its thread; stop() shuts the server down.
"""
import collections
import hashlib
import http.client
import re
import socket
import struct
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("throttle", "500", "503", "reset", "slow", "lost")

_CRED_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_XMLNS = {
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
# Times inside request bodies (automated snapshot ids rds:<db>-YYYY-MM-DD-HH-MM, the
# snapferry:source-time tag) and the UUIDs moto gives KMS keys change from run to run: they
# are blanked before hashing, so a run at another minute, on other keys, meets the same faults.
_TIMES = re.compile(rb"\d{4}-\d{2}-\d{2}(?:-\d{2}-\d{2}|T\d{2}(?::|%3A)\d{2}(?::|%3A)\d{2}"
                    rb"(?:\.\d+)?(?:Z|%2B00(?::|%3A)00|\+00:00)?)")
_UUIDS = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
        "trailer", "upgrade", "content-length"}
# Query errors: (status, code, Type); JSON errors: (status, __type).
_QUERY_ERR = {"throttle": (400, "Throttling", "Sender"),
              "500": (500, "InternalFailure", "Receiver"),
              "503": (503, "ServiceUnavailable", "Receiver")}
_JSON_ERR = {"throttle": (400, "ThrottlingException"),
             "500": (500, "KMSInternalException"),
             "503": (503, "ServiceUnavailable")}
_MESSAGES = {"throttle": "Rate exceeded", "500": "We encountered an internal error. Please try again.",
             "503": "Service is unavailable. Please try again later."}


def _stable(body):
    return _UUIDS.sub(b"U", _TIMES.sub(b"T", body))


def _reset(sock):
    """Close with RST (SO_LINGER 0), as a dropped connection looks to the client."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class ChaosProxy:
    """ChaosProxy(upstream, seed, rate).start(); .endpoint is AWS_ENDPOINT_URL for the
    bootstrap; .rate may be changed at any time (0: a faithful proxy); .stats counts the
    requests per fault kind ("ok" for untouched); .events lists (service, action, kind)."""

    def __init__(self, upstream, seed, rate, kinds=KINDS, slow_s=(0.1, 0.5),
                 by_action=None, upstream_timeout=30.0, client_timeout=60.0):
        u = urllib.parse.urlsplit(upstream)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the chaos proxy forwards to a local emulator only")
        self.upstream = (u.hostname, u.port or 80)
        self.seed = seed
        self.rate = rate
        self.kinds = tuple(kinds)
        # Per action, the kinds a spoiled request of that action gets instead (e.g. every
        # spoiled CopyDBSnapshot loses its answer after the copy was made).
        self.by_action = {a: tuple(k) for a, k in (by_action or {}).items()}
        for k in self.kinds + tuple(x for v in self.by_action.values() for x in v):
            if k not in KINDS:
                raise ValueError(f"unknown fault kind {k!r}")
        self.slow_s = slow_s
        self.upstream_timeout = upstream_timeout
        self.client_timeout = client_timeout
        self.lock = threading.Lock()
        self.seen = collections.Counter()
        self.stats = collections.Counter()
        self.events = []
        self.httpd = None
        self.thread = None

    # ---- the decision ------------------------------------------------------------------
    def decide(self, service, body, action=None):
        """(kind or None, delay seconds) for this request: see the module doc."""
        digest = hashlib.sha256(service.encode() + b"\0" + _stable(body)).hexdigest()
        with self.lock:
            n = self.seen[digest]
            self.seen[digest] += 1
            rate = self.rate
        h = hashlib.sha256(f"{self.seed}|{digest}|{n}".encode()).digest()
        u = int.from_bytes(h[0:8], "big") / 2.0 ** 64
        kinds = self.by_action.get(action, self.kinds)
        if u >= rate or not kinds:
            return None, 0.0
        kind = kinds[int.from_bytes(h[8:16], "big") % len(kinds)]
        lo, hi = self.slow_s
        delay = lo + (hi - lo) * int.from_bytes(h[16:24], "big") / 2.0 ** 64
        return kind, delay

    def _record(self, service, action, kind):
        with self.lock:
            self.stats[kind or "ok"] += 1
            self.events.append((service, action, kind or "ok"))

    def count(self, kind):
        with self.lock:
            return self.stats[kind]

    # ---- life cycle --------------------------------------------------------------------
    def start(self):
        proxy = self

        class Handler(_Handler):
            owner = proxy
            timeout = proxy.client_timeout

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       name="chaos-proxy")
        self.thread.start()
        return self

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=10)
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner = None  # the ChaosProxy, set by start()

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def _handle(self):
        proxy = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization") or ""
        m = _CRED_RE.search(auth)
        if m is None:        # not an AWS API call: pass it through untouched
            return self._forward(body, lose=False)
        service = m.group(1)
        target = self.headers.get("X-Amz-Target")
        is_json = bool(target)
        if target:
            action = target.rsplit(".", 1)[-1]
        else:
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get(
                "Action", ["?"])[0]
        kind, delay = proxy.decide(service, body, action)
        proxy._record(service, action, kind)
        if kind in ("throttle", "500", "503"):
            return self._error(kind, service, is_json)
        if kind == "reset":
            self.close_connection = True
            _reset(self.connection)
            return None
        if kind == "slow":
            time.sleep(delay)
        return self._forward(body, lose=(kind == "lost"))

    def _error(self, kind, service, is_json):
        rid = str(uuid.uuid4())
        if is_json:
            status, code = _JSON_ERR[kind]
            payload = ('{"__type":"%s","message":"%s"}' % (code, _MESSAGES[kind])).encode()
            ctype = "application/x-amz-json-1.1"
        else:
            status, code, typ = _QUERY_ERR[kind]
            ns = _XMLNS.get(service)
            xmlns = f' xmlns="{ns}"' if ns else ""
            payload = (f'<ErrorResponse{xmlns}><Error><Type>{typ}</Type><Code>{code}</Code>'
                       f'<Message>{_MESSAGES[kind]}</Message></Error>'
                       f'<RequestId>{rid}</RequestId></ErrorResponse>').encode()
            ctype = "text/xml"
        self._reply(status, [("Content-Type", ctype), ("x-amzn-RequestId", rid)], payload)

    def _forward(self, body, lose):
        """Send the request to moto and relay its answer; lose=True: moto applies it, then
        the client's connection is reset instead of answered."""
        host, port = self.owner.upstream
        conn = http.client.HTTPConnection(host, port, timeout=self.owner.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            status, reason = r.status, r.reason
            out = [(k, v) for k, v in r.getheaders() if k.lower() not in _HOP]
        except OSError:
            # moto did not answer in time: the client sees what AWS's front end sends.
            self._reply(504, [("Content-Type", "text/plain")], b"upstream timeout")
            return None
        finally:
            conn.close()
        if lose:
            self.close_connection = True
            _reset(self.connection)
            return None
        self._reply(status, out, data, reason)
        return None

    def _reply(self, status, headers, payload, reason=None):
        try:
            self.send_response(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True   # the client gave up (its own timeout)
