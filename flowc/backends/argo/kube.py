"""A minimal Kubernetes API client for Argo's resources (standard library only).

Argo's objects are custom resources, served by the Kubernetes API under
``/apis/argoproj.io/v1alpha1/namespaces/<ns>/<plural>``
(https://kubernetes.io/docs/reference/using-api/api-concepts/): ``GET`` reads one, ``POST`` to the
collection creates, ``PUT`` replaces one and must carry the ``metadata.resourceVersion`` last read
(optimistic concurrency: a stale one gets 409 Conflict), ``PATCH`` with a JSON merge patch
(``application/merge-patch+json``, RFC 7386) changes the fields it names, and ``GET`` on the
collection with ``?labelSelector=k=v`` lists (``{"items": [...]}``).
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PLURALS", "KubeClient", "KubeError", "client_from_settings", "resource_path"]

GROUP_VERSION = "argoproj.io/v1alpha1"
PLURALS = {
    "WorkflowTemplate": "workflowtemplates",
    "CronWorkflow": "cronworkflows",
    "Workflow": "workflows",
    "Sensor": "sensors",  # Argo Events' (the same API group and version)
}
_IN_CLUSTER = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeError(RuntimeError):
    """An API call that failed: ``status`` is the HTTP status (0 when the server was unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        from flowc.redact import mask_credentials  # the server's URL may carry a password

        message = mask_credentials(message)
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


def resource_path(kind: str, namespace: str, name: str | None = None) -> str:
    """``/apis/argoproj.io/v1alpha1/namespaces/<ns>/<plural>[/<name>]``."""
    path = f"/apis/{GROUP_VERSION}/namespaces/{namespace}/{PLURALS[kind]}"
    return f"{path}/{name}" if name else path


@dataclass
class KubeClient:
    """Talks JSON to one API server with a bearer token."""

    server: str
    token: str | None = None
    ca_file: str | None = None
    timeout: float = 30.0

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """Sends one request; returns the decoded JSON answer (KubeError on any non-2xx status)."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True).encode("utf-8")
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.server.rstrip("/") + path, data=data, headers=headers, method=method
        )
        context = None
        if self.server.startswith("https://"):
            context = ssl.create_default_context(cafile=self.ca_file)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            raise KubeError(exc.code, _status_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise KubeError(0, f"cannot reach {self.server}: {getattr(exc, 'reason', exc)}") from None
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            # A proxy or login page in front of the API server, not the API itself.
            problem = f"{method} {path}: {self.server} did not answer with JSON: {text[:200]!r}"
            raise KubeError(0, problem) from None
        if not isinstance(answer, dict):
            raise KubeError(0, f"{method} {path}: {self.server} answered {text[:200]!r}, not an object")
        return answer

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None if it does not exist."""
        try:
            return self.request("GET", resource_path(kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise


def _status_message(error: urllib.error.HTTPError) -> str:
    try:
        status = json.loads(error.read().decode("utf-8"))
        return str(status.get("message") or status.get("reason") or error.reason)
    except (ValueError, OSError):
        return str(error.reason)


def client_from_settings(settings: Any, environ: Mapping[str, str] | None = None) -> KubeClient:
    """A client for ``kubernetes.api_server`` / ``kubernetes.token``, else the in-cluster account.

    Raises:
        KubeError: no API server is configured and this is not a pod.
    """
    environ = os.environ if environ is None else environ
    server = settings.get("kubernetes.api_server")
    token = settings.get("kubernetes.token")
    ca_file = None
    if server is None and environ.get("KUBERNETES_SERVICE_HOST"):
        # Inside a pod (a CI runner on the cluster): the service account Kubernetes mounts.
        host, port = environ["KUBERNETES_SERVICE_HOST"], environ.get("KUBERNETES_SERVICE_PORT", "443")
        server = f"https://{host}:{port}"
        if token is None and (_IN_CLUSTER / "token").is_file():
            token = (_IN_CLUSTER / "token").read_text().strip()
        if (_IN_CLUSTER / "ca.crt").is_file():
            ca_file = str(_IN_CLUSTER / "ca.crt")
    if server is None:
        raise KubeError(
            0,
            "no Kubernetes API server: set kubernetes.api_server (FLOWC_KUBERNETES__API_SERVER) "
            "and kubernetes.token (FLOWC_KUBERNETES__TOKEN)",
        )
    return KubeClient(str(server), str(token) if token else None, ca_file)
