"""``python -m tests.metaflow_core [SUITE] [--sample] [--only TEST[xGRAPH]]...``: Metaflow's core
suite on flowc (what ``bash scripts/metaflow-core`` runs).

Runs every case on 2 processes, prints each failure with its reason, each excluded case with its
reason, and as the last line exactly ``N passed, M failed``. A full run (no ``--sample``/``--only``)
also rewrites docs/compatibility.md. Exit 0 when nothing failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.metaflow_core.case import REPO_ROOT, Outcome, run_case
from tests.metaflow_core.report import write_matrix
from tests.metaflow_core.suite import Case, load_cases, load_context

#: What CI runs (``--sample``): the cases that pass on flowc today, one per test and graph family
#: where a test passes on several graphs. CI guards them against regressions while the rest of the
#: matrix is being fixed (a failing case would stop CI before pytest runs); the whole matrix (about
#: 6 minutes on 2 cores, docs/compatibility.md) is `bash scripts/metaflow-core`. Add a case here
#: when it starts passing.
SAMPLE = (
    "BasicArtifactTest x single-and-branch",
    "BasicArtifactTest x nested-foreach",
    "BasicForeachTest x simple-foreach",
    "BranchInSwitchTest x branch_in_switch",
    "ForeachInSwitchTest x foreach_in_switch",
    "MergeArtifactsPropagationTest x small-foreach",
    "NestedForeachTest x nested-foreach",
    "ParameterNameTest x nested-branches",
    "RecursiveSwitchFlowTest x recursive_switch",
    "RecursiveSwitchInsideForeachFlowTest x recursive_switch_inside_foreach",
    "ResumeSucceededStepTest x single-linear-step",
    "RunIdFileTest x single-linear-step",
    "BasicSwitchTest x simple_switch",
    "NestedSwitchTest x nested_switch",
    "SwitchInBranchTest x switch_in_branch",
    "SwitchInForeachTest x switch_in_foreach",
    "WideForeachTest x small-foreach",
    "BasicLogTest x single-linear-step",
    "BasicTagTest x single-and-branch",
    "CatchRetryTest x simple-foreach",
    "CurrentSingletonTest x single-linear-step",
    "LineageTest x nested-branches",
    "MergeArtifactsIncludeTest x single-and-branch",
    "ProjectBranchTest x single-linear-step",
    "ResumeForeachJoinTest x nested-foreach",
    "ResumeOriginPathSpec x single-linear-step",
    "ResumeStartStepTest x single-linear-step",
    "TagMutationTest x small-foreach",
    "TimeoutDecoratorTest x single-linear-step",
    "BasicParameterTest x nested-foreach",
    "ConstantsTest x single-and-branch",
    "SecretsDecoratorTest x simple-foreach",
    "CardDecoratorBasicTest x single-linear-step",
    "CardResumeTest x single-linear-step",
    "LargeMflogTest x small-foreach",
    "BasicConfigTest x single-linear-step",
    "DetectSegFaultTest x single-linear-step",
)


#: Seconds one command of a case may take. Metaflow runs a case in about 9 s here (the suite's
#: README); a case still running after this is stuck or waiting out retry delays (a failure either way).
CASE_COMMAND_TIMEOUT = 180.0


def _run(args: tuple[Case, Path, dict]) -> Outcome:
    case, suite, context = args
    return run_case(case, suite, context, timeout=CASE_COMMAND_TIMEOUT)


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
    selected = cases
    if args.sample:
        selected = [case for case in cases if case.name in SAMPLE]
    if args.only:
        selected = [case for case in selected if any(case.name.startswith(o) for o in args.only)]
    if args.skip:
        selected = [case for case in selected if not any(case.name.startswith(o) for o in args.skip)]
    runnable = [case for case in selected if case.excluded is None]
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for outcome in pool.map(_run, [(case, suite, context) for case in runnable]):
            outcomes.append(outcome)
            if not outcome.passed:
                print(f"FAIL {outcome.case.name}: {outcome.detail}", flush=True)
                if args.verbose:
                    print(outcome.log, flush=True)
    for case in selected:
        if case.excluded is not None:
            print(f"excluded {case.name}: {case.excluded}")
    if selected is cases:
        write_matrix(REPO_ROOT / "docs" / "compatibility.md", cases, outcomes, time.monotonic() - started)
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"({len(outcomes)} cases in {time.monotonic() - started:.0f} s)")
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
