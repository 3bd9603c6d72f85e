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
