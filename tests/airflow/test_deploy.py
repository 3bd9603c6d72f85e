"""``flowc deploy --target airflow``: the code package goes to the datastore, the DAG file to the
DAGs folder (a directory or S3), written atomically and only when it changed."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from flowc.cli import main
from flowc.datastore.layout import package_key

FLOW = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "foreach_flow.py"


def flowc(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def package_sha(dag_text: str) -> str:
    # The DAG's data section (after the static runtime's defaults) assigns the package last.
    line = [line for line in dag_text.splitlines() if line.startswith("CODE_PACKAGE = ")][-1]
    return line.split('"')[1]


def test_deploy_uploads_the_package_and_writes_the_dag_once(tmp_path: Path) -> None:
    dags, datastore = tmp_path / "dags", tmp_path / "ds"
    argv = [
        "deploy",
        str(FLOW),
        "--target",
        "airflow",
        "--dags-folder",
        str(dags),
        "--datastore",
        str(datastore),
    ]
    code, out, err = flowc(*argv)
    assert code == 0, err
    dag_file = dags / "ForeachFlow.py"
    text = dag_file.read_text(encoding="utf-8")
    sha = package_sha(text)
    assert (datastore / package_key(sha)).is_file()
    assert f'DATASTORE = "{datastore}"' in text
    assert [p.name for p in dags.iterdir()] == ["ForeachFlow.py"]  # no temporary file left behind
    assert dag_file.stat().st_mode & 0o777 == 0o644  # readable by a scheduler running as another user
    code, out, _ = flowc(*argv)
    assert code == 0 and "unchanged" in out


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    code, out, _ = flowc(
        "deploy", str(FLOW), "--target", "airflow", "--dry-run",
        "--dags-folder", str(tmp_path / "dags"), "--datastore", str(tmp_path / "ds"),
    )  # fmt: skip
    assert code == 0 and f"would create DAG file {tmp_path / 'dags'}/ForeachFlow.py" in out
    assert not (tmp_path / "dags").exists() and not (tmp_path / "ds").exists()


def test_deploy_needs_a_dags_folder(tmp_path: Path) -> None:
    code, _, err = flowc("deploy", str(FLOW), "--target", "airflow", "--datastore", str(tmp_path / "ds"))
    assert code == 2 and "--dags-folder" in err


def test_deploy_to_s3(s3_root: str) -> None:
    import boto3

    bucket = s3_root[len("s3://") :].split("/")[0]
    code, _, err = flowc(
        "deploy", str(FLOW), "--target", "airflow", "--operator", "kubernetes",
        "--dags-folder", f"s3://{bucket}/airflow/dags", "--datastore", s3_root,
    )  # fmt: skip
    assert code == 0, err
    s3 = boto3.client("s3")
    text = s3.get_object(Bucket=bucket, Key="airflow/dags/ForeachFlow.py")["Body"].read().decode()
    assert "KubernetesPodOperator" in text
    sha = package_sha(text)
    s3.head_object(Bucket=bucket, Key=f"datastore/{package_key(sha)}")
