"""Starting and stopping real servers for tests: each binds 127.0.0.1 on a free port, runs in its
own session (setsid) and is stopped by its process group, so nothing outlives the test session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MotoServer", "free_port", "moto_server", "stop_process_group", "wait_for_http"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"no answer from {url} within {timeout} s")


def stop_process_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class MotoServer:
    """A running moto server: ``endpoint`` is its URL; ``env`` the variables boto3 needs to reach it.

    ``recording``: a file where moto's recorder appends every request it receives (see
    :func:`moto_server`), so that :meth:`restart` can bring the state back.
    """

    process: subprocess.Popen
    port: int
    log: Path = Path(os.devnull)
    recording: Path | None = None
    server_env: Mapping[str, str] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> Mapping[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "MOTO_PORT": str(self.port),
        }

    def configure(self, config: Mapping) -> None:
        """POSTs moto's runtime configuration (e.g. turning Step Functions execution on)."""
        import json

        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps(config).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        stop_process_group(self.process)

    def kill(self) -> None:
        """SIGKILL, as a crash: no request in flight is answered, connections are refused after."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        """Starts a new server on the same port.

        moto keeps its state in memory, so a new server starts empty, unlike a real S3 after an
        outage. With a ``recording``, every request the old server received is replayed into the
        new one first (moto's recorder,
        https://docs.getmoto.org/en/latest/docs/configuration/recorder/index.html), so it holds what the
        old one held when it died.
        """
        self.stop()
        self.process = _start_moto(self.port, self.log, self.recording, self.server_env)
        if self.recording is not None:
            request = urllib.request.Request(
                f"{self.endpoint}/moto-api/recorder/replay-recording", data=b"", method="POST"
            )
            with urllib.request.urlopen(request, timeout=300):
                pass


def _start_moto(
    port: int, log: Path, recording: Path | None = None, server_env: Mapping[str, str] | None = None
) -> subprocess.Popen:
    env = {**os.environ, **(server_env or {}), "MOTO_PORT": str(port)}
    if recording is not None:
        env.update(MOTO_ENABLE_RECORDING="True", MOTO_RECORDER_FILEPATH=str(recording))
    with open(log, "ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


@contextlib.contextmanager
def moto_server(
    log: Path | None = None, recording: Path | None = None, server_env: Mapping[str, str] | None = None
) -> Iterator[MotoServer]:
    """A moto server for the duration of the ``with`` block.

    Args:
        log: where the server's output goes (default: nowhere).
        recording: a new file in which to record every request, for :meth:`MotoServer.restart`.
        server_env: extra environment of the server, e.g. ``{"INITIAL_NO_AUTH_ACTION_COUNT": "0"}``
            to check every request's credentials
            (https://docs.getmoto.org/en/latest/docs/iam.html).
    """
    port = free_port()
    log = log or Path(os.devnull)
    server = MotoServer(_start_moto(port, log, recording, server_env), port, log, recording, server_env)
    try:
        yield server
    finally:
        server.stop()
