"""``from flowc import Deployer``: deploy a flow to an engine, trigger runs, watch and terminate them
from Python, in the shape of Metaflow's Deployer API (https://docs.metaflow.org/api/deployer).

```python
from flowc import Deployer

deployed = Deployer("flow.py", datastore="s3://bucket/flowc").argo(namespace="flows").create()
triggered = deployed.trigger(alpha=3)
triggered.wait()                      # until the run has ended
print(triggered.status, triggered.run.data.total)
```

As :class:`flowc.Runner`, every call runs the command line in a child process (``flowc deploy``,
``flowc trigger``, ``flowc terminate``), so the CLI stays the one implementation and this module
a thin layer over it. ``Deployer(...)`` keyword arguments go to every command that takes them
(``datastore``, ``image``, ``branch``, ``production``, ``tags``...), the target's to every
command of that target that takes them (``namespace``, ``api_url``, ``dags_folder``,
``operator``, ``max_workers``...); an option no command takes is a TypeError. A run's state is
read from the datastore, as ``flowc status`` reads it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowc.runner_api import option_words, run_command

__all__ = ["DeployedFlow", "Deployer", "DeployerError", "TriggeredRun"]

_SPELLED = {"tags": "tag", "with_": "with", "decospecs": "with"}
#: What ``flowc trigger`` prints with the run id on each target (``... run id argo-x``,
#: ``run id sfn-x``, ``flowc run id: airflow-x``).
_RUN_ID = re.compile(r"run id:? (\S+)")
#: Run states after which nothing changes any more.
FINISHED = ("successful", "failed", "killed")


class DeployerError(RuntimeError):
    """A command failed: its message is the command's stderr (one line, as flowc prints errors)."""


class Deployer:
    """The flow ``flow_file``, to deploy on a target: ``.argo()``, ``.sfn()`` or ``.airflow()``.

    Args:
        flow_file: the flow's file (relative to ``cwd`` when given, else to this process's).
        show_output: also print the commands' output here as it comes.
        env: environment variables added to this process's for the commands.
        cwd: the commands' working directory (configuration is read from there upwards).
        **options: options of every command, e.g. ``datastore="s3://b/p"``, ``tags=["nightly"]``.
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

    def argo(self, **options: Any) -> DeployedFlow:
        """Argo Workflows (``namespace=...``, ``max_workers=...``)."""
        return DeployedFlow(self, "argo", options)

    def sfn(self, **options: Any) -> DeployedFlow:
        """AWS Step Functions."""
        return DeployedFlow(self, "sfn", options)

    def airflow(self, **options: Any) -> DeployedFlow:
        """Apache Airflow (``api_url=...``, ``dags_folder=...``, ``operator=...``)."""
        return DeployedFlow(self, "airflow", options)


class DeployedFlow:
    """The flow on one target: :meth:`create` deploys it, :meth:`trigger` starts a run."""

    def __init__(self, deployer: Deployer, target: str, options: Mapping[str, Any]) -> None:
        self.deployer = deployer
        self.target = target
        self.options = {**deployer.options, **options}
        from flowc.frontend import build_ir

        self.flow_name = build_ir(deployer.flow_file).name
        self._check_options()

    def create(self, **options: Any) -> DeployedFlow:
        """``flowc deploy``: uploads the code package and creates or updates the deployment.

        Raises:
            DeployerError: the deploy failed (the message says why).
        """
        code, _, err = self._command("deploy", [self.deployer.flow_file], options)
        if code != 0:
            raise DeployerError(_last_line(err) or f"flowc deploy exited with {code}")
        return self

    def trigger(self, **kwargs: Any) -> TriggeredRun:
        """``flowc trigger``: starts a run with the flow's parameters (``alpha=3``; values travel
        typed, through a parameters file) and command options (``tags=[...]``).

        Raises:
            DeployerError: the engine refused the run (a missing parameter, nothing deployed).
        """
        known = self._known("trigger")
        options = {k: v for k, v in kwargs.items() if _option(k) in known}
        parameters = {k: v for k, v in kwargs.items() if k not in options}
        words = [self.deployer.flow_file]
        with tempfile.TemporaryDirectory(prefix="flowc-deployer-") as folder:
            if parameters:
                params_file = Path(folder) / "params.json"
                params_file.write_text(json.dumps(parameters), encoding="utf-8")
                words += ["--params-file", str(params_file)]
            code, out, err = self._command("trigger", words, options)
        run_ids = [found for found in _RUN_ID.findall(out) if _started_by(found) == self.target]
        if code != 0 or not run_ids:
            raise DeployerError(_last_line(err) or f"flowc trigger exited with {code}")
        return TriggeredRun(self, run_ids[0])

    # ---- commands ------------------------------------------------------------------------
    def _known(self, command: str) -> frozenset[str]:
        from flowc.cli import command_options

        return command_options([command, "--target", self.target])

    def _check_options(self) -> None:
        every = set().union(*(self._known(c) for c in ("deploy", "trigger", "terminate", "runs")))
        unknown = sorted(k for k in self.options if _option(k) not in every)
        if unknown:
            raise TypeError(f"no flowc command on {self.target} takes option(s) {', '.join(unknown)}")

    def _command(
        self, command: str, words: list[str], extra: Mapping[str, Any] | None = None
    ) -> tuple[int, str, str]:
        known = self._known(command)
        given = {**self.options, **(extra or {})}
        unknown = sorted(k for k in (extra or {}) if _option(k) not in known)
        if unknown:
            raise TypeError(f"flowc {command} --target {self.target} takes no option(s) {', '.join(unknown)}")
        chosen = {_SPELLED.get(k, k): v for k, v in given.items() if _option(k) in known}
        argv = [
            sys.executable,
            "-m",
            "flowc",
            command,
            *words,
            "--target",
            self.target,
            *option_words(chosen),
        ]
        return run_command(argv, self.deployer.cwd, self.deployer.env, self.deployer.show_output)


class TriggeredRun:
    """A run :meth:`DeployedFlow.trigger` started: ``run_id``, ``status``, ``run``, :meth:`wait`,
    :meth:`terminate`."""

    def __init__(self, deployed: DeployedFlow, run_id: str) -> None:
        self.deployed = deployed
        self.run_id = run_id
        self.pathspec = f"{deployed.flow_name}/{run_id}"

    @property
    def run(self) -> Any:
        """The client :class:`~flowc.client.Run`, or None until the run's start task recorded it."""
        from flowc.client import MetaflowNotFound, Run

        try:
            return Run(self.pathspec, datastore=self._datastore(), _namespace_check=False)
        except MetaflowNotFound:
            return None

    @property
    def status(self) -> str:
        """``pending`` (not recorded yet), ``running``, ``successful``, ``failed`` or ``killed``."""
        run = self.run
        if run is None:
            return "pending"
        if run.successful:
            return "successful"
        return str(run.status.get("status") or "running")

    def wait(self, timeout: float | None = None, poll_seconds: float = 2.0) -> TriggeredRun:
        """Returns once the run has ended (TimeoutError after ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status not in FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {self.pathspec} has not ended after {timeout} s")
            time.sleep(poll_seconds)
        return self

    def terminate(self) -> bool:
        """``flowc terminate``: stops the run on its engine; False if the engine refused (ended)."""
        code, _, _ = self.deployed._command("terminate", [self.pathspec])
        return code == 0

    def _datastore(self) -> str:
        from flowc.config import load_settings

        deployer = self.deployed.deployer
        given = self.deployed.options.get("datastore")
        url = str(load_settings({"datastore": given}, start=deployer.cwd, environ=deployer.env)["datastore"])
        return url if url.startswith("s3://") else str((deployer.cwd / url).resolve())

    def __repr__(self) -> str:
        return f"TriggeredRun({self.pathspec!r})"


def _option(key: str) -> str:
    return "--" + _SPELLED.get(key, key).replace("_", "-")


def _started_by(run_id: str) -> str | None:
    from flowc.backends import target_of_run

    return target_of_run(run_id)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
