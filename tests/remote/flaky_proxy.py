"""A real HTTP proxy in front of the moto server that fails some requests the way S3 can.

Every ``fail_every``-th request is answered ``503 SlowDown``; every ``reset_every``-th has its
connection closed without an answer (a connection reset); the rest are forwarded to moto unchanged,
after ``delay`` seconds (a WAN round trip, for benchmarks). ``lose_answer(method, path)`` picks
requests that are forwarded and *done* by moto, but whose answer is lost (the connection is reset
instead), the first ``lose_answers`` times it matches: the case where a retry finds its own
earlier attempt already applied. It runs on threads of the calling process and binds 127.0.0.1 on
a free port.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

__all__ = ["FlakyProxy", "flaky_proxy"]

_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


@dataclass
class FlakyProxy:
    endpoint: str
    fail_every: int = 0
    reset_every: int = 0
    delay: float = 0.0
    lose_answer: Callable[[str, str], bool] | None = None
    lose_answers: int = 0
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    failures: int = 0
    resets: int = 0
    forwarded: int = 0
    lost: int = 0


def _handler(proxy: FlakyProxy, upstream: str) -> type[BaseHTTPRequestHandler]:
    target = urlparse(upstream)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, *args: object) -> None:
            pass

        def _reset(self) -> None:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            self.close_connection = True
            self.connection.close()

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                number = next(proxy.counter)
                lose = (
                    proxy.lose_answer is not None
                    and proxy.lost < proxy.lose_answers
                    and proxy.lose_answer(self.command, self.path)
                )
                if lose:
                    proxy.lost += 1
            if proxy.reset_every and number % proxy.reset_every == 0:
                with lock:
                    proxy.resets += 1
                self._reset()
                return
            if proxy.fail_every and number % proxy.fail_every == 0:
                with lock:
                    proxy.failures += 1
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(_SLOW_DOWN)))
                self.end_headers()
                self.wfile.write(_SLOW_DOWN)
                return
            if proxy.delay:
                time.sleep(proxy.delay)
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if lose:  # done upstream, but the client never hears of it
                connection.close()
                self._reset()
                return
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            connection.close()
            with lock:
                proxy.forwarded += 1

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

    return Handler


@contextlib.contextmanager
def flaky_proxy(
    upstream: str,
    fail_every: int = 0,
    reset_every: int = 0,
    delay: float = 0.0,
    lose_answer: Callable[[str, str], bool] | None = None,
    lose_answers: int = 1,
) -> Iterator[FlakyProxy]:
    """A proxy to ``upstream`` (the moto endpoint) for the duration of the ``with`` block."""
    proxy = FlakyProxy("", fail_every, reset_every, delay, lose_answer, lose_answers if lose_answer else 0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, upstream))
    server.daemon_threads = True
    proxy.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
