"""``from flowc import Runner``: run and resume a flow from Python (notebooks, scripts, tests), in
the shape of Metaflow's Runner API (https://docs.metaflow.org/api/runner).

```python
from flowc import Runner

with Runner("flow.py", datastore="/tmp/ds") as runner:
    result = runner.run(alpha=3, tags=["nightly"])
    print(result.status, result.run.data.total)  # result.run is the client Run
    again = runner.resume(origin_run_id=result.run.id)
```

As Metaflow's, a run is the command line in a child process (``python -m flowc run FLOW ...``):
the local runtime owns signal handlers, forks and its console, none of which belong in a caller's
interpreter. ``Runner(...)`` keyword arguments are options of every command (``datastore``,
``max_workers``, ``executor``, ``branch``, ...); ``run(...)`` takes more options (``tags``, ...) and
the flow's parameters, which travel typed through a ``--params-file`` (``alpha=3`` is the integer
3, ``config={"a": 1}`` a dict). Deployed flows: :mod:`flowc.deployer_api` (``Deployer``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CommandRecord", "ExecutingRun", "Runner", "option_words", "run_command"]

#: Keyword arguments that are command options rather than flow parameters (``tags`` is Metaflow's
#: spelling of the repeatable ``--tag``; ``with_``/``decospecs`` of ``--with``).
_OPTIONS = frozenset(
    {
        "datastore", "max_workers", "max_num_splits", "branch", "production", "executor", "tag",
        "tags", "with", "with_", "decospecs", "origin_run_id", "force", "run_id_file", "quiet",
    }
)  # fmt: skip
#: Options taken for Metaflow's sake that change nothing on flowc: its top-level ``quiet`` (flowc
#: prints no banner to silence).
_ACCEPTED = frozenset({"quiet"})
_SPELLED = {"tags": "tag", "with_": "with", "decospecs": "with"}


class CommandRecord:
    """The command behind a result, as Metaflow's ``ExecutingRun.command_obj`` shows it.

    Attributes:
        command: the command line (argv) that ran.
        process: the ended process (``process.returncode`` is its exit code).
        log_files: ``{"stdout": path, "stderr": path}``, the files holding what it printed; they
            live until the runner's :meth:`Runner.cleanup` (the end of its ``with`` block).
    """

    def __init__(self, process: subprocess.CompletedProcess[str], log_files: Mapping[str, str]) -> None:
        self.command, self.process, self.log_files = list(process.args), process, dict(log_files)


class ExecutingRun:
    """A finished run or resume: ``status``, ``returncode``, ``stdout``, ``stderr`` and ``run``.

    Attributes:
        returncode: the command's exit code (0: the run succeeded).
        stdout: what the command printed on stdout (the run's progress lines).
        stderr: what it printed on stderr (errors, a failed task's traceback).
        run: the client :class:`~flowc.client.Run`, or None when no run started (bad input).
        command_obj: the command line, its ended process and its log files (:class:`CommandRecord`).
    """

    def __init__(
        self, returncode: int, stdout: str, stderr: str, run: Any, command_obj: CommandRecord
    ) -> None:
        self.returncode, self.stdout, self.stderr, self.run = returncode, stdout, stderr, run
        self.command_obj = command_obj

    @property
    def status(self) -> str:
        """``successful`` or ``failed`` (Metaflow's values; ``running`` never: the call waited)."""
        return "successful" if self.returncode == 0 else "failed"

    def wait(self, timeout: float | None = None) -> ExecutingRun:
        """Returns self: a ``Runner`` call returns once the run has ended (Metaflow's blocking API)."""
        return self

    def __enter__(self) -> ExecutingRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        pathspec = self.run.pathspec if self.run is not None else None
        return f"ExecutingRun({pathspec!r}, status={self.status!r})"


class Runner:
    """Runs and resumes ``flow_file`` locally, as ``flowc run`` / ``flowc resume`` do.

    Args:
        flow_file: the flow's file (relative to ``cwd`` when given, else to this process's).
        show_output: also print the command's stdout and stderr here as they come.
        env: environment variables added to this process's for the command.
        cwd: the command's working directory (the default datastore ``.flowc`` lives there).
        **options: options of every command, e.g. ``datastore="s3://b/p"``, ``max_workers=4``.
    """

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        show_output: bool = True,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        self.cwd = Path(cwd).resolve() if cwd is not None else Path.cwd()
        self.flow_file = str((self.cwd / flow_file).resolve())
        self.show_output = show_output
        self.env = {**os.environ, **(env or {})}
        self.options = options
        self._temp = Path(tempfile.mkdtemp(prefix="flowc-runner-"))

    def run(self, **kwargs: Any) -> ExecutingRun:
        """Runs the flow to its end; keyword arguments are run options (``tags=[...]``,
        ``max_workers=...``) and the flow's parameters (``alpha=3``)."""
        options = {**self.options, **{k: v for k, v in kwargs.items() if k in _OPTIONS}}
        parameters = {k: v for k, v in kwargs.items() if k not in _OPTIONS}
        words: list[str] = []
        if parameters:
            params_file = self._temp / f"params-{len(list(self._temp.iterdir()))}.json"
            params_file.write_text(json.dumps(parameters), encoding="utf-8")
            words += ["--params-file", str(params_file)]
        return self._command("run", options, words)

    def resume(self, step_to_rerun: str | None = None, **kwargs: Any) -> ExecutingRun:
        """Resumes a failed run (``origin_run_id=...``, else your latest), re-running from
        ``step_to_rerun`` when given (else from the failed tasks); options as for :meth:`run`.
        The origin run's config values are reused, as by ``flowc resume``."""
        return self._command("resume", {**self.options, **kwargs}, [step_to_rerun] if step_to_rerun else [])

    def cleanup(self) -> None:
        """Removes the runner's temporary files (parameter files, run id files)."""
        shutil.rmtree(self._temp, ignore_errors=True)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # ---- one command -----------------------------------------------------------------------
    def _command(self, command: str, options: Mapping[str, Any], words: Sequence[str]) -> ExecutingRun:
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise TypeError(f"Runner.{command}() got unknown option(s) {', '.join(unknown)}")
        self._temp.mkdir(parents=True, exist_ok=True)
        serial = len(list(self._temp.iterdir()))
        # Metaflow's run_id_file is the caller's file (relative to cwd); else one of ours.
        given = options.get("run_id_file")
        run_id_file = self.cwd / given if given else self._temp / f"run-id-{serial}"
        datastore = self._datastore(options.get("datastore"))
        argv = [*_command_line(self.flow_file, command), *words]
        argv += ["--datastore", datastore, "--run-id-file", str(run_id_file)]
        argv += option_words(
            {k: v for k, v in options.items() if k not in ("datastore", "run_id_file") and k not in _ACCEPTED}
        )
        returncode, out, err = self._execute(argv)
        log_files = {"stdout": str(self._temp / f"{command}-{serial}.stdout")}
        log_files["stderr"] = str(self._temp / f"{command}-{serial}.stderr")
        Path(log_files["stdout"]).write_text(out, encoding="utf-8")
        Path(log_files["stderr"]).write_text(err, encoding="utf-8")
        record = CommandRecord(subprocess.CompletedProcess(argv, returncode, out, err), log_files)
        run = None
        run_id = run_id_file.read_text().strip() if run_id_file.exists() else ""
        if run_id:
            from flowc.client import Run
            from flowc.frontend import build_ir

            flow = build_ir(self.flow_file).name
            run = Run(f"{flow}/{run_id}", datastore=datastore, _namespace_check=False)
        return ExecutingRun(returncode, out, err, run, record)

    def _datastore(self, given: str | None) -> str:
        """The datastore the command will use, as an absolute URL (the client reads it back)."""
        from flowc.config import load_settings

        url = str(load_settings({"datastore": given}, start=self.cwd, environ=self.env)["datastore"])
        return url if url.startswith("s3://") else str((self.cwd / url).resolve())

    def _execute(self, argv: list[str]) -> tuple[int, str, str]:
        return run_command(argv, self.cwd, self.env, self.show_output)


def _command_line(flow_file: str, command: str) -> list[str]:
    """The CLI's start for ``command`` on ``flow_file``: ``python flow.py COMMAND`` when the file
    starts its flow under ``if __name__ == "__main__":``, as Metaflow's Runner does (code at the
    file's top level, such as setting ``METAFLOW_BRANCH``, then runs before the options are read);
    else ``python -m flowc COMMAND flow.py``."""
    import ast

    try:
        tree = ast.parse(Path(flow_file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        tree = ast.Module(body=[], type_ignores=[])  # the CLI reports the file's error
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test).replace("'", '"') == '__name__ == "__main__"':
            return [sys.executable, flow_file, command]
    return [sys.executable, "-m", "flowc", command, flow_file]


def run_command(
    argv: list[str], cwd: str | os.PathLike[str], env: Mapping[str, str], show_output: bool
) -> tuple[int, str, str]:
    """Runs ``argv`` (the CLI) in a child process: (exit code, stdout, stderr), both also printed
    here as they come with ``show_output``. Ctrl-C here stops the child too."""
    process = subprocess.Popen(
        argv, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    captured: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def copy(stream: Any, name: str) -> None:
        echo = getattr(sys, name) if show_output else None
        for line in stream:
            captured[name].append(line)
            if echo is not None:
                echo.write(line)
                echo.flush()

    readers = [
        threading.Thread(target=copy, args=(process.stdout, "stdout"), daemon=True),
        threading.Thread(target=copy, args=(process.stderr, "stderr"), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        returncode = process.wait()
    except BaseException:  # Ctrl-C in a notebook: stop the command too
        process.terminate()
        process.wait()
        raise
    for reader in readers:
        reader.join()
    return returncode, "".join(captured["stdout"]), "".join(captured["stderr"])


def option_words(options: Mapping[str, Any]) -> list[str]:
    """``max_workers=4`` -> ``--max-workers 4``; True -> the bare flag; a list -> the option repeated."""
    words: list[str] = []
    for key, value in options.items():
        option = "--" + _SPELLED.get(key, key).replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            words.append(option)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                words += [option, str(item)]
        else:
            words += [option, str(value)]
    return words
