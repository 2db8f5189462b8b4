"""A home-made HTTP server that misbehaves on purpose, for the AWS client's fault tests.

No real component injects these faults (moto answers correctly or not at all), so this
small server stands in for an AWS endpoint.  The scenario is chosen by the request path,
so the client needs nothing but AWS_ENDPOINT_URL=http://127.0.0.1:<port>/<scenario>/<key>:

  ok                       200 with a minimal RDS (XML) or KMS (JSON) response
  throttle/<n>             Throttling (400) for the first n requests of this key, then ok
  status/<code>            that status with an AWS error body (InternalFailure, ...)
  denied                   403 AccessDenied (a client error: never retried)
  reset                    reads the request, then closes the socket with RST
  truncated                Content-Length larger than what is sent, then close
  malformed                200 with broken XML / JSON
  huge/<mib>               200 with a body of that many MiB (streamed)
  slow/<seconds>           sleeps before answering ok
  elements/<n>             200 with a well-formed XML body of n empty elements (<x/>...)
  assume/<seconds>         an AssumeRole answer whose credentials expire in that many
                           seconds; AccessKeyId ASIAFAULT<n> counts the answers
  markers/<m0>,<m1>,...    DescribeDBSnapshots pages of one snapshot (snap-<n>) each:
                           no Marker in the request answers Marker m0, Marker m<i>
                           answers m<i+1> (first i), the last one no Marker -- so
                           "A,B,A" cycles A, B, A, B... (no real service misbehaves so)
  assume/epoch             the same with <Expiration>1970-01-01T00:00:00Z</Expiration>

Requests are counted per path so tests can assert how many attempts were made.  Every
request must carry SigV4 headers, or it gets 400 MissingAuthenticationToken.
"""
import collections
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

XML_OK = (b'<DescribeDBSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
          b'<DescribeDBSnapshotsResult><DBSnapshots/></DescribeDBSnapshotsResult>'
          b'<ResponseMetadata><RequestId>req-ok-1</RequestId></ResponseMetadata>'
          b'</DescribeDBSnapshotsResponse>')
JSON_OK = b'{"KeyMetadata":{"KeyId":"k-1","KeyManager":"CUSTOMER"}}'


def _xml_error(code, message):
    return (f'<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error>'
            f'<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>'
            f'<RequestId>req-{code}</RequestId></ErrorResponse>').encode()


def _json_error(code, message):
    return f'{{"__type":"com.amazonaws.kms#{code}","message":"{message}"}}'.encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle plus
        # delayed ACKs add ~40 ms to every kept-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, body, ctype, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "hdr-req-id")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        srv = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = [p for p in self.path.split("/") if p]
        with srv.lock:
            srv.counts[self.path] += 1
            n = srv.counts[self.path]
            srv.peers[self.path].add(self.client_address)
            srv.last_headers = dict(self.headers.items())
            srv.last_body = body
        js = "json" in (self.headers.get("Content-Type") or "")
        ctype = "application/x-amz-json-1.1" if js else "text/xml"
        ok = JSON_OK if js else XML_OK
        err = _json_error if js else _xml_error
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("AWS4-HMAC-SHA256 Credential=") or not self.headers.get("X-Amz-Date"):
            return self._send(400, err("MissingAuthenticationToken", "no signature"), ctype)
        kind = parts[0] if parts else "ok"
        arg = parts[1] if len(parts) > 1 else ""
        if kind == "ok":
            return self._send(200, ok, ctype)
        if kind == "throttle":
            if n <= int(arg):
                code = "ThrottlingException" if js else "Throttling"
                return self._send(400, err(code, "Rate exceeded"), ctype)
            return self._send(200, ok, ctype)
        if kind == "status":
            code = {500: "InternalFailure", 503: "ServiceUnavailable"}.get(int(arg), "Oops")
            if js and int(arg) == 500:
                code = "KMSInternalException"
            return self._send(int(arg), err(code, "server trouble"), ctype)
        if kind == "denied":
            return self._send(403, err("AccessDenied", "User is not authorized"), ctype)
        if kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return None
        if kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(ok) + 500))
            self.end_headers()
            self.wfile.write(ok[: len(ok) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        if kind == "malformed":
            bad = b'{"KeyMetadata":{"KeyId":' if js else b"<DescribeDBSnapshotsResponse><Oops></Describe"
            return self._send(200, bad, ctype)
        if kind == "huge":
            size = int(arg) << 20
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"a" * 65536
            sent = 0
            try:
                while sent < size:
                    piece = chunk[: min(len(chunk), size - sent)]
                    self.wfile.write(piece)
                    sent += len(piece)
            except OSError:
                pass  # the client gave up, as it should
            self.close_connection = True
            return None
        if kind == "assume":
            when = 0 if arg == "epoch" else time.time() + int(arg)
            exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
            xml = (f'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                   f'<AssumeRoleResult><Credentials><AccessKeyId>ASIAFAULT{n}</AccessKeyId>'
                   f'<SecretAccessKey>assumedSECRET{n}xxxxxxxx</SecretAccessKey>'
                   f'<SessionToken>assumedTOKEN{n}xxxxxxxxxxxx</SessionToken>'
                   f'<Expiration>{exp}</Expiration></Credentials></AssumeRoleResult>'
                   f'<ResponseMetadata><RequestId>req-assume</RequestId></ResponseMetadata>'
                   f'</AssumeRoleResponse>').encode()
            return self._send(200, xml, "text/xml")
        if kind == "markers":
            chain = arg.split(",")
            got = urllib.parse.parse_qs(body.decode()).get("Marker", [None])[0]
            i = -1 if got is None else chain.index(got)
            nxt = chain[i + 1] if i + 1 < len(chain) else None
            xml = (f'<DescribeDBSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/'
                   f'2014-10-31/"><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>'
                   f'<DBSnapshotIdentifier>snap-{n}</DBSnapshotIdentifier></DBSnapshot>'
                   f'</DBSnapshots>' + (f'<Marker>{nxt}</Marker>' if nxt else '') +
                   '</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>').encode()
            return self._send(200, xml, "text/xml")
        if kind == "elements":
            body = (b"<DescribeDBSnapshotsResponse>" + b"<x/>" * int(arg) +
                    b"</DescribeDBSnapshotsResponse>")
            return self._send(200, body, ctype)
        if kind == "slow":
            time.sleep(float(arg))
            try:
                return self._send(200, ok, ctype)
            except OSError:
                return None
        return self._send(404, err("UnknownScenario", kind), ctype)


class FaultServer:
    """Start with .start(); .url(path) is an endpoint; .count(path) the requests seen."""

    def __init__(self):
        self.counts = collections.Counter()
        self.peers = collections.defaultdict(set)  # path -> client (addr, port) pairs
        self.lock = threading.Lock()
        self.last_headers = {}
        self.last_body = b""
        self.httpd = None
        self.thread = None

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.httpd.server_address[1]

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def count(self, path):
        with self.lock:
            return self.counts["/" + path.lstrip("/")]

    def connections(self, path):
        """How many distinct TCP connections carried the requests to ${path}."""
        with self.lock:
            return len(self.peers["/" + path.lstrip("/")])

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


def refused_url():
    """An endpoint on a local port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"
