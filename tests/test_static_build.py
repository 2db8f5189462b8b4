"""The deployable ./bootstrap (mk/deps.mk) and its zip (make package).

Static (musl), stripped, small, runs; curl inside speaks HTTP(S) only; name
resolution and TLS with certificate verification work from the static binary
(a local HTTPS server on `localhost` with a throwaway CA made by the openssl
CLI); the zip is what provided.al2023 takes.  The arm64 cross build, when its
toolchain is installed, runs under qemu.
"""
import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import zipfile

import pytest

from harness.paths import BUILD, ROOT

BOOTSTRAP = ROOT / "bootstrap"
ZIP = BUILD / "snapferry.zip"
MAX_SIZE = 4 * 1024 * 1024


def _version():
    m = re.search(r"^VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert m, "no VERSION in the Makefile"
    return m.group(1)


def _run(cmd, env=None, timeout=60):
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def static_bootstrap():
    assert BOOTSTRAP.is_file(), f"{BOOTSTRAP} missing: run make"
    return BOOTSTRAP


def test_static_not_dynamic(static_bootstrap):
    out = _run(["file", "-b", str(static_bootstrap)]).stdout
    assert "ELF" in out and "statically linked" in out, out
    ldd = _run(["ldd", str(static_bootstrap)])
    assert ldd.returncode != 0 and "not a dynamic executable" in (ldd.stdout + ldd.stderr), \
        ldd.stdout + ldd.stderr
    # No program interpreter at all (what provided.al2023 would have to supply).
    headers = _run(["readelf", "-l", str(static_bootstrap)]).stdout
    assert "INTERP" not in headers and "Requesting program interpreter" not in headers


def test_stripped_and_small(static_bootstrap, capsys):
    out = _run(["file", "-b", str(static_bootstrap)]).stdout
    assert ", stripped" in out and "not stripped" not in out, out
    sections = _run(["readelf", "-S", "-W", str(static_bootstrap)]).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections
    size = static_bootstrap.stat().st_size
    with capsys.disabled():
        print(f"\nstatic bootstrap: {size} bytes ({size / 1048576:.2f} MiB)")
    assert size < MAX_SIZE, f"{size} bytes, over {MAX_SIZE}"


def test_version(static_bootstrap):
    r = _run([str(static_bootstrap), "--version"])
    assert r.returncode == 0, r.stderr
    assert _version() in r.stdout, r.stdout


def test_zip_for_provided_al2023(static_bootstrap):
    assert ZIP.is_file(), f"{ZIP} missing: run make package"
    with zipfile.ZipFile(ZIP) as z:
        assert z.testzip() is None
        infos = z.infolist()
        assert [i.filename for i in infos] == ["bootstrap"], [i.filename for i in infos]
        mode = infos[0].external_attr >> 16
        assert mode & 0o111 == 0o111, oct(mode)
        assert z.read("bootstrap") == static_bootstrap.read_bytes(), "zip is not the current ./bootstrap"


# curl's protocol handlers carry upper-case scheme names; lower-case ones that
# libcurl's URL parser uses to guess schemes (ftp., imap. ...) are not handlers,
# so only names that appear nowhere else are checked in lower case.
FORBIDDEN = {
    "FTP", "FTPS", "DICT", "GOPHER", "GOPHERS", "IMAP", "IMAPS", "LDAP", "LDAPS", "MQTT",
    "POP3", "POP3S", "RTSP", "SCP", "SFTP", "SMB", "SMBS", "SMTP", "SMTPS", "TELNET",
    "TFTP", "WSS", "ftps", "gopher", "gophers", "imaps", "ldaps", "mqtt", "pop3s", "rtsp",
    "scp", "sftp", "smbs", "smtps", "telnet", "tftp", "wss",
}
OTHER_LIBS = re.compile(r"\b(zlib|brotli|zstd|libidn2|libpsl|libssh2?|nghttp2|OpenSSL|GnuTLS|ICU)/\d")


def test_curl_speaks_http_only(static_bootstrap):
    strings = _run(["strings", "-n", "3", str(static_bootstrap)]).stdout.splitlines()
    words = set(s.strip() for s in strings)
    assert {"HTTP", "HTTPS"} <= words, "curl's HTTP handlers not found: the check itself is broken"
    present = sorted(FORBIDDEN & words)
    assert not present, f"unwanted protocols compiled into curl: {present}"
    assert not [s for s in strings if OTHER_LIBS.search(s)]


# ---- DNS + TLS from the static binary --------------------------------------------

def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr}"


def _hosts_loopback_name():
    """A name that /etc/hosts maps to 127.x, other than localhost.

    libcurl answers `localhost` and `*.localhost` itself (RFC 6761) without
    asking the C library, so only such a name proves that musl's resolver in
    the static binary works (the part static glibc would hand to NSS).
    """
    try:
        lines = open("/etc/hosts", encoding="utf-8").read().splitlines()
    except OSError:
        return None
    names = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0].startswith("127."):
            names += [n for n in fields[1:] if n != "localhost" and not n.endswith(".localhost")
                      and re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", n)]
    host = socket.gethostname()
    return host if host in names else (names[0] if names else None)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """HTTPS on 127.0.0.1, certificate for `localhost` (and the /etc/hosts
    loopback name, when there is one) signed by a throwaway CA."""
    d = tmp_path_factory.mktemp("tls")
    hosts_name = _hosts_loopback_name()
    san = "DNS:localhost" + (f",DNS:{hosts_name}" if hosts_name else "")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=snapferry test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
             "-subj", "/CN=localhost", cwd=d)
    (d / "ext").write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n"
                           "basicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext", cwd=d)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = b"ok\n"
            self.send_response(200 if self.path == "/ok" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "srv.pem", d / "srv.key")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield {"port": srv.server_address[1], "ca": str(d / "ca.pem"), "hosts_name": hosts_name}
    srv.shutdown()
    srv.server_close()


def _probe(binary, url, ca=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")
           and not k.lower().endswith("_proxy")}
    if ca is not None:
        env["SSL_CERT_FILE"] = ca
    return _run([str(binary), "--probe-url", url], env=env, timeout=60)


def test_tls_verified(static_bootstrap, tls_server):
    url = f"https://localhost:{tls_server['port']}/ok"
    r = _probe(static_bootstrap, url, ca=tls_server["ca"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"\b200\b", r.stdout), r.stdout


def test_dns_through_musl_resolver(static_bootstrap, tls_server):
    # A name only /etc/hosts knows: getaddrinfo() of the static musl libc
    # must find it (no DNS server is asked, nothing leaves the machine).
    name = tls_server["hosts_name"]
    if name is None:
        pytest.skip("/etc/hosts maps no name other than localhost to 127.x")
    url = f"https://{name}:{tls_server['port']}/ok"
    r = _probe(static_bootstrap, url, ca=tls_server["ca"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"\b200\b", r.stdout), r.stdout


def test_tls_rejects_unknown_ca(static_bootstrap, tls_server):
    url = f"https://localhost:{tls_server['port']}/ok"
    r = _probe(static_bootstrap, url)
    assert r.returncode != 0, "verification must be on: an unknown CA was accepted"
    assert re.search(r"cert|verif|trust", r.stderr, re.I), r.stderr
    assert "200" not in r.stdout


def test_tls_rejects_wrong_name(static_bootstrap, tls_server):
    # 127.0.0.1 is not in the certificate (DNS:localhost only).
    url = f"https://127.0.0.1:{tls_server['port']}/ok"
    r = _probe(static_bootstrap, url, ca=tls_server["ca"])
    assert r.returncode != 0, "host name verification must be on"
    assert "200" not in r.stdout


def test_probe_non_2xx_fails(static_bootstrap, tls_server):
    url = f"https://localhost:{tls_server['port']}/missing"
    r = _probe(static_bootstrap, url, ca=tls_server["ca"])
    assert r.returncode != 0
    assert re.search(r"\b404\b", r.stdout), r.stdout


# ---- arm64 cross build (mk/cross.mk) -------------------------------------------------

ARM64 = BUILD / "static-arm64" / "bootstrap"


def test_arm64_cross_build_runs_under_qemu():
    qemu = shutil.which("qemu-aarch64-static")
    if shutil.which("aarch64-linux-gnu-gcc") is None or qemu is None:
        pytest.skip("arm64 cross toolchain or qemu-user-static not installed (scripts/setup.sh installs them)")
    assert ARM64.is_file(), f"{ARM64} missing: run make BUILD={BUILD} bootstrap-arm64"
    out = _run(["file", "-b", str(ARM64)]).stdout
    assert "ARM aarch64" in out and "statically linked" in out and ", stripped" in out, out
    r = _run([qemu, str(ARM64), "--version"])
    assert r.returncode == 0, r.stderr
    assert _version() in r.stdout, r.stdout
