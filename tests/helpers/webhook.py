"""A webhook receiver on 127.0.0.1 (a thread of the test process): records every JSON body POSTed
to it, as a Slack incoming webhook or any other webhook would receive it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Webhook", "webhook_server"]


@dataclass
class Webhook:
    url: str
    received: list[tuple[str, Any]] = field(default_factory=list)  # (path, JSON body)


@contextlib.contextmanager
def webhook_server(path: str = "/hooks/T000/B000/secret") -> Iterator[Webhook]:
    """A server recording POSTs; its URL ends in ``path`` (Slack's webhooks carry their secret there)."""
    lock = threading.Lock()
    received: list[tuple[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                received.append((self.path, json.loads(body or b"null")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Webhook(f"http://127.0.0.1:{server.server_address[1]}{path}", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
