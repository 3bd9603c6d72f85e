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
    server = uvicorn.Server(uvicorn.Config(create_app(datastore), log_level="warning"))
    print(f"flowc ui: serving {datastore} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after a clean shutdown
        server.run(sockets=[listener])
    return 0
