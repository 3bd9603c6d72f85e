"""``python -m tests.metaflow_core [SUITE] [--sample] [--only TEST[xGRAPH]]...``: Metaflow's core
suite on flowc (what ``bash scripts/metaflow-core`` runs).

Runs every case on 2 processes, prints each failure with its reason, each excluded case with its
reason, and as the last line exactly ``N passed, M failed`` (each case counted once per executor
of the context: ``cli`` and ``api``). A full run (no ``--sample``/``--only``)
also rewrites docs/compatibility.md. Exit 0 when nothing failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.metaflow_core.case import EXECUTORS, REPO_ROOT, Outcome, run_case
from tests.metaflow_core.report import write_matrix
from tests.metaflow_core.suite import Case, load_cases, load_context

#: What CI runs (``--sample``): one or two cases per test family (artifacts, foreach, switches,
#: merge_artifacts, parameters, configs, resume, logs, tags, catch/retry, timeouts, current, project
#: branches, lineage, cards, secrets, crashes) and both executors, each family through at least one
#: of them and most resume cases through ``api`` (its ``Runner.resume``). About 75 s of CPU in all
#: (well under 2 minutes on a quiet 2-core machine); the whole matrix (both executors) is
#: ``bash scripts/metaflow-core``.
SAMPLE = (
    "BasicArtifactTest x single-and-branch [cli]",
    "BasicArtifactTest x nested-foreach [api]",
    "NestedForeachTest x nested-foreach [cli]",
    "WideForeachTest x small-foreach [api]",
    "BranchInSwitchTest x branch_in_switch [cli]",
    "RecursiveSwitchInsideForeachFlowTest x recursive_switch_inside_foreach [api]",
    "SwitchInForeachTest x switch_in_foreach [cli]",
    "MergeArtifactsIncludeTest x single-and-branch [api]",
    "BasicParameterTest x nested-foreach [cli]",
    "BasicConfigTest x single-linear-step [api]",
    "ResumeForeachJoinTest x nested-foreach [cli]",
    "ResumeStartStepTest x single-linear-step [api]",
    "ResumeOriginPathSpec x single-linear-step [api]",
    "RunIdFileTest x single-linear-step [api]",
    "LargeMflogTest x small-foreach [cli]",
    "BasicTagTest x single-and-branch [api]",
    "TagMutationTest x small-foreach [cli]",
    "CatchRetryTest x simple-foreach [cli]",
    "TimeoutDecoratorTest x single-linear-step [api]",
    "CurrentSingletonTest x single-linear-step [cli]",
    "ProjectBranchTest x single-linear-step [api]",
    "LineageTest x nested-branches [cli]",
    "CardResumeTest x single-linear-step [api]",
    "SecretsDecoratorTest x simple-foreach [cli]",
    "DetectSegFaultTest x single-linear-step [cli]",
)


#: Seconds one command of a case may take. Metaflow runs a case in about 9 s here (the suite's
#: README); a case still running after this is stuck or waiting out retry delays (a failure either way).
CASE_COMMAND_TIMEOUT = 180.0


def _run(args: tuple[Case, str, Path, dict]) -> Outcome:
    case, executor, suite, context = args
    return run_case(case, suite, context, executor, timeout=CASE_COMMAND_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/metaflow-core", description=__doc__.splitlines()[0])
    parser.add_argument(
        "suite",
        nargs="?",
        default=str(REPO_ROOT.parent / "shared" / "metaflow-core"),
        help="Metaflow's test/core folder (default: ../shared/metaflow-core)",
    )
    parser.add_argument("--sample", action="store_true", help="only the fixed sample CI runs")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CASE",
        help="only cases whose 'Test x graph' name starts with this (repeatable)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="CASE",
        help="leave out cases whose name starts with this (repeatable; no matrix written)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--verbose", action="store_true", help="print each failure's commands and output")
    args = parser.parse_args(argv)
    suite = Path(args.suite).resolve()
    if not (suite / "metaflow_test" / "formatter.py").is_file():
        print(f"scripts/metaflow-core: {suite} is not Metaflow's test/core folder", file=sys.stderr)
        return 2
    context = load_context(suite)
    cases = load_cases(suite)
    executors = [executor for executor in EXECUTORS if executor in context["executors"]]

    def chosen(name: str) -> bool:
        return (
            (not args.sample or name in SAMPLE)
            and (not args.only or any(name.startswith(o) for o in args.only))
            and not any(name.startswith(o) for o in args.skip)
        )

    # Every case once per executor; "Test x graph [executor]" is what --only/--skip/SAMPLE match.
    runs = [(c, e) for c in cases for e in executors if c.excluded is None and chosen(f"{c.name} [{e}]")]
    full = not (args.sample or args.only or args.skip)
    selected = cases if full else [c for c in cases if any(chosen(f"{c.name} [{e}]") for e in executors)]
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for outcome in pool.map(_run, [(case, executor, suite, context) for case, executor in runs]):
            outcomes.append(outcome)
            if not outcome.passed:
                print(f"FAIL {outcome.name}: {outcome.detail}", flush=True)
                if args.verbose:
                    print(outcome.log, flush=True)
    for case in selected:
        if case.excluded is not None:
            print(f"excluded {case.name}: {case.excluded}")
    if full:
        write_matrix(
            REPO_ROOT / "docs" / "compatibility.md", cases, executors, outcomes, time.monotonic() - started
        )
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"({len(outcomes)} cases in {time.monotonic() - started:.0f} s)")
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
