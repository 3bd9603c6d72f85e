"""A stand-in Kubernetes API server for Argo's custom resources (threading http.server, 127.0.0.1).

It keeps objects in memory and checks every request the way the API server does for
``argoproj.io/v1alpha1`` resources (https://kubernetes.io/docs/reference/using-api/api-concepts/):
the path (group, version, namespace, plural, name), the verb (GET one, POST to the collection,
PUT one, DELETE one), the bearer token, the JSON body (apiVersion, kind matching the plural,
namespace and name matching the path), ``resourceVersion`` on PUT (a missing or stale one is 409
Conflict), 409 AlreadyExists on a second POST, 404 NotFound with a ``Status`` body, and
``generateName``, ``GET`` on a collection with ``?labelSelector=key=value`` (a list), and
``PATCH`` with a JSON merge patch (RFC 7386, ``application/merge-patch+json``). Bodies of Argo
kinds must also pass Argo's strict schema. Anything else is a 400
naming the problem, and the test sees it in ``problems``. ``refuse`` makes the server answer a
verb on a plural with an error ``Status`` (403 Forbidden by RBAC, 422 Invalid from admission...).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeKube", "fake_kube"]

_PATH = re.compile(
    r"^/apis/argoproj\.io/v1alpha1/namespaces/(?P<ns>[a-z0-9-]+)/"
    r"(?P<plural>workflowtemplates|cronworkflows|workflows)(?:/(?P<name>[a-z0-9.-]+))?"
    r"(?:\?labelSelector=(?P<selector>[^&]+))?$"
)
_KINDS = {"workflowtemplates": "WorkflowTemplate", "cronworkflows": "CronWorkflow", "workflows": "Workflow"}


@dataclass
class FakeKube:
    token: str
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    url: str = ""
    version: int = 100
    #: ``status.phase`` given to each created Workflow (the fake controller finishes it at once).
    workflow_phase: str | None = None
    #: (verb, plural) -> (HTTP code, reason, message) answered instead of doing the request.
    refuse: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Told of each Workflow created (``created(namespace, name)``) and patched (``patched(...)``):
    #: a controller (tests/argo/controller.py) that runs them.
    controller: Any = None

    def put_object(self, plural: str, obj: dict[str, Any]) -> None:
        """Seeds an object as if created earlier (server fields added)."""
        metadata = obj["metadata"]
        self.version += 1
        stored = json.loads(json.dumps(obj))
        stored["metadata"].update(uid=f"uid-{self.version}", resourceVersion=str(self.version))
        stored["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
        self.objects[(plural, metadata["namespace"], metadata["name"])] = stored


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return json.loads(json.dumps(patch))
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge_patch(merged.get(key), value)
    return merged


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reject(self, code: int, reason: str, message: str) -> None:
        self.server.fake.problems.append(f"{self.command} {self.path}: {message}")
        self._send(code, _status(code, reason, message))

    def _body(self) -> dict[str, Any] | None:
        if self.headers.get("Content-Type") != "application/json":
            self._reject(415, "UnsupportedMediaType", "Content-Type must be application/json")
            return None
        try:
            return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        except ValueError:
            self._reject(400, "BadRequest", "body is not JSON")
            return None

    def _handle(self) -> None:
        fake: FakeKube = self.server.fake
        fake.requests.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            self._reject(401, "Unauthorized", "missing or wrong bearer token")
            return
        match = _PATH.match(self.path)
        if not match:
            self._reject(404, "NotFound", f"no such API path {self.path}")
            return
        ns, plural, name = match.group("ns"), match.group("plural"), match.group("name")
        if (self.command, plural) in fake.refuse:
            code, reason, message = fake.refuse[(self.command, plural)]
            self._send(code, _status(code, reason, message))
            return
        with fake.lock:
            if self.command == "GET" and not name:
                self._list(fake, ns, plural, match.group("selector"))
                return
            if self.command == "PATCH" and name:
                self._patch(fake, ns, plural, name)
                return
            if self.command == "GET" and name:
                found = fake.objects.get((plural, ns, name))
                if found is None:
                    self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
                else:
                    self._send(200, found)
                return
            if self.command == "POST" and not name:
                self._create(fake, ns, plural)
                return
            if self.command == "PUT" and name:
                self._replace(fake, ns, plural, name)
                return
            if self.command == "DELETE" and name:
                if fake.objects.pop((plural, ns, name), None) is None:
                    self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
                else:
                    self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
                return
        self._reject(405, "MethodNotAllowed", f"{self.command} is not allowed on {self.path}")

    def _check(self, body: dict[str, Any], ns: str, plural: str) -> str | None:
        from flowc.backends.argo.lint import schema_problems

        if body.get("apiVersion") != "argoproj.io/v1alpha1":
            return f"apiVersion {body.get('apiVersion')!r}"
        if body.get("kind") != _KINDS[plural]:
            return f"kind {body.get('kind')!r} posted to {plural}"
        if body.get("metadata", {}).get("namespace", ns) != ns:
            return "metadata.namespace does not match the path"
        problems = schema_problems(body)
        return f"schema: {problems[:3]}" if problems else None

    def _create(self, fake: FakeKube, ns: str, plural: str) -> None:
        body = self._body()
        if body is None:
            return
        problem = self._check(body, ns, plural)
        if problem:
            self._reject(400, "BadRequest", problem)
            return
        metadata = body["metadata"]
        if "name" not in metadata:
            if "generateName" not in metadata:
                self._reject(422, "Invalid", "metadata.name or metadata.generateName is required")
                return
            metadata["name"] = f"{metadata.pop('generateName')}{fake.version:05d}"
        if (plural, ns, metadata["name"]) in fake.objects:
            self._send(409, _status(409, "AlreadyExists", f'{plural} "{metadata["name"]}" already exists'))
            return
        metadata["namespace"] = ns
        if plural == "workflows" and fake.workflow_phase:
            body["status"] = {"phase": fake.workflow_phase}
        fake.put_object(plural, body)
        self._send(201, fake.objects[(plural, ns, metadata["name"])])
        if plural == "workflows" and fake.controller is not None:
            fake.controller.created(ns, metadata["name"])

    def _list(self, fake: FakeKube, ns: str, plural: str, selector: str | None) -> None:
        import urllib.parse

        key, _, value = urllib.parse.unquote(selector or "").partition("=")
        items = [
            obj
            for (p, n, _), obj in sorted(fake.objects.items())
            if p == plural
            and n == ns
            and (not key or (obj["metadata"].get("labels") or {}).get(key) == value)
        ]
        self._send(
            200, {"apiVersion": "argoproj.io/v1alpha1", "kind": f"{_KINDS[plural]}List", "items": items}
        )

    def _patch(self, fake: FakeKube, ns: str, plural: str, name: str) -> None:
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            self._reject(415, "UnsupportedMediaType", "PATCH needs Content-Type application/merge-patch+json")
            return
        patch = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        stored = fake.objects.get((plural, ns, name))
        if stored is None:
            self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
            return
        merged = _merge_patch(stored, patch)
        problem = self._check(merged, ns, plural)
        if problem:
            self._reject(400, "BadRequest", problem)
            return
        fake.version += 1
        merged["metadata"]["resourceVersion"] = str(fake.version)
        fake.objects[(plural, ns, name)] = merged
        self._send(200, merged)
        if plural == "workflows" and fake.controller is not None:
            fake.controller.patched(ns, name, patch)

    def _replace(self, fake: FakeKube, ns: str, plural: str, name: str) -> None:
        body = self._body()
        if body is None:
            return
        problem = self._check(body, ns, plural)
        if problem:
            self._reject(400, "BadRequest", problem)
            return
        stored = fake.objects.get((plural, ns, name))
        if stored is None:
            self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
            return
        if body["metadata"].get("name") != name:
            self._reject(400, "BadRequest", "metadata.name does not match the path")
            return
        if body["metadata"].get("resourceVersion") != stored["metadata"]["resourceVersion"]:
            self._reject(409, "Conflict", "resourceVersion missing or stale: read the object first")
            return
        fake.put_object(plural, {**body, "metadata": {**body["metadata"], "namespace": ns}})
        self._send(200, fake.objects[(plural, ns, name)])

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


@contextlib.contextmanager
def fake_kube(token: str = "test-token") -> Iterator[FakeKube]:
    """Serves a :class:`FakeKube` on 127.0.0.1 (a free port) for the ``with`` block."""
    fake = FakeKube(token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.fake = fake  # type: ignore[attr-defined]
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
