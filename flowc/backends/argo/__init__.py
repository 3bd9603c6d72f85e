"""Argo Workflows back end: ``flowc compile|deploy|trigger --target argo``.

Modules: :mod:`.regions` (graph -> DAG templates), :mod:`.dags`, :mod:`.containers`,
:mod:`.expressions` (template tags), :mod:`.document` (the Kubernetes objects), :mod:`.checks`
(refusals), :mod:`.lint` (strict schema and semantic checks), :mod:`.kube` and :mod:`.deploy`
(Kubernetes API). Concepts: https://argo-workflows.readthedocs.io/en/latest/
"""

from __future__ import annotations

from flowc.backends.argo.backend import BACKEND, ArgoBackend
from flowc.backends.argo.capabilities import CAPABILITIES

__all__ = ["BACKEND", "CAPABILITIES", "ArgoBackend"]
