"""The UI's JSON API (docs/ui.md) over a datastore written by ``flowc run``, without a browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient

from flowc.ui.app import create_app
from tests.ui.conftest import FLOW_NAME, UiRuns


@pytest.fixture
def client(ui_datastore: UiRuns, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("FLOWC_TEST_MARKER_DIR", ui_datastore.marker_dir)
    return TestClient(create_app(ui_datastore.root))


def _run(ui: UiRuns, label: str) -> str:
    return f"/api/flows/{FLOW_NAME}/runs/{ui.runs[label]}"


def test_flows_list_the_flow_and_its_runs(client: TestClient) -> None:
    answer = client.get("/api/flows").json()
    assert answer["flows"] == [{"name": FLOW_NAME, "runs": 2}]


def test_runs_newest_first_with_engine_status_tags_and_user(client: TestClient, ui_datastore: UiRuns) -> None:
    runs = client.get(f"/api/flows/{FLOW_NAME}/runs").json()
    assert runs["total"] == 2
    assert [r["id"] for r in runs["runs"]] == [ui_datastore.runs["failed"], ui_datastore.runs["local"]]
    ok = runs["runs"][1]
    assert (ok["engine"], ok["status"], ok["tags"]) == ("local", "successful", ["nightly"])
    assert ok["user"] and ok["start"] and ok["duration"] > 0
    assert runs["runs"][0]["status"] == "failed"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("status=successful", ["local"]),
        ("tag=nightly", ["local"]),
        ("engine=local", ["failed", "local"]),
        ("engine=argo", []),
        ("limit=1", ["failed"]),
        ("limit=1&offset=1", ["local"]),
    ],
)
def test_runs_filter_and_page(
    client: TestClient, ui_datastore: UiRuns, query: str, expected: list[str]
) -> None:
    runs = client.get(f"/api/flows/{FLOW_NAME}/runs?{query}").json()["runs"]
    assert [r["id"] for r in runs] == [ui_datastore.runs[label] for label in expected]


def test_run_has_steps_with_counts_and_a_graph_from_the_ir(client: TestClient, ui_datastore: UiRuns) -> None:
    run = client.get(_run(ui_datastore, "local")).json()
    assert [s["name"] for s in run["steps"]] == ["start", "square", "join", "end"]
    square = next(s for s in run["steps"] if s["name"] == "square")
    assert square == {"name": "square", "status": "successful", "counts": {"successful": 3}}
    assert run["graph_error"] is None
    assert run["graph_svg"].startswith("<svg") and 'data-step="square"' in run["graph_svg"]
    assert "3/3 tasks" in run["graph_svg"]


def test_failed_run_colours_the_failed_step(client: TestClient, ui_datastore: UiRuns) -> None:
    run = client.get(_run(ui_datastore, "failed")).json()
    square = next(s for s in run["steps"] if s["name"] == "square")
    assert square["status"] == "failed" and square["counts"].get("failed") == 1
    assert 'class="step failed" data-step="square"' in run["graph_svg"]
    assert next(s for s in run["steps"] if s["name"] == "end")["status"] == "not-started"


def test_tasks_are_paged_in_flow_order_and_filtered(client: TestClient, ui_datastore: UiRuns) -> None:
    base = _run(ui_datastore, "local") + "/tasks"
    page = client.get(base + "?limit=2&offset=1").json()
    assert page["total"] == 6
    listed = [(t["step"], t["task_id"]) for t in page["tasks"]]
    assert listed == [("square", "square-0"), ("square", "square-1")]
    only = client.get(base + "?step=square").json()
    assert [t["task_id"] for t in only["tasks"]] == ["square-0", "square-1", "square-2"]
    failed = client.get(_run(ui_datastore, "failed") + "/tasks?status=failed").json()
    assert [(t["step"], t["task_id"]) for t in failed["tasks"]] == [("square", "square-1")]


def test_timeline_has_every_attempt_relative_to_the_start(client: TestClient, ui_datastore: UiRuns) -> None:
    timeline = client.get(_run(ui_datastore, "local") + "/timeline").json()
    assert timeline["steps"] == ["start", "square", "join", "end"]
    assert len(timeline["attempts"]) == 6
    first = timeline["attempts"][0]
    assert first[:4] == ["start", "start", 0, 0] and first[4] >= 0 and first[5] == "successful"


def test_task_shows_artifacts_cards_logs_and_exception(client: TestClient, ui_datastore: UiRuns) -> None:
    task = client.get(_run(ui_datastore, "local") + "/steps/join/tasks/join").json()
    assert task["status"] == "successful"
    names = {a["name"]: a for a in task["artifacts"]}
    assert names["squares"]["type"] == "list" and names["squares"]["size"] > 0
    assert [(c["type"], c["id"], c["status"]) for c in task["cards"]] == [
        ("default", None, "ok"),
        ("blank", "report", "ok"),
    ]
    log = client.get(_run(ui_datastore, "local") + "/steps/square/tasks/square-2/logs/stdout").json()
    assert log["text"] == "squaring 3\n"
    failed = client.get(_run(ui_datastore, "failed") + "/steps/square/tasks/square-1").json()
    assert failed["status"] == "failed"
    assert failed["exception"]["type"] == "ValueError"
    assert "two is not welcome here" in failed["exception"]["message"]
    assert failed["artifacts"] == []


def test_card_is_served_sandboxed(client: TestClient, ui_datastore: UiRuns) -> None:
    url = _run(ui_datastore, "local") + "/steps/square/tasks/square-0/cards/0/card-0-blank.html"
    answer = client.get(url)
    assert answer.status_code == 200 and "card-table" in answer.text
    assert answer.headers["content-security-policy"] == "sandbox allow-scripts"
    assert client.get(url.replace("card-0-blank", "index")).status_code == 404


def test_preview_is_made_outside_the_server_process(client: TestClient, ui_datastore: UiRuns) -> None:
    base = _run(ui_datastore, "local") + "/steps/start/tasks/start/artifacts"
    preview = client.get(base + "/marker/preview").json()
    assert preview["preview"] == "Marker('start')"
    made_by = os.listdir(ui_datastore.marker_dir)
    assert made_by and f"unpickled-{os.getpid()}" not in made_by  # a child unpickled it, not us
    numbers = client.get(base + "/numbers/preview").json()
    assert (numbers["type"], numbers["preview"]) == ("list", "[1, 2, 3]")


def test_download_is_the_stored_bytes(client: TestClient, ui_datastore: UiRuns) -> None:
    from flowc.datastore.serialization import decode

    answer = client.get(_run(ui_datastore, "local") + "/steps/start/tasks/start/artifacts/blob/download")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="blob.flowc-pickle5"'
    assert decode(answer.content) == b"\x00\x01binary"


@pytest.mark.parametrize(
    "path",
    [
        "/api/flows/%2e%2e/runs",
        "/api/flows/..%2e/runs",
        "/api/flows/UiFlow/runs/%2e%2e",
        "/api/flows/UiFlow/runs/%2e%2e/timeline",
        "/api/flows/UiFlow/runs/1/steps/%2e%2e/tasks/0",
        "/api/flows/UiFlow/runs/1/steps/start/tasks/.hidden",
        "/api/flows/UiFlow/runs/1/steps/start/tasks/0/artifacts/..%5c..%5cetc/preview",
        "/api/flows/UiFlow/runs/1/steps/start/tasks/0/logs/..",
        "/api/flows/UiFlow/runs/1/tasks?step=..",
        "/api/flows/%2Fetc%2Fpasswd/runs",
        "/api/flows/..%2F..%2Fetc/runs",
        "/api/flows/%252e%252e/runs",
        "/api/flows//etc/runs",
        "/flows/%2e%2e",
        "/static/..%2Fapp.py",
        "/api/flows/UiFlow/runs/1/steps/start/tasks/0/cards/0/..%2F..%2Ftask.json",
    ],
)
def test_no_name_reaches_outside_the_datastore(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code in (400, 404), (path, answer.status_code, answer.text[:200])
    assert "root:" not in answer.text and "import" not in answer.text


def test_unknown_things_are_404_with_one_line(client: TestClient, ui_datastore: UiRuns) -> None:
    for path in (
        "/api/flows/NoSuchFlow/runs",
        f"/api/flows/{FLOW_NAME}/runs/123",
        _run(ui_datastore, "local") + "/steps/start/tasks/start-7",
        _run(ui_datastore, "local") + "/steps/start/tasks/start/artifacts/nope/preview",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "\n" not in answer.json()["error"]


def test_read_only(client: TestClient) -> None:
    assert client.post("/api/flows").status_code == 405
    assert client.delete(f"/api/flows/{FLOW_NAME}/runs").status_code == 405


def test_cli_refuses_a_taken_port_in_one_line(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "flowc", "ui", "--datastore", str(tmp_path), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_over_an_s3_datastore(s3_root: str, tmp_path: Path) -> None:
    """The same API over S3 (moto): one listing of the run, records and previews through boto3."""
    import subprocess
    import sys

    from tests.ui.conftest import FLOW

    id_file = tmp_path / "run-id"
    command = [sys.executable, "-m", "flowc", "run", str(FLOW), "--datastore", s3_root]
    subprocess.run([*command, "--run-id-file", str(id_file)], check=True, capture_output=True, timeout=300)
    run_id = id_file.read_text().strip()
    client = TestClient(create_app(s3_root))
    assert client.get(f"/api/flows/{FLOW_NAME}/runs").json()["runs"][0]["status"] == "successful"
    run = client.get(f"/api/flows/{FLOW_NAME}/runs/{run_id}").json()
    assert [(s["name"], s["counts"]) for s in run["steps"]][1] == ("square", {"successful": 3})
    assert run["graph_error"] is None
    tasks = client.get(f"/api/flows/{FLOW_NAME}/runs/{run_id}/tasks?step=join").json()["tasks"]
    assert tasks[0]["cards"] is True and tasks[0]["attempts"] == 1
    base = f"/api/flows/{FLOW_NAME}/runs/{run_id}/steps/join/tasks/join"
    assert client.get(base + "/artifacts/squares/preview").json()["preview"] == "[1, 4, 9]"
    card = client.get(base).json()["cards"][1]
    assert client.get(f"{base}/cards/0/{card['file']}").status_code == 200


def test_project_branch_is_shown(tmp_path: Path) -> None:
    import subprocess
    import sys

    flow = Path(__file__).parents[1] / "conformance" / "flows" / "project_flow.py"
    datastore = tmp_path / "ds"
    command = [
        sys.executable,
        "-m",
        "flowc",
        "run",
        str(flow),
        "--datastore",
        str(datastore),
        "--branch",
        "ui",
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    client = TestClient(create_app(str(datastore)))
    flow_name = client.get("/api/flows").json()["flows"][0]["name"]
    assert client.get(f"/api/flows/{flow_name}/runs").json()["runs"][0]["project_branch"] == "test.ui"


def test_big_artifacts_get_no_preview(client: TestClient, ui_datastore: UiRuns, monkeypatch) -> None:
    import flowc.ui.model

    monkeypatch.setattr(flowc.ui.model, "PREVIEW_MAX_BYTES", 16)
    answer = client.get(_run(ui_datastore, "local") + "/steps/end/tasks/end/artifacts/squares/preview").json()
    assert answer["error"].startswith("no preview: the artifact is over")


def test_previews_of_arrays_and_frames() -> None:
    import numpy as np
    import pandas as pd

    from flowc.ui.sandbox import _preview

    array = _preview(np.arange(6).reshape(2, 3))
    assert array["type"] == "numpy.ndarray" and array["shape"] == [2, 3] and "[3, 4, 5]" in array["preview"]
    frame = _preview(pd.DataFrame({"a": range(100)}))
    assert frame["shape"] == [100, 1] and len(frame["preview"].splitlines()) == 11  # header + head(10)


def test_retried_task_shows_each_attempt(tmp_path: Path) -> None:
    import subprocess
    import sys

    flow = Path(__file__).parents[1] / "conformance" / "flows" / "retry_flow.py"
    datastore = tmp_path / "ds"
    subprocess.run(
        [sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(datastore)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    client = TestClient(create_app(str(datastore)))
    run_id = client.get("/api/flows/RetryFlow/runs").json()["runs"][0]["id"]
    base = f"/api/flows/RetryFlow/runs/{run_id}"
    timeline = client.get(base + "/timeline").json()["attempts"]
    assert [(a[0], a[2], a[5]) for a in timeline if a[0] == "flaky"] == [
        ("flaky", 0, "failed"),
        ("flaky", 1, "successful"),
    ]
    task = client.get(base + "/steps/flaky/tasks/flaky").json()
    assert task["status"] == "successful" and [a["status"] for a in task["attempts"]] == [
        "failed",
        "successful",
    ]
    assert client.get(base + "/tasks?step=flaky").json()["tasks"][0]["attempts"] == 2
    log = client.get(base + "/steps/flaky/tasks/flaky/logs/stderr?attempt=0").json()
    assert "first attempt fails on purpose" in log["text"]


def test_a_run_whose_local_runtime_died_is_crashed(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from flowc.datastore.storage import open_storage
    from flowc.metadata import claim_run

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    launcher = {"kind": "local", "host": socket.gethostname(), "pid": int(gone.stdout)}
    storage = open_storage(str(tmp_path / "ds"))
    crashed, _ = claim_run(storage, "GoneFlow", extra={"launcher": launcher})
    alive = {"kind": "local", "host": socket.gethostname(), "pid": os.getpid()}
    running, _ = claim_run(storage, "GoneFlow", extra={"launcher": alive})
    client = TestClient(create_app(str(tmp_path / "ds")))
    runs = {r["id"]: r["status"] for r in client.get("/api/flows/GoneFlow/runs").json()["runs"]}
    assert runs == {crashed: "crashed", running: "running"}


def test_preview_with_the_default_relative_datastore(tmp_path: Path) -> None:
    """A user runs a flow, then ``flowc ui`` in the same folder (datastore ``.flowc``, relative):
    previews are made in a child working in a temporary folder, so the path must not be relative."""
    import json
    import subprocess
    import sys
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k != "FLOWC_DATASTORE"}
    flow = Path(__file__).parents[2] / "examples" / "hello_flow.py"
    subprocess.run(
        [sys.executable, "-m", "flowc", "run", str(flow)],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "flowc", "ui", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().split(" on ")[1].split()[0]
        flow_name = json.load(urllib.request.urlopen(url + "api/flows"))["flows"][0]["name"]
        run_id = json.load(urllib.request.urlopen(f"{url}api/flows/{flow_name}/runs"))["runs"][0]["id"]
        task = f"{url}api/flows/{flow_name}/runs/{run_id}/steps/start/tasks/start"
        name = json.load(urllib.request.urlopen(task))["artifacts"][0]["name"]
        preview = json.load(urllib.request.urlopen(f"{task}/artifacts/{name}/preview"))
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert "error" not in preview, preview
    assert preview["name"] == name


def test_a_local_server_answers_only_to_local_host_names(tmp_path: Path) -> None:
    """DNS rebinding: a web page whose name is made to point at 127.0.0.1 must not read the runs."""
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    server = subprocess.Popen(
        [sys.executable, "-m", "flowc", "ui", "--datastore", str(tmp_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().split(" on ")[1].split()[0]
        port = url.rstrip("/").rsplit(":", 1)[1]
        assert urllib.request.urlopen(url + "api/flows").status == 200
        for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
            request = urllib.request.Request(url + "api/flows", headers={"Host": host})
            assert urllib.request.urlopen(request).status == 200
        request = urllib.request.Request(url + "api/flows", headers={"Host": f"attacker.example:{port}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 400
    finally:
        server.terminate()
        server.communicate(timeout=30)
