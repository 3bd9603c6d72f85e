"""The conformance matrix: flow shapes x behaviours x targets (Metaflow's ``test/core`` idea).

* :data:`CASES`: one case per shape (artifacts) and per behaviour (parameters, retry, catch,
  timeout), each a flow in ``tests/conformance/flows/`` with its parameters, the outcome it must
  have, and a few artifact values checked on every target (so the reference is itself checked).
* :data:`TARGETS`: each target column, how it executes a flow here, and which behaviours it
  disables (with the reason). Resume is a property of the local runtime only.
* :func:`local_reference`: runs a case with ``flowc run`` against a fresh datastore and returns
  every artifact (see :mod:`tests.conformance.artifacts`) for a target column to compare with.

A target column (``tests/conformance/test_<target>.py``) loops over ``cases_for(target)``, runs
each on its engine, and calls ``assert_same_artifacts(local_reference(...), collect_artifacts(...))``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BEHAVIOURS",
    "CASES",
    "FLOWS_DIR",
    "SHAPES",
    "TARGETS",
    "Case",
    "Target",
    "cases_for",
    "local_reference",
    "run_local",
]

FLOWS_DIR = Path(__file__).parent / "flows"
REPO_ROOT = Path(__file__).resolve().parents[2]

SHAPES = (
    "linear",
    "branch",
    "foreach",
    "nested_foreach",
    "foreach_in_branch",
    "branch_in_foreach",
    "switch",
    "switch_into_join",
    "switch_into_foreach_join",
    "nested_switch_into_join",
    "loop",
    "loop_in_foreach",
    "loop_exits",
    "converging_switch",
    "wide_foreach",
)
BEHAVIOURS = (
    "artifacts",
    "parameters",
    "retry",
    "catch",
    "timeout",
    "resume",
    "project",
    "cards",
    "configs",
    "exit_hooks",
)

#: The parameters flow's text: quotes, shell syntax, a newline and non-ASCII must arrive unchanged.
AWKWARD_TEXT = 'it\'s "quoted" $(echo no) `no` ; & | \\ \n second line: é ✓ 🚀'
#: Megabytes of JSON (and a long awkward text) must reach the step unchanged too: no argv, shell,
#: execution input or orchestrator field may cap or mangle them.
LARGE_CONFIG = {
    "rows": [{"id": i, "label": AWKWARD_TEXT, "{{workflow.name}}": "${HOME} %s"} for i in range(12_000)]
}
LARGE_TEXT = AWKWARD_TEXT * 6_000
#: Values longer than this go to ``flowc run`` in a ``--params-file`` (one argv word is capped at
#: 128 KiB on Linux).
_ARGV_VALUE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Case:
    """One row of the matrix.

    Attributes:
        name: the row's id (a shape or a behaviour).
        flow_file: file in ``tests/conformance/flows/``.
        flow_name: the FlowSpec class name.
        behaviour: what the row exercises (``artifacts`` for the plain shapes).
        parameters: ``--name value`` pairs given at run / trigger time (strings, as typed).
        succeeds: whether the run must succeed.
        checks: ``{(step, artifact): value}`` that every target must produce (in the step's tasks
            outside any foreach: the task id ``end``, or ``end.<iteration>`` after a loop).
        failed_step: for a run that must fail, the step that fails.
        settings: configuration every target compiles (and deploys) the flow with; the local run
            gets the same through its options (``project.branch`` is ``--branch``).
    """

    name: str
    flow_file: str
    flow_name: str
    behaviour: str = "artifacts"
    parameters: Mapping[str, str] = field(default_factory=dict)
    succeeds: bool = True
    checks: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    failed_step: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return FLOWS_DIR / self.flow_file

    def argv(self, scratch: Path) -> list[str]:
        """The parameters as command-line words: ``["--name", "value", ...]``; large values in a
        ``--params-file`` written under ``scratch``."""
        words: list[str] = []
        large: dict[str, str] = {}
        for name, value in self.parameters.items():
            if len(value.encode("utf-8")) > _ARGV_VALUE_BYTES:
                large[name] = value
            else:
                words += [f"--{name}", value]
        for key, value in self.settings.items():
            words += {"project.branch": ["--branch", str(value)], "project.production": ["--production"]}[key]
        if large:
            scratch.mkdir(parents=True, exist_ok=True)
            params_file = scratch / f"{self.name}-{os.getpid()}.params.json"
            params_file.write_text(json.dumps(large, ensure_ascii=False), encoding="utf-8")
            words += ["--params-file", str(params_file)]
        return words


CASES: tuple[Case, ...] = (
    Case(
        "linear",
        "linear_flow.py",
        "LinearFlow",
        checks={("end", "message"): "hello 6", ("end", "SEPARATOR"): " "},  # a class constant, too
    ),
    Case("branch", "branch_flow.py", "BranchFlow", checks={("end", "result"): 33}),
    Case(
        "foreach",
        "foreach_flow.py",
        "ForeachFlow",
        checks={("join", "labels"): ["0:A", "1:B", "2:C", "3:D"], ("end", "count"): 4},
    ),
    Case(
        "nested_foreach",
        "nested_foreach_flow.py",
        "NestedForeachFlow",
        checks={("join_rows", "all_cells"): ["1x", "1y", "1z", "2x", "2y", "2z"], ("end", "n"): 6},
    ),
    Case(
        "foreach_in_branch",
        "foreach_in_branch_flow.py",
        "ForeachInBranchFlow",
        checks={("join", "total"): 14},
    ),
    Case(
        "branch_in_foreach",
        "branch_in_foreach_flow.py",
        "BranchInForeachFlow",
        checks={("outer_join", "summaries"): [(2, "ba"), (3, "edc")]},
    ),
    Case(
        "switch",
        "switch_flow.py",
        "SwitchFlow",
        parameters={"mode": "low"},
        checks={("after", "summary"): "picked low"},
    ),
    Case(
        "switch_into_join",
        "switch_into_join_flow.py",
        "SwitchIntoJoinFlow",
        parameters={"route": "d"},
        checks={("join", "results"): ["d10", "plain10"], ("join", "count"): 2},
    ),
    Case(
        "switch_into_join_direct",
        "switch_into_join_flow.py",
        "SwitchIntoJoinFlow",
        parameters={"route": "skip"},
        checks={("join", "results"): ["pick10", "plain10"], ("join", "count"): 2},
    ),
    Case(
        "nested_switch_into_join",
        "nested_switch_into_join_flow.py",
        "NestedSwitchIntoJoinFlow",
        checks={("outer_join", "pairs"): [["right2-a", "x-a"], ["inner-b", "right2-b"], ["right2-c", "z-c"]]},
    ),
    Case(
        "switch_into_foreach_join",
        "switch_into_foreach_join_flow.py",
        "SwitchIntoForeachJoinFlow",
        checks={("join", "results"): ["A2", "B1.0", "skipped3", "A8"]},
    ),
    Case("loop", "loop_flow.py", "LoopFlow", parameters={"rounds": "3"}, checks={("end", "final"): 3}),
    # A loop in each index of a foreach (each index its own number of rounds), then a loop before a
    # static split: iterations inside a foreach body, and joins after a loop.
    Case(
        "loop_in_foreach",
        "loop_in_foreach_flow.py",
        "LoopInForeachFlow",
        checks={("join", "counts"): [1, 3], ("merge", "sides"): ["l", "r"], ("end", "rounds"): 2},
    ),
    # A loop with three ways out of its switch: back, on into a foreach, or on to the end.
    Case(
        "loop_exits",
        "loop_exits_flow.py",
        "LoopExitsFlow",
        parameters={"limit": "2"},
        checks={("end", "summary"): "finished after 2 rounds: [2, 4]"},
    ),
    Case(
        "loop_exits_cleanup",
        "loop_exits_flow.py",
        "LoopExitsFlow",
        parameters={"limit": "6"},
        checks={("end", "summary"): "cleaned after 6 rounds: []"},
    ),
    # A switch case target also reached linearly from the other case, and a switch inside a branch.
    Case(
        "converging_switch",
        "converging_switch_flow.py",
        "ConvergingSwitchFlow",
        parameters={"mode": "direct"},
        checks={("join", "results"): ["A", "plain"]},
    ),
    Case(
        "converging_switch_detour",
        "converging_switch_flow.py",
        "ConvergingSwitchFlow",
        parameters={"mode": "detour"},
        checks={("join", "results"): ["B", "plain"]},
    ),
    # A foreach over nothing fails at the foreach step on every target (Airflow would skip the
    # mapped task and everything after it, and succeed having run nothing).
    Case("empty_foreach", "empty_foreach_flow.py", "EmptyForeachFlow", succeeds=False, failed_step="start"),
    Case(
        "wide_foreach",
        "wide_foreach_flow.py",
        "WideForeachFlow",
        parameters={"width": "60"},
        checks={("join", "total"): 3540},
    ),
    Case(
        "parameters",
        "parameters_flow.py",
        "ParametersFlow",
        behaviour="parameters",
        parameters={
            "text": AWKWARD_TEXT,
            "count": "7",
            "ratio": "0.25",
            "enabled": "True",
            "config": '{"a": [1, {"b": null}]}',
        },
        checks={
            ("end", "echo"): {
                "text": AWKWARD_TEXT,
                "count": 7,
                "ratio": 0.25,
                "enabled": True,
                "config": {"a": [1, {"b": None}]},
            },
            ("start", "seen_text"): AWKWARD_TEXT,
        },
    ),
    Case(
        "large_parameters",
        "parameters_flow.py",
        "ParametersFlow",
        behaviour="parameters",
        parameters={"text": LARGE_TEXT, "config": json.dumps(LARGE_CONFIG, ensure_ascii=False)},
        checks={
            ("end", "echo"): {
                "text": LARGE_TEXT,
                "count": 2,
                "ratio": 0.5,
                "enabled": False,
                "config": LARGE_CONFIG,
            },
        },
    ),
    Case("retry", "retry_flow.py", "RetryFlow", behaviour="retry", checks={("flaky", "attempts_needed"): 2}),
    Case(
        "catch",
        "catch_flow.py",
        "CatchFlow",
        behaviour="catch",
        checks={
            ("end", "failure_type"): "builtins.ValueError",
            ("end", "failure_text"): "broken on purpose",
            ("end", "failure_printed"): "ValueError: broken on purpose",
            ("end", "failure_in_step"): True,
        },
    ),
    Case(
        "timeout", "timeout_flow.py", "TimeoutFlow", behaviour="timeout", succeeds=False, failed_step="slow"
    ),
    Case(
        "task_ids",
        "task_ids_flow.py",
        "TaskIdsFlow",
        behaviour="task_ids",
        checks={("end", "count"): 12, ("end", "unique"): True},
    ),
    Case(
        "callable_default",
        "callable_default_flow.py",
        "CallableDefaultFlow",
        behaviour="callable_default",
        checks={("start", "seen"): ("CallableDefaultFlow:label", 19)},
    ),
    Case(
        "configs",
        "config_flow.py",
        "ConfigFlow",
        behaviour="configs",
        checks={
            ("start", "seen"): {"greeting": "HELLO", "colour": "blue", "rows": 3, "size": "large"},
            ("start", "immutable"): True,
            ("end", "shape"): "round",
            ("end", "extra"): {"size": "large", "shape": "round"},
        },
    ),
    Case(
        "include_default",
        "include_default_flow.py",
        "IncludeDefaultFlow",
        behaviour="include_default",
        checks={("start", "rows"): [["alpha", "1"], ["beta", "2"]]},
    ),
    Case(
        "client",
        "client_flow.py",
        "ClientFlow",
        behaviour="client",
        checks={("end", "seen"): 42, ("end", "listed"): True, ("end", "own_namespace"): True},
    ),
    Case(
        "cards",
        "card_flow.py",
        "CardFlow",
        behaviour="cards",
        checks={
            ("end", "cards"): [
                ["broken_card", None, "error"],
                ["blank", "report", "ok"],
                ["default", None, "ok"],
            ],
            ("end", "report_has_rows"): True,
            ("end", "report_has_chart"): True,
            ("end", "default_has_components"): True,
        },
    ),
    # A hook that raises is logged and leaves the run successful on every target.
    Case("exit_hooks", "exit_hook_flow.py", "ExitHookFlow", behaviour="exit_hooks"),
    Case(
        "project",
        "project_flow.py",
        "ProjectFlow",
        behaviour="project",
        settings={"project.branch": "conformance"},
        checks={
            ("start", "facts"): {
                "project_name": "shop",
                "branch_name": "test.conformance",
                "is_production": False,
                "project_flow_name": "shop.test.conformance.ProjectFlow",
            }
        },
    ),
)


@dataclass(frozen=True)
class Target:
    """A column of the matrix.

    Attributes:
        name: the target (``local``, ``argo``, ``sfn``, ``airflow``).
        executor: what runs the compiled flow on this machine.
        disables: behaviour or case name -> why this column does not run it.
    """

    name: str
    executor: str
    disables: Mapping[str, str] = field(default_factory=dict)


TARGETS: Mapping[str, Target] = {
    "local": Target(
        "local", "flowc run: the local runtime's fork executor (subprocess executor in test_local.py too)"
    ),
    "argo": Target(
        "argo",
        "compiled YAML validated against Argo's JSON schema, then executed by the project's Argo DAG "
        "interpreter (no Argo engine can run here: see ../shared/ENGINES.md)",
        disables={"resume": "resume is a local-runtime command"},
    ),
    "sfn": Target(
        "sfn",
        "moto server's Step Functions interpreter executing the compiled state machine",
        disables={"resume": "resume is a local-runtime command"},
    ),
    "airflow": Target(
        "airflow",
        "real Airflow 3: dag.test() on the compiled DAG file",
        disables={"resume": "resume is a local-runtime command"},
    ),
}


def cases_for(target: str) -> list[Case]:
    """The cases a target column runs (every case its target does not disable)."""
    disabled = TARGETS[target].disables
    return [case for case in CASES if case.name not in disabled and case.behaviour not in disabled]


def case(name: str) -> Case:
    """The case called ``name``."""
    for candidate in CASES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def run_local(
    case_: Case, datastore: Path, extra: list[str] | None = None, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], str | None]:
    """Runs a case with ``flowc run`` in a child process; returns (the process, the run id)."""
    run_id_file = datastore.parent / f"{case_.name}-{os.getpid()}.run_id"
    run_id_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "flowc",
        "run",
        str(case_.path),
        "--datastore",
        str(datastore),
        "--run-id-file",
        str(run_id_file),
        *case_.argv(datastore.parent),
        *(extra or []),
    ]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    child_env.update(env or {})
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")]))
    result = subprocess.run(command, capture_output=True, text=True, env=child_env, timeout=300, check=False)
    run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
    return result, run_id


def local_reference(name: str, workdir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every artifact of a local run of case ``name`` (in a fresh datastore under ``workdir``)."""
    from tests.conformance.artifacts import collect_artifacts

    case_ = case(name)
    datastore = workdir / f"local-{name}"
    result, run_id = run_local(case_, datastore)
    if case_.succeeds and result.returncode != 0:
        raise AssertionError(f"local reference run of {name} failed:\n{result.stdout}\n{result.stderr}")
    if run_id is None:
        raise AssertionError(f"local reference run of {name} wrote no run id:\n{result.stderr}")
    return collect_artifacts(str(datastore), case_.flow_name, run_id)
