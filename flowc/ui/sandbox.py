"""Work that may run user code, done in a child process so the server never does it.

Two things ``flowc ui`` shows need a user's code: an artifact's preview (unpickling is code
execution: ``pickle.loads`` may import the flow's module and run any ``__reduce__``) and a flow's
graph (the front end reads the flow file's AST, but imports the module when a decorator argument
is not a literal). The server never does either in its own process: it starts
``python -m flowc.ui.sandbox`` with one JSON request on stdin and reads one JSON answer on
stdout. The child:

* runs in a fresh temporary working directory, with a CPU-time limit, an address-space limit and
  a wall-clock timeout (killed with its process group when it runs over);
* gets only the environment the datastore needs (``PATH``, ``HOME``, ``FLOWC_*``, ``AWS_*``);
* answers with plain JSON (a preview is text the child made: a truncated ``repr``, a shape, a
  DataFrame's head), so nothing the user's code produced is ever unpickled by the server.

It runs as the same OS user as the server, so the code it loads can do what that user can: it is
the code the flow itself ran, loaded only when someone asks for a preview or a graph. See docs/ui.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

__all__ = ["SandboxError", "flow_ir", "run_sandboxed"]

#: Wall-clock limit of one request; the CPU limit is the same.
TIMEOUT_SECONDS = 20
#: Address-space limit of the child (numpy and pandas reserve a lot of virtual memory).
ADDRESS_SPACE = 4 << 30
#: Longest preview text returned.
PREVIEW_CHARS = 4000
_ENV_PREFIXES = ("FLOWC_", "AWS_")
_ENV_NAMES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


class SandboxError(RuntimeError):
    """The child failed, timed out or answered nonsense (the message is one line)."""


def _limit_self() -> None:
    """The child's own limits, set before it loads anything of the user's (a ``preexec_fn``
    would not be safe: the server answers requests on threads)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (TIMEOUT_SECONDS, TIMEOUT_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_sandboxed(request: dict[str, Any]) -> dict[str, Any]:
    """Runs ``request`` (``{"command": "preview"|"graph", ...}``) in a child; returns its answer.

    Raises:
        SandboxError: the child timed out, crashed or reported an error.
    """
    env = {k: v for k, v in os.environ.items() if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES)}
    with tempfile.TemporaryDirectory(prefix="flowc-ui-sandbox-") as workdir:
        env["HOME"] = env.get("HOME", workdir)
        env["TMPDIR"] = workdir
        process = subprocess.Popen(
            [sys.executable, "-m", "flowc.ui.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=env,
            start_new_session=True,  # its own process group: killed whole on timeout
        )
        try:
            out, err = process.communicate(json.dumps(request).encode(), timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise SandboxError(f"gave up after {TIMEOUT_SECONDS} s") from None
        finally:
            _kill_group(process)
    try:
        answer = json.loads(out.decode("utf-8", errors="replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        last = (err.decode("utf-8", errors="replace").strip().splitlines() or ["no output"])[-1]
        raise SandboxError(f"the preview process failed (exit {process.returncode}): {last}") from None
    if "error" in answer:
        raise SandboxError(str(answer["error"]))
    return answer


def _kill_group(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# ---- the child ---------------------------------------------------------------------------------
def _preview(value: Any) -> dict[str, Any]:
    """Text describing ``value``: a DataFrame's head, an array's shape and values, else ``repr``."""
    import reprlib

    kind = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    answer: dict[str, Any] = {"type": kind}
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        answer["shape"] = list(shape)
    if type(value).__name__ == "DataFrame" and hasattr(value, "head"):
        text = value.head(10).to_string()
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bytes | bytearray):
        text = repr(bytes(value[:PREVIEW_CHARS]))
    else:
        limits = reprlib.Repr()  # Python 3.11's takes no arguments
        limits.maxlist = limits.maxdict = limits.maxtuple = limits.maxset = 20
        limits.maxstring = limits.maxother = 400
        text = repr(value) if shape is not None else limits.repr(value)
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS] + "\n..."
    answer["preview"] = text
    return answer


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("command") == "preview":
        from flowc.client import Task, namespace

        namespace(None)
        task = Task(request["pathspec"], datastore=request["datastore"])
        return _preview(task[request["artifact"]].data)
    if request.get("command") == "graph":
        return {"ir": _flow_ir(request)}
    raise ValueError(f"unknown command {request.get('command')!r}")


def _flow_file(datastore: str, flow: str, code: dict[str, Any]) -> str:
    """The flow file a run recorded: its source path, or the file in its unpacked code package."""
    if code.get("package"):
        from flowc.client.store import ClientStore
        from flowc.task_runner.bootstrap import materialize_package
        from flowc.task_runner.loading import find_flow_file

        store = ClientStore(datastore)
        return str(find_flow_file(materialize_package(store.storage, code["package"]), flow))
    if code.get("source"):
        return str(code["source"])
    raise ValueError("the run did not record where its flow's code is")


def _flow_ir(request: dict[str, Any]) -> dict[str, Any]:
    from flowc.frontend import build_ir

    return build_ir(_flow_file(request["datastore"], request["flow"], request.get("code") or {})).to_dict()


def flow_ir(datastore: str, flow: str, code: dict[str, Any]) -> dict[str, Any]:
    """The IR (as a dict) of the flow code a run recorded.

    Built here when the front end needs only the flow file's syntax tree (its usual case: every
    decorator and Parameter argument a literal), with module imports refused; otherwise in the
    child, where importing the module is allowed.

    Raises:
        SandboxError: the child failed.
    """
    from flowc.frontend import build_ir
    from flowc.frontend.values import module_imports_refused

    with contextlib.suppress(Exception):  # whatever went wrong, the child says it in one line
        with module_imports_refused() as refused:
            ir = build_ir(_flow_file(datastore, flow, code))
        if not refused:
            return ir.to_dict()
    return run_sandboxed({"command": "graph", "datastore": datastore, "flow": flow, "code": code})["ir"]


def main() -> int:
    _limit_self()
    try:
        answer = _answer(json.loads(sys.stdin.read()))
    except BaseException as exc:  # anything at all: report it as one line
        answer = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}
    sys.stdout.write("\n" + json.dumps(answer, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
