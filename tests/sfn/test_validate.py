"""Every compiled definition passes npm's asl-validator and moto's parser (create_state_machine)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.sfn.compiling import GOLDEN_DIR, compile_flow, flow_files, golden_settings
from tests.sfn.engine import ROLE_ARN, SfnEngine

VALIDATOR = Path(__file__).parent / "node_modules" / ".bin" / "asl-validator"
needs_validator = pytest.mark.skipif(
    not VALIDATOR.exists(), reason="npm's asl-validator is not installed (scripts/setup installs it)"
)


def _validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    command = [str(VALIDATOR)]
    for path in paths:
        command += ["--json-path", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@needs_validator
def test_asl_validator_accepts_every_definition(tmp_path: Path) -> None:
    paths = sorted(GOLDEN_DIR.glob("*.asl.json"))
    # The distributed copy too: a low threshold changes no structure, but check it anyway.
    wide = tmp_path / "wide_distributed.asl.json"
    wide.write_text(
        compile_flow(
            next(p for p in flow_files() if p.stem == "wide_foreach_flow"),
            golden_settings(**{"sfn.distributed_map_threshold": 5}),
        )
    )
    result = _validate([*paths, wide])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("is valid") == len(paths) + 1


@needs_validator
def test_asl_validator_catches_a_dangling_next(tmp_path: Path) -> None:
    definition = json.loads((GOLDEN_DIR / "linear_flow.asl.json").read_text())
    definition["States"]["start"]["Next"] = "nowhere"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    assert _validate([broken]).returncode != 0


def test_moto_parser_accepts_every_definition(sfn_env: SfnEngine) -> None:
    sfn = sfn_env.client("stepfunctions")
    for index, path in enumerate(sorted(GOLDEN_DIR.glob("*.asl.json"))):
        created = sfn.create_state_machine(
            name=f"parse-{index}-{path.stem[:40]}", definition=path.read_text(), roleArn=ROLE_ARN
        )
        assert created["stateMachineArn"]


def test_moto_parser_rejects_an_unknown_state_type(sfn_env: SfnEngine) -> None:
    definition = json.loads((GOLDEN_DIR / "linear_flow.asl.json").read_text())
    definition["States"]["start"]["Type"] = "Tusk"
    sfn = sfn_env.client("stepfunctions")
    with pytest.raises(ClientError, match="ASLParserException"):
        sfn.create_state_machine(name="broken", definition=json.dumps(definition), roleArn=ROLE_ARN)


def test_every_definition_passes_the_compile_time_graph_check() -> None:
    """``build_definition`` runs :mod:`flowc.backends.sfn.validate` on every definition it makes
    (the goldens compiled); the goldens themselves pass it."""
    from flowc.backends.sfn.validate import definition_problems

    for path in sorted(GOLDEN_DIR.glob("*.asl.json")):
        assert definition_problems(json.loads(path.read_text())) == [], path.name


def _break_next(states: dict) -> None:
    states["start"]["Next"] = "nowhere"


def _break_end(states: dict) -> None:
    states["start"]["End"] = True


def _break_reachability(states: dict) -> None:
    states["orphan"] = {"Type": "Pass", "End": True}


def _break_name(states: dict) -> None:
    states["x" * 81] = states.pop("orphan", {"Type": "Pass", "End": True})


def _break_type(states: dict) -> None:
    states["start"]["Type"] = "Tusk"


@pytest.mark.parametrize(
    ("breaks", "problem"),
    [
        (_break_next, "state 'start': goes to 'nowhere', which is not a state of its block"),
        (_break_end, "state 'start': needs exactly one of Next and End"),
        (_break_reachability, "the definition: state(s) no path from StartAt reaches: 'orphan'"),
        (_break_name, "is longer than 80 characters"),
        (_break_type, "state 'start': unknown Type 'Tusk'"),
    ],
)
def test_the_compile_time_graph_check_finds_what_the_engine_rejects(breaks, problem: str) -> None:
    from flowc.backends.generated import GeneratedFileError, check_document
    from flowc.backends.sfn.validate import definition_problems

    definition = json.loads((GOLDEN_DIR / "linear_flow.asl.json").read_text())
    breaks(definition["States"])
    problems = definition_problems(definition)
    assert any(problem in p for p in problems), problems
    with pytest.raises(GeneratedFileError, match=r"generated-document-invalid") as raised:
        check_document("LinearFlow.asl.json", problems)
    assert "\n" not in str(raised.value) and "this is a flowc bug" in str(raised.value)


def test_a_state_inside_a_map_is_checked_in_its_own_block() -> None:
    from flowc.backends.sfn.validate import definition_problems

    definition = json.loads((GOLDEN_DIR / "foreach_flow.asl.json").read_text())
    maps = [s for s in definition["States"].values() if s["Type"] == "Map"]
    processor = maps[0]["ItemProcessor"]
    first = processor["StartAt"]
    processor["States"][first]["Next"] = "start"  # a top-level state: not in the Map's block
    processor["States"][first].pop("End", None)
    assert any("'start', which is not a state of its block" in p for p in definition_problems(definition))
