"""``flowc ui``: a read-only web UI and JSON API over the datastore (docs/ui.md)."""

from __future__ import annotations

import argparse

HELP = "serve a read-only web UI of the datastore's runs (every engine)"

DEFAULT_PORT = 8324


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    try:
        import uvicorn

        from flowc.ui.app import create_app
    except ImportError as exc:
        missing = f"needs the 'ui' extra ({exc.name} is missing): pip install 'flowc[ui]'"
        print(f"flowc ui: {missing}", file=sys.stderr)
        return 2
    from flowc.runtime.cli_common import datastore_url

    # Absolute: previews and graphs are made by a child working in a temporary folder
    # (flowc/ui/sandbox.py), where the default relative `.flowc` would name nothing.
    datastore = datastore_url(args)
    import socket

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        listener.close()
        print(f"flowc ui: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    listener.listen(2048)  # connections wait in the backlog until the server accepts them
    host, port = listener.getsockname()[:2]
    app = create_app(datastore, allowed_hosts=_loopback_names(host))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    print(f"flowc ui: serving {datastore} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after a clean shutdown
        server.run(sockets=[listener])
    return 0


def _loopback_names(host: str) -> list[str] | None:
    """The host names a server bound to ``host`` answers: on a loopback address only this
    machine's names, so a web page whose name is rebound to 127.0.0.1 (DNS rebinding) cannot read
    the runs; bound elsewhere (``--host 0.0.0.0``) every name, as asked."""
    import ipaddress

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    # IPv6 loopback is left open: Starlette's host check cannot read a bracketed "[::1]:port".
    return ["localhost", "127.0.0.1", host] if loopback and ":" not in host else None
