"""S3Storage against a real moto server over HTTP: layout, atomicity, batching, retries, failures."""

from __future__ import annotations

import concurrent.futures
import os
import signal

import boto3
import pytest

from flowc.config import load_settings
from flowc.datastore.s3 import S3Storage, parse_s3_url
from flowc.datastore.storage import NotFound, StorageError, open_storage
from tests.helpers.servers import free_port, moto_server
from tests.remote.flaky_proxy import flaky_proxy

MiB = 1024 * 1024

#: A valid flow: packaging it reaches the datastore (a flow the front end refuses never does).
TINY_FLOW = (
    "from flowc import FlowSpec, step\n\n\n"
    "class TinyFlow(FlowSpec):\n"
    "    @step\n    def start(self):\n        self.next(self.end)\n\n"
    "    @step\n    def end(self):\n        pass\n"
)


def _settings(**values: str):
    return load_settings(environ={f"FLOWC_{k.upper().replace('.', '__')}": v for k, v in values.items()})


def _client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint)


def test_parse_s3_url():
    assert parse_s3_url("s3://b/p/q/") == ("b", "p/q")
    assert parse_s3_url("s3://b") == ("b", "")
    with pytest.raises(ValueError):
        parse_s3_url("s3:///x")


def test_open_storage_gives_s3_storage_with_layout_keys(s3_root, aws_env):
    storage = open_storage(s3_root)
    assert isinstance(storage, S3Storage)
    assert storage.url == s3_root
    storage.write("runs/F/1/run.json", b"{}")
    bucket, prefix = parse_s3_url(s3_root)
    body = _client(aws_env.endpoint).get_object(Bucket=bucket, Key=f"{prefix}/runs/F/1/run.json")["Body"]
    assert body.read() == b"{}"


def test_roundtrip_small_empty_and_pieces(s3_root):
    storage = open_storage(s3_root)
    storage.write("a/small", b"hello")
    storage.write("a/empty", b"")
    storage.write("a/pieces", [b"ab", bytearray(b"cd"), memoryview(b"ef")])
    assert bytes(storage.read("a/small")) == b"hello"
    assert bytes(storage.read("a/empty")) == b""
    assert bytes(storage.read("a/pieces")) == b"abcdef"
    storage.write("a/small", b"replaced")
    assert bytes(storage.read("a/small")) == b"replaced"


def test_missing_key_is_not_found_and_delete_is_idempotent(s3_root):
    storage = open_storage(s3_root)
    with pytest.raises(NotFound):
        storage.read("nothing/here")
    assert not storage.exists("nothing/here")
    storage.write("k", b"v")
    storage.delete("k")
    storage.delete("k")
    assert not storage.exists("k")


def test_list_is_recursive_sorted_and_respects_folder_boundaries(s3_root):
    storage = open_storage(s3_root)
    keys = ["r/b/2", "r/a", "r/b/1", "rx/no", "r2/no", "r/é", "r/Z"]
    storage.write_many({key: key.encode() for key in keys})
    listed = list(storage.list("r"))
    assert listed == sorted(["r/a", "r/b/1", "r/b/2", "r/é", "r/Z"])
    assert list(storage.list("r/b")) == ["r/b/1", "r/b/2"]
    assert sorted(storage.list("")) == sorted(keys)


def test_list_pages_through_several_pages(s3_root):
    storage = S3Storage(s3_root)
    storage.list_page_size = 7
    keys = [f"many/{i:05d}" for i in range(40)]
    storage.write_many(dict.fromkeys(keys, b"x"))
    assert list(storage.list("many")) == keys


def test_multipart_write_from_parts_and_parallel_ranged_read(s3_root, aws_env):
    storage = S3Storage(s3_root, multipart_threshold=5 * MiB, part_size=5 * MiB, read_part_size=5 * MiB)
    pieces = [os.urandom(3 * MiB + 17) for _ in range(6)]  # parts span the caller's pieces
    storage.write("big", pieces)
    bucket, prefix = parse_s3_url(s3_root)
    head = _client(aws_env.endpoint).head_object(Bucket=bucket, Key=f"{prefix}/big", PartNumber=1)
    assert head["PartsCount"] == 4  # really a multipart upload
    assert bytes(storage.read("big")) == b"".join(pieces)


def test_failed_multipart_upload_leaves_nothing_visible(s3_root, aws_env, monkeypatch):
    # S3 refuses to complete an upload whose non-last parts are under 5 MiB (EntityTooSmall): a real
    # failure at the last step, after every part was stored. flowc's own floor is lowered to get there.
    import flowc.datastore.s3 as s3_module

    monkeypatch.setattr(s3_module, "_MIN_PART_SIZE", 1)
    storage = S3Storage(s3_root, multipart_threshold=1 * MiB, part_size=1 * MiB, retry_seconds=1)
    with pytest.raises(StorageError, match=r"big: CompleteMultipartUpload failed: EntityTooSmall"):
        storage.write("big", os.urandom(3 * MiB))
    assert not storage.exists("big")
    bucket, _ = parse_s3_url(s3_root)
    assert not _client(aws_env.endpoint).list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_write_if_absent_is_atomic_under_contention(s3_root):
    storage = open_storage(s3_root)
    assert storage.write_if_absent("claim", b"first")
    assert not storage.write_if_absent("claim", b"second")
    assert bytes(storage.read("claim")) == b"first"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: storage.write_if_absent("race", str(i).encode()), range(8)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert bytes(storage.read("race")) == str(winner).encode()


def test_write_if_absent_of_a_large_object(s3_root):
    storage = S3Storage(s3_root, multipart_threshold=5 * MiB, part_size=5 * MiB)
    data = os.urandom(11 * MiB)
    assert storage.write_if_absent("large", data)
    assert not storage.write_if_absent("large", b"other")
    assert bytes(storage.read("large")) == data


def test_write_object_is_content_addressed(s3_root):
    import hashlib

    from flowc.datastore.layout import object_key

    storage = open_storage(s3_root)
    sha, stored = storage.write_object(object_key, [b"abc", b"def"])
    assert sha == hashlib.sha256(b"abcdef").hexdigest()
    assert stored
    assert storage.write_object(object_key, b"abcdef") == (sha, False)
    assert bytes(storage.read(object_key(sha))) == b"abcdef"
    many = [os.urandom(20) for _ in range(30)]
    results = storage.write_objects(object_key, [*many, b"abcdef"])
    assert results == [(hashlib.sha256(data).hexdigest(), True) for data in many] + [(sha, False)]
    assert storage.read_many(object_key(s) for s, _ in results)[object_key(sha)] == b"abcdef"


def test_a_task_small_artifacts_cost_one_object_and_read_back_by_range(s3_root):
    from flowc.datastore.objects import ObjectStore

    storage = open_storage(s3_root)
    store = ObjectStore(storage)
    values = {f"metric_{i}": ({"step": i, "loss": 1 / (i + 1)}, None) for i in range(200)}
    references = store.put_values(values, step="train")
    assert len(list(storage.list("objects"))) == 1  # one PUT for the two hundred
    assert {name: store.load_value(ref) for name, ref in references.items()} == {
        name: value for name, (value, _) in values.items()
    }
    pack = f"objects/{references['metric_0']['pack'][:2]}/{references['metric_0']['pack']}"
    assert storage.read_range(pack, 3, 5) == bytes(storage.read(pack))[3:8]
    with pytest.raises(NotFound):
        storage.read_range("objects/no/such", 0, 1)


def test_batches_are_parallel_and_complete(s3_root):
    storage = open_storage(s3_root)
    items = {f"small/{i}": os.urandom(i % 50) for i in range(120)}
    storage.write_many(items)
    assert {k: bytes(v) for k, v in storage.read_many(items).items()} == items
    assert storage.exists_many([*items, "small/none"]) == {**dict.fromkeys(items, True), "small/none": False}
    with pytest.raises(NotFound):
        storage.read_many(["small/1", "small/none"])


@pytest.mark.slow
def test_transient_errors_are_retried(s3_root, aws_env):
    with flaky_proxy(aws_env.endpoint, fail_every=3, reset_every=5) as proxy:
        storage = S3Storage(
            s3_root,
            endpoint_url=proxy.endpoint,
            multipart_threshold=5 * MiB,
            part_size=5 * MiB,
            read_part_size=5 * MiB,
        )
        items = {f"flaky/{i}": os.urandom(100) for i in range(40)}
        storage.write_many(items)
        big = os.urandom(12 * MiB)
        storage.write("flaky-big", big)
        assert {k: bytes(v) for k, v in storage.read_many(items).items()} == items
        assert bytes(storage.read("flaky-big")) == big
        assert proxy.failures > 5
        assert proxy.resets > 3


def test_endpoint_from_config_overrides_aws_endpoint_url(s3_root, aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("FLOWC_S3__ENDPOINT_URL", aws_env.endpoint)
    storage = open_storage(s3_root)
    storage.write("k", b"v")
    assert bytes(storage.read("k")) == b"v"


def test_dead_endpoint_fails_clearly_after_retrying(aws_env):
    # How long giving up takes is measured by bench/s3/bench_s3.py ("failures" rows), not asserted.
    dead = f"http://127.0.0.1:{free_port()}"
    storage = S3Storage(
        "s3://some-bucket/root", endpoint_url=dead, settings=_settings(**{"s3.retry_seconds": "2"})
    )
    with pytest.raises(StorageError) as error:
        storage.read("runs/F/1/run.json")
    message = str(error.value)
    assert "s3://some-bucket/root/runs/F/1/run.json" in message
    assert "GET failed after" in message and "connect" in message.lower()
    attempts = int(message.split("GET failed after ")[1].split(" attempts")[0])
    assert attempts >= 3  # it retried with backoff before giving up


def test_default_retry_budget_is_bounded():
    storage = S3Storage("s3://b/p", settings=load_settings(environ={}))
    assert storage.retry_seconds <= 30
    assert storage.connect_timeout + storage.read_timeout <= 30


def test_missing_bucket_is_not_retried(aws_env):
    storage = S3Storage("s3://flowc-no-such-bucket/x")
    with pytest.raises(StorageError, match="NoSuchBucket") as error:
        storage.write("k", b"v")
    assert "failed after" not in str(error.value)  # one attempt: not retried for the 30 s budget


@pytest.mark.slow
def test_paused_server_times_out_then_recovers(aws_env, tmp_path):
    # SIGSTOP makes the server accept connections but never answer: requests time out like a hung
    # endpoint. After SIGCONT the same storage object works again, nothing lost.
    with moto_server(tmp_path / "moto.log") as server:
        _client(server.endpoint).create_bucket(Bucket="paused")
        settings = _settings(**{"s3.retry_seconds": "3", "s3.read_timeout": "1", "s3.connect_timeout": "1"})
        storage = S3Storage("s3://paused/root", endpoint_url=server.endpoint, settings=settings)
        storage.write("before", b"kept")
        os.killpg(server.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(StorageError, match=r"s3://paused/root/during: PUT failed after \d+ attempts"):
                storage.write("during", b"x")
        finally:
            os.killpg(server.process.pid, signal.SIGCONT)
        assert bytes(storage.read("before")) == b"kept"
        storage.write("after", b"y")
        assert bytes(storage.read("after")) == b"y"


def test_client_is_recreated_after_fork(s3_root):
    storage = open_storage(s3_root)
    storage.write("parent", b"p")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            storage.write("child", bytes(storage.read("parent")) + b"c")
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert bytes(storage.read("child")) == b"pc"


def test_boto3_profiles_and_shared_files_are_honoured(s3_root, aws_env, tmp_path, monkeypatch):
    # Credentials, region and endpoint from a named profile in AWS's own files, nothing in the env.
    (tmp_path / "config").write_text(
        f"[profile flowc-test]\nregion = us-east-1\nendpoint_url = {aws_env.endpoint}\n"
    )
    (tmp_path / "credentials").write_text(
        "[flowc-test]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n"
    )
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "flowc-test")
    storage = open_storage(s3_root)
    storage.write("from-profile", b"ok")
    assert bytes(storage.read("from-profile")) == b"ok"
    assert storage._client().meta.endpoint_url == aws_env.endpoint


def _completes_an_upload(method: str, path: str) -> bool:
    return method == "POST" and "uploadId=" in path


@pytest.mark.parametrize("conditional", [False, True])
def test_a_lost_answer_of_complete_multipart_upload_is_not_a_failure(s3_root, aws_env, conditional):
    # The store completed the upload but its answer never arrived: the retry finds the upload gone
    # (NoSuchUpload), and the object is there whole. The write succeeded; it must not fail.
    from flowc.datastore.layout import object_key

    data = os.urandom(11 * MiB)
    with flaky_proxy(aws_env.endpoint, lose_answer=_completes_an_upload) as proxy:
        storage = S3Storage(
            s3_root, endpoint_url=proxy.endpoint, multipart_threshold=5 * MiB, part_size=5 * MiB
        )
        if conditional:
            sha, _ = storage.write_object(object_key, data)
            key = object_key(sha)
        else:
            key = "lost/answer"
            storage.write(key, data)
        assert proxy.lost == 1
    assert bytes(open_storage(s3_root).read(key)) == data


def test_a_lost_answer_of_a_conditional_put_reports_not_created(s3_root, aws_env):
    # The documented trade-off: never a false True; the object is the caller's.
    with flaky_proxy(aws_env.endpoint, lose_answer=lambda method, _: method == "PUT") as proxy:
        storage = S3Storage(s3_root, endpoint_url=proxy.endpoint)
        assert storage.write_if_absent("claim-lost", b"mine") is False
        assert proxy.lost == 1
    assert bytes(open_storage(s3_root).read("claim-lost")) == b"mine"


def test_exists_in_a_missing_bucket_is_an_error_not_false(aws_env):
    # HEAD answers a bare 404 for a missing key and for a missing bucket alike.
    storage = S3Storage("s3://flowc-no-such-bucket-either/x")
    with pytest.raises(StorageError, match=r"s3://flowc-no-such-bucket-either: NoSuchBucket"):
        storage.exists("runs/F/1/run.json")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.exists_many(["a", "b"])


def test_exists_of_a_missing_key_checks_the_bucket_once(s3_root):
    storage = open_storage(s3_root)
    assert not storage.exists("nothing/1")
    assert storage._bucket_exists
    assert storage.exists_many(["nothing/2", "nothing/3"]) == {"nothing/2": False, "nothing/3": False}


class _ReplacedWhileRead(S3Storage):
    """Replaces the object (same size, other bytes) right after the first ranged GET of a read."""

    def _get_range(self, key, start, length, if_match=None):
        result = super()._get_range(key, start, length, if_match)
        if start == 0 and if_match is None:
            self._client().put_object(Bucket=self.bucket, Key=self._key(key), Body=b"y" * result[1])
        return result


def test_an_object_replaced_during_a_parallel_read_fails_the_read(s3_root):
    storage = _ReplacedWhileRead(s3_root, read_part_size=5 * MiB)
    open_storage(s3_root).write("changing", b"x" * (12 * MiB))
    with pytest.raises(StorageError, match=r"changing: object changed while being read"):
        storage.read("changing")  # never half of one object and half of the other
    assert bytes(open_storage(s3_root).read("changing")) == b"y" * (12 * MiB)


def test_service_specific_endpoint_variable_is_honoured(s3_root, aws_env, monkeypatch):
    # boto3's AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL; flowc's s3.endpoint_url over both.
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_env.endpoint)
    storage = open_storage(s3_root)
    storage.write("via-s3-variable", b"v")
    assert bytes(storage.read("via-s3-variable")) == b"v"
    assert storage._client().meta.endpoint_url == aws_env.endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", dead)
    monkeypatch.setenv("FLOWC_S3__ENDPOINT_URL", aws_env.endpoint)
    assert bytes(open_storage(s3_root).read("via-s3-variable")) == b"v"


def test_endpoint_from_the_project_file(s3_root, aws_env, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    (tmp_path / "flowc.toml").write_text(f'[s3]\nendpoint_url = "{aws_env.endpoint}"\nretry_seconds = 1\n')
    monkeypatch.chdir(tmp_path)
    storage = open_storage(s3_root)
    storage.write("via-file", b"f")
    assert bytes(storage.read("via-file")) == b"f"


@pytest.mark.slow
def test_bad_or_missing_credentials_are_one_clear_line(tmp_path, monkeypatch, capsys):
    from flowc.cli import main

    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    monkeypatch.chdir(tmp_path)
    # A server that checks credentials (moto's IAM authentication) rejects unknown keys.
    with moto_server(tmp_path / "auth.log", server_env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        cases = [
            ({"AWS_ACCESS_KEY_ID": "AKIAWRONG", "AWS_SECRET_ACCESS_KEY": "wrong"}, "InvalidAccessKeyId"),
            ({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}, "Unable to locate credentials"),
        ]
        for variables, cause in cases:
            for name, value in variables.items():
                if value is None:
                    monkeypatch.delenv(name, raising=False)
                else:
                    monkeypatch.setenv(name, value)
            monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
            monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
            monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
            monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
            assert main(["package", str(flow), "--datastore", "s3://any-bucket/ds"]) == 1
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "Traceback" not in err, err
            assert err.startswith("flowc package: cannot store the package: s3://any-bucket/ds/packages/")
            assert cause in err


def test_a_missing_bucket_is_one_clear_line(aws_env, tmp_path, monkeypatch, capsys):
    from flowc.cli import main

    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    monkeypatch.chdir(tmp_path)
    assert main(["package", str(flow), "--datastore", "s3://flowc-no-such-bucket/ds"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "s3://flowc-no-such-bucket/ds/packages/" in err and "NoSuchBucket" in err
