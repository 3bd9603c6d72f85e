"""Tag updates from many processes at once all land (one immutable object per update, merged on
read), on a local datastore and on S3; ``flowc tag`` as a user types it sees them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowc import metadata
from flowc.client import Run
from flowc.datastore.storage import open_storage

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITERS = 6
TAGS_EACH = 4

#: One writer: waits for the go file (so all writers update at once), then adds its tags one by
#: one and removes its share of the run's starting tags, through the client as a user would.
_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from flowc.client import Run
    root, pathspec, go, me = sys.argv[1:5]
    while not os.path.exists(go):
        time.sleep(0.01)
    run = Run(pathspec, datastore=root, _namespace_check=False)
    for i in range(int(sys.argv[5])):
        run.add_tag(f"w{me}-{i}")
    run.remove_tag(f"old-{me}")
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def _concurrent_updates(root: str, tmp_path: Path) -> tuple[str, frozenset[str]]:
    storage = open_storage(root)
    run_id, _ = metadata.claim_run(
        storage, "TagFlow", tags=[f"old-{n}" for n in range(WRITERS)] + ["kept"], system_tags=["runtime:x"]
    )
    pathspec = f"TagFlow/{run_id}"
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, root, pathspec, str(go), str(n), str(TAGS_EACH)],
            env=_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    return pathspec, Run(pathspec, datastore=root, _namespace_check=False).user_tags


def _expected() -> set[str]:
    return {f"w{n}-{i}" for n in range(WRITERS) for i in range(TAGS_EACH)} | {"kept"}


def test_concurrent_tag_updates_on_a_local_datastore_lose_nothing(tmp_path: Path) -> None:
    root = str(tmp_path / "ds")
    pathspec, tags = _concurrent_updates(root, tmp_path)
    assert tags == _expected()
    listed = subprocess.run(
        [sys.executable, "-m", "flowc", "tag", "list", "--run-id", pathspec, "--datastore", root],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    lines = set(listed.stderr.splitlines()[1:])
    assert _expected() <= lines and {"runtime:x", "user:" + metadata.current_user()} <= lines


@pytest.mark.slow
def test_concurrent_tag_updates_on_s3_lose_nothing(s3_root: str, tmp_path: Path) -> None:
    _, tags = _concurrent_updates(s3_root, tmp_path)
    assert tags == _expected()


def test_updates_apply_in_order_and_a_removed_tag_can_come_back(tmp_path: Path) -> None:
    root = str(tmp_path / "ds")
    run_id, _ = metadata.claim_run(open_storage(root), "TagFlow", tags=["a"])
    run = Run(f"TagFlow/{run_id}", datastore=root, _namespace_check=False)
    run.remove_tag("a")
    run.add_tag("a")
    run.replace_tag("a", "b")
    run.add_tag("a")
    assert Run(f"TagFlow/{run_id}", datastore=root, _namespace_check=False).user_tags == {"a", "b"}
    # run.json itself is never rewritten: the run's first record keeps its first tags.
    assert metadata.read_json(open_storage(root), f"runs/TagFlow/{run_id}/run.json")["tags"] == ["a"]
    assert [step.id for step in run] == []  # the updates' folder is not a step
