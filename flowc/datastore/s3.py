"""The S3 datastore: :class:`~flowc.datastore.storage.Storage` on boto3, for ``s3://bucket/prefix`` roots.

What it adds over one boto3 call per operation:

* **Configuration**: boto3's own chain (credentials, ``AWS_PROFILE``, region, ``AWS_ENDPOINT_URL``);
  the flowc key ``s3.endpoint_url`` (or an explicit ``endpoint_url``) overrides the endpoint.
* **Large objects**: written with a parallel multipart upload straight from the caller's parts (no
  joined copy). The object only appears on ``CompleteMultipartUpload`` and the upload is aborted on
  failure, so a reader never sees half an object. Reads start with one ranged GET of the first
  ``read_part_size`` bytes; a larger object's remaining parts are fetched in parallel into one
  preallocated buffer. Part sizes are large (128 MiB up, 256 MiB down) because small parts are slow
  against moto and cost requests everywhere (ENGINES.md "S3"; bench/results/s3.md: 512 MiB put in
  16 MiB parts ran at 35 MiB/s, in 128 MiB parts at 61 MiB/s; ranged GETs of 64 MiB at 119 MiB/s,
  of 256 MiB at 215 MiB/s, one GET at 450 MiB/s).
* **Many small objects**: ``read_many``/``write_many``/``exists_many`` run on a thread pool, so a
  task with 1,000 artifacts pays a few round trips of latency, not 1,000.
* **Conditional create**: ``write_if_absent`` is a PUT with ``If-None-Match: *`` (S3 conditional
  writes, https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html; moto >= 5.0
  honours it). Stores that answer ``NotImplemented`` get a documented fallback: HEAD then PUT, which
  is not atomic against a concurrent writer.
* **Retries**: transient failures (5xx, throttling, connection refused/reset, timeouts, a body cut
  short) are retried with jittered exponential backoff until ``s3.retry_seconds`` have passed, then
  raise :class:`StorageError` naming ``s3://bucket/key``, the operation and the last cause. botocore's
  own retries are off so that this one budget bounds how long a dead endpoint can stall a task.

boto3 is imported when the first request is made; ``open_storage`` itself stays cheap. The client is
re-created after ``fork()`` (the local runtime forks tasks; connection pools must not be shared).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from flowc.datastore.storage import Buffer, NotFound, Storage, StorageError

__all__ = ["S3Storage", "parse_s3_url"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

MiB = 1024 * 1024
#: Objects up to this size are one PUT; larger ones a multipart upload.
DEFAULT_MULTIPART_THRESHOLD = 128 * MiB
#: Part size of multipart uploads (see the module docstring).
DEFAULT_PART_SIZE = 128 * MiB
#: Bytes per ranged GET of a large read (>= 64 MiB; see the module docstring).
DEFAULT_READ_PART_SIZE = 256 * MiB
#: S3's limits on multipart uploads.
_MIN_PART_SIZE = 5 * MiB
_MAX_PARTS = 10_000
#: Read timeout of CompleteMultipartUpload (see ``S3Storage._client``).
_PATIENT_READ_TIMEOUT = 120.0

#: Error codes that are worth another try whatever the HTTP status.
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "OperationAborted",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ConditionalRequestConflict",  # a concurrent conditional write; S3 asks to retry
    }
)
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ``("bucket", "some/prefix")``."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an S3 URL: {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in S3 URL {url!r}")
    return bucket, prefix.strip("/")


def _views(parts: Buffer | Sequence[Buffer]) -> list[memoryview]:
    pieces = [parts] if isinstance(parts, bytes | bytearray | memoryview) else list(parts)
    return [memoryview(piece).cast("B") for piece in pieces]


class _PartReader:
    """A seekable, read-only file over ``length`` bytes of a list of buffers starting at ``offset``.

    boto3 takes it as a request body (it seeks back to recompute checksums and to retry), so a
    multipart upload sends the caller's buffers without joining or copying them.
    """

    def __init__(self, views: Sequence[memoryview], offset: int, length: int) -> None:
        self._slices: list[memoryview] = []
        skip = offset
        remaining = length
        for view in views:
            if remaining == 0:
                break
            if skip >= len(view):
                skip -= len(view)
                continue
            piece = view[skip : skip + remaining]
            skip = 0
            remaining -= len(piece)
            self._slices.append(piece)
        self._length = length - remaining
        self._position = 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or self._position + size > self._length:
            size = self._length - self._position
        chunks = []
        start = self._position
        for piece in self._slices:
            if size == 0:
                break
            if start >= len(piece):
                start -= len(piece)
                continue
            chunk = piece[start : start + size]
            chunks.append(chunk)
            size -= len(chunk)
            start = 0
        data = bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)  # one copy either way
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


class S3Storage(Storage):
    """Keys under ``s3://bucket/prefix``; see the module docstring for what each operation does.

    Args:
        url: ``s3://bucket/prefix`` (the prefix may be empty).
        endpoint_url: overrides the configuration key ``s3.endpoint_url`` and boto3's own endpoint.
        max_concurrency: parallel requests of one batch call or multipart transfer
            (default: configuration ``s3.max_concurrency``).
        retry_seconds: how long transient errors are retried (default: ``s3.retry_seconds``).
        multipart_threshold: objects larger than this are written in parts.
        part_size: bytes per multipart part.
        read_part_size: bytes per ranged GET; a smaller object is read with one GET.
        settings: a :class:`flowc.config.Settings` to read the ``s3.*`` keys from (default: loaded
            from the environment and project file when first needed).
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        max_concurrency: int | None = None,
        retry_seconds: float | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        read_part_size: int = DEFAULT_READ_PART_SIZE,
        settings: Any = None,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        if settings is None:
            from flowc.config import load_settings

            settings = load_settings()
        self.endpoint_url = endpoint_url or settings.get("s3.endpoint_url")
        self.max_concurrency = max(1, int(max_concurrency or settings.get("s3.max_concurrency", 16)))
        default_retry = settings.get("s3.retry_seconds", 30.0)
        self.retry_seconds = float(default_retry if retry_seconds is None else retry_seconds)
        self.connect_timeout = float(settings.get("s3.connect_timeout", 5.0))
        self.read_timeout = float(settings.get("s3.read_timeout", 20.0))
        self.multipart_threshold = max(int(multipart_threshold), 1)
        self.part_size = max(int(part_size), 1)
        self.read_part_size = max(int(read_part_size), 1)
        #: Keys per LIST request (S3's maximum is 1,000).
        self.list_page_size = 1000
        self._client_lock = threading.Lock()
        self._client_pid: int | None = None
        self._clients: dict[bool, Any] = {}
        self._session: Any = None
        self._bucket_exists = False

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r})"

    def with_retry_budget(self, seconds: float) -> S3Storage:
        """A copy retrying for at most ``seconds``, with clients of its own (it may be used on
        threads of a process that forks: it must share no lock with the original)."""
        import copy

        shorter = copy.copy(self)
        shorter.retry_seconds = min(self.retry_seconds, float(seconds))
        shorter._client_lock = threading.Lock()
        shorter._client_pid = None
        shorter._clients = {}
        shorter._session = None
        return shorter

    # ---- plumbing --------------------------------------------------------------------------
    def _client(self, patient: bool = False) -> Any:
        """The boto3 client of this process (made on first use, and again after a fork).

        ``patient``: the client for CompleteMultipartUpload, which may take minutes on a big object.
        S3 keeps that connection alive by sending whitespace meanwhile; stores that do not (moto)
        would hit the usual read timeout, so this client waits longer (and only ever follows a
        successful upload of every part, so a dead endpoint is not what it waits for).
        """
        pid = os.getpid()
        if self._client_pid != pid:
            with self._client_lock:
                if self._client_pid != pid:
                    self._clients = {}
                    self._client_pid = pid
        client = self._clients.get(patient)
        if client is None:
            with self._client_lock:
                client = self._clients.get(patient)
                if client is None:
                    client = self._clients[patient] = self._new_client(patient)
        return client

    def _new_client(self, patient: bool) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            # One retry budget, ours (see the module docstring), instead of botocore's.
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=self.connect_timeout,
            read_timeout=max(self.read_timeout, _PATIENT_READ_TIMEOUT) if patient else self.read_timeout,
            # Batch calls and multipart parts each hold a connection; a full pool would
            # discard connections (and warn) instead of reusing them.
            max_pool_connections=self.max_concurrency * 2,
        )
        # The session (credentials, loaded service models) survives a fork and makes the child's
        # client in milliseconds; only the client's connection pool must be new.
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session.client("s3", endpoint_url=self.endpoint_url, config=config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _call(self, operation: str, key: str, attempt: Callable[[], _T]) -> _T:
        """``attempt()`` retried on transient errors for up to ``retry_seconds``."""
        deadline = time.monotonic() + self.retry_seconds
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except Exception as exc:
                if _is_not_found(exc):
                    raise NotFound(key) from exc
                if isinstance(exc, StorageError):
                    raise
                transient = _is_transient(exc)
                delay = min(4.0, 0.1 * 2 ** (tries - 1)) * random.uniform(0.5, 1.0)
                if not transient or time.monotonic() + delay >= deadline:
                    cause = _describe(exc)
                    span = f" after {tries} attempts" if tries > 1 else ""
                    raise StorageError(f"{self._where(key)}: {operation} failed{span}: {cause}") from exc
                _log.warning(
                    "%s %s: %s; retrying in %.1f s", operation, self._where(key), _describe(exc), delay
                )
                time.sleep(delay)

    def _map(self, function: Callable[[Any], _T], items: Sequence[Any]) -> list[_T]:
        """``[function(item) ...]`` on up to ``max_concurrency`` threads; the first error is raised."""
        if len(items) <= 1 or self.max_concurrency == 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(min(self.max_concurrency, len(items)), thread_name_prefix="flowc-s3") as pool:
            futures = [pool.submit(function, item) for item in items]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    # ---- reads -----------------------------------------------------------------------------
    def read(self, key: str) -> Buffer:
        """All bytes of ``key``: one ranged GET, then parallel ranged GETs if the object is larger.

        The later GETs carry ``If-Match`` with the first one's ETag, so an object replaced while
        it is being read fails the read instead of returning pieces of two objects.
        """
        step = self.read_part_size
        first, total, etag = self._call("GET", key, lambda: self._get_range(key, 0, step))
        if total <= len(first):
            return first
        out = bytearray(total)
        out[: len(first)] = first
        del first
        ranges = [(start, min(start + step, total)) for start in range(step, total, step)]

        def fetch(span: tuple[int, int]) -> None:
            start, end = span
            try:
                data, _, _ = self._call("GET", key, lambda: self._get_range(key, start, end - start, etag))
            except StorageError as exc:
                if _error_code(exc.__cause__) != "PreconditionFailed":
                    raise
                data = b""
            if len(data) != end - start:
                raise StorageError(f"{self._where(key)}: object changed while being read")
            out[start:end] = data

        self._map(fetch, ranges)
        return out

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """One ranged GET (a packed artifact: only its bytes travel)."""
        if length <= 0:
            return b""
        data, _, _ = self._call("GET", key, lambda: self._get_range(key, start, length))
        return data

    def _get_range(
        self, key: str, start: int, length: int, if_match: str | None = None
    ) -> tuple[bytes, int, str | None]:
        """Bytes ``[start, start + length)``, the object's total size and its ETag."""
        client = self._client()
        arguments = {"Bucket": self.bucket, "Key": self._key(key)}
        if if_match:
            arguments["IfMatch"] = if_match
        try:
            response = client.get_object(**arguments, Range=f"bytes={start}-{start + length - 1}")
        except Exception as exc:
            # An empty object has no byte 0: S3 answers 416 InvalidRange to any range.
            if start == 0 and _error_code(exc) == "InvalidRange":
                response = client.get_object(**arguments)
                return response["Body"].read(), 0, response.get("ETag")
            raise
        data = response["Body"].read()
        content_range = response.get("ContentRange")  # "bytes 0-99/12345"
        total = int(content_range.rsplit("/", 1)[1]) if content_range else len(data)
        return data, total, response.get("ETag")

    def exists(self, key: str) -> bool:
        try:
            self._call(
                "HEAD", key, lambda: self._client().head_object(Bucket=self.bucket, Key=self._key(key))
            )
        except NotFound:
            self._check_bucket()
            return False
        return True

    def _check_bucket(self) -> None:
        """Raises :class:`StorageError` if the bucket does not exist (checked once per storage).

        A HEAD answers a bare 404 both for a missing key and for a key in a missing bucket (HEAD
        responses have no body to name the error), so without this ``exists`` would report a
        mistyped bucket as an empty one. A bucket that cannot be checked (HeadBucket denied) is
        given the benefit of the doubt.
        """
        if self._bucket_exists:
            return
        try:
            self._call("HEAD bucket", "", lambda: self._client().head_bucket(Bucket=self.bucket))
        except NotFound:
            raise StorageError(f"s3://{self.bucket}: NoSuchBucket: the bucket does not exist") from None
        except StorageError:
            return
        self._bucket_exists = True

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` in S3's order, which is UTF-8 byte order, the same as ``sorted``."""
        root = self._key(prefix.strip("/")) if prefix.strip("/") else self.prefix
        s3_prefix = f"{root}/" if root else ""
        strip = len(f"{self.prefix}/") if self.prefix else 0
        token: str | None = None
        while True:
            arguments = {"Bucket": self.bucket, "Prefix": s3_prefix, "MaxKeys": self.list_page_size}
            if token:
                arguments["ContinuationToken"] = token
            page = self._call("LIST", prefix, lambda a=arguments: self._client().list_objects_v2(**a))
            for entry in page.get("Contents", ()):
                yield entry["Key"][strip:]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    # ---- writes ----------------------------------------------------------------------------
    def write(self, key: str, parts: Buffer | Sequence[Buffer]) -> None:
        self._put(key, _views(parts), if_absent=False)

    def write_if_absent(self, key: str, data: Buffer) -> bool:
        """A conditional PUT. A retried PUT whose first try landed reports False (never a false True)."""
        return self._put(key, _views(data), if_absent=True)

    def write_object(
        self, key_for: Callable[[str], str], parts: Buffer | Sequence[Buffer]
    ) -> tuple[str, bool]:
        """Content-addressed write: one conditional PUT for small objects; HEAD first for large ones
        (so an object already stored is not uploaded again). An object already there is checked
        (:meth:`_intact`) and replaced when damaged, so storing the same bytes again repairs it."""
        views = _views(parts)
        hasher = hashlib.sha256()
        for view in views:
            hasher.update(view)
        sha = hasher.hexdigest()
        key = key_for(sha)
        size = sum(len(view) for view in views)
        if size > self.multipart_threshold and self._intact(key, views, size):
            return sha, False  # checked before uploading it again
        if self._put(key, views, if_absent=True):
            return sha, True
        if self._intact(key, views, size):
            return sha, False
        # The object there is damaged (other bytes under our hash): the bytes we hold replace it.
        self._put(key, views, if_absent=False)
        return sha, True

    def _intact(self, key: str, views: list[memoryview], size: int) -> bool:
        """Whether ``key`` holds an object that matches ``views``: its size and, for an object
        stored by one PUT, its ETag (the MD5 of its bytes); a multipart object is checked by size."""
        try:
            head = self._call(
                "HEAD", key, lambda: self._client().head_object(Bucket=self.bucket, Key=self._key(key))
            )
        except NotFound:
            return False
        if int(head.get("ContentLength", -1)) != size:
            return False
        etag = str(head.get("ETag") or "").strip('"')
        if not etag or "-" in etag:
            return True
        md5 = hashlib.md5(usedforsecurity=False)
        for view in views:
            md5.update(view)
        return etag == md5.hexdigest()

    def _put(self, key: str, views: list[memoryview], *, if_absent: bool) -> bool:
        size = sum(len(view) for view in views)
        if size > self.multipart_threshold:
            return self._multipart_put(key, views, size, if_absent=if_absent)
        body = bytes(views[0]) if len(views) == 1 else b"".join(views)
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": body}
        if if_absent:
            arguments["IfNoneMatch"] = "*"
        try:
            self._call("PUT", key, lambda: self._client().put_object(**arguments))
        except StorageError as exc:
            code = _error_code(exc.__cause__)
            if if_absent and code == "PreconditionFailed":
                return False
            if if_absent and code == "NotImplemented":
                # A store without conditional writes: check, then write (not atomic; documented).
                if self.exists(key):
                    return False
                arguments.pop("IfNoneMatch")
                self._call("PUT", key, lambda: self._client().put_object(**arguments))
                return True
            raise
        return True

    def _multipart_put(self, key: str, views: list[memoryview], size: int, *, if_absent: bool) -> bool:
        part_size = max(self.part_size, _MIN_PART_SIZE, -(-size // _MAX_PARTS))
        s3_key = self._key(key)
        client = self._client()
        upload_id = self._call(
            "CreateMultipartUpload",
            key,
            lambda: client.create_multipart_upload(Bucket=self.bucket, Key=s3_key),
        )["UploadId"]
        try:

            def upload(number: int) -> dict[str, Any]:
                offset = (number - 1) * part_size
                body = _PartReader(views, offset, min(part_size, size - offset))

                def attempt() -> Any:
                    body.seek(0)
                    return client.upload_part(
                        Bucket=self.bucket, Key=s3_key, UploadId=upload_id, PartNumber=number, Body=body
                    )

                return {
                    "PartNumber": number,
                    "ETag": self._call(f"UploadPart {number}", key, attempt)["ETag"],
                }

            parts = self._map(upload, range(1, -(-size // part_size) + 1))
            arguments: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": s3_key,
                "UploadId": upload_id,
                "MultipartUpload": {"Parts": parts},
            }
            if if_absent:
                arguments["IfNoneMatch"] = "*"
            tries = []

            def complete() -> Any:
                tries.append(1)
                try:
                    return self._client(patient=True).complete_multipart_upload(**arguments)
                except Exception as exc:
                    # A retry after a lost answer finds the upload already completed: fine if
                    # the object now there has our size. (A conditional retry is refused with
                    # PreconditionFailed instead, reported below as not created: never a false True.)
                    if len(tries) > 1 and _error_code(exc) == "NoSuchUpload" and not if_absent:
                        head = client.head_object(Bucket=self.bucket, Key=s3_key)
                        if head["ContentLength"] == size:
                            return head
                    raise

            self._call("CompleteMultipartUpload", key, complete)
        except BaseException as exc:
            self._abort(key, upload_id)
            if if_absent and _error_code(exc.__cause__) == "PreconditionFailed":
                return False
            raise
        return True

    def _abort(self, key: str, upload_id: str) -> None:
        """Best effort: a failed upload leaves no parts behind (a lifecycle rule cleans up the rest)."""
        try:
            self._client().abort_multipart_upload(Bucket=self.bucket, Key=self._key(key), UploadId=upload_id)
        except Exception as exc:
            _log.warning("could not abort the multipart upload of %s: %s", self._where(key), _describe(exc))

    def delete(self, key: str) -> None:
        self._call(
            "DELETE", key, lambda: self._client().delete_object(Bucket=self.bucket, Key=self._key(key))
        )

    # ---- batches ---------------------------------------------------------------------------
    def read_many(self, keys: Iterable[str]) -> dict[str, Buffer]:
        keys = list(dict.fromkeys(keys))
        return dict(zip(keys, self._map(self.read, keys), strict=True))

    def write_many(self, items: Mapping[str, Buffer | Sequence[Buffer]]) -> None:
        self._map(lambda item: self.write(*item), list(items.items()))

    def exists_many(self, keys: Iterable[str]) -> dict[str, bool]:
        keys = list(dict.fromkeys(keys))
        return dict(zip(keys, self._map(self.exists, keys), strict=True))

    def write_objects(
        self, key_for: Callable[[str], str], items: Sequence[Buffer | Sequence[Buffer]]
    ) -> list[tuple[str, bool]]:
        """Every item content-addressed, in parallel (a task's artifacts cost one round trip of latency)."""
        return self._map(lambda parts: self.write_object(key_for, parts), list(items))


# ---- error classification ------------------------------------------------------------------
def _error_code(exc: BaseException | None) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None


def _is_not_found(exc: BaseException) -> bool:
    return _error_code(exc) in _NOT_FOUND_CODES


def _is_transient(exc: BaseException) -> bool:
    from botocore.exceptions import (
        ConnectionError as BotoConnectionError,
    )
    from botocore.exceptions import (
        HTTPClientError,
        IncompleteReadError,
    )

    if isinstance(exc, BotoConnectionError | HTTPClientError | IncompleteReadError | ConnectionError):
        return True  # refused, reset, timed out, or a body cut short
    if _error_code(exc) in _TRANSIENT_CODES:
        return True
    status = _status(exc)
    return status is not None and (status >= 500 or status == 429)


def _describe(exc: BaseException) -> str:
    """One line for a failed S3 call; an endpoint URL's credentials masked (botocore names the URL)."""
    from flowc.redact import mask_credentials

    code = _error_code(exc)
    if code is not None:
        status = _status(exc)
        message = getattr(exc, "response", {}).get("Error", {}).get("Message", "")
        return mask_credentials(f"{code} (HTTP {status}){': ' + message if message else ''}")
    return mask_credentials(f"{type(exc).__name__}: {exc}")
