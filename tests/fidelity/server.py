"""`python -m fidelity.server --port N` (with PYTHONPATH=tests): moto's own threaded
werkzeug server with the fidelity patches applied in this process and the control API in
front. Prints `FIDELITY READY <url>` on stdout once it accepts connections (port 0 picks a
free port, and the line tells which)."""
import argparse
import sys
import time

from . import FidelityVersionError, require_pinned_moto


def make_app():
    """The WSGI app: control middleware around moto's DomainDispatcherApplication."""
    require_pinned_moto()
    from . import patches
    patches.apply()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from .control import FidelityApp
    return FidelityApp(DomainDispatcherApplication(create_backend_app))


def make_http_server(host="127.0.0.1", port=0):
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    return make_server(host, port, make_app(), threaded=True,
                       request_handler=MotoRequestHandler)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="fidelity.server", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-log", action="store_true",
                    help="log every request (default: only errors and tracebacks)")
    args = ap.parse_args(argv)
    if not args.access_log:
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    t0 = time.monotonic()
    try:
        srv = make_http_server(args.host, args.port)
    except FidelityVersionError as e:
        print(f"fidelity.server: {e}", file=sys.stderr, flush=True)
        return 3
    host, port = srv.server_address[:2]
    print(f"FIDELITY READY http://{host}:{port} ({time.monotonic() - t0:.2f}s)", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
