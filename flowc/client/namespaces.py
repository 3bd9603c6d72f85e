"""Namespaces, as in Metaflow: the client sees only runs carrying the current namespace's tag.

The default namespace is ``user:<username>`` (inside a task, the task runner sets the run's own:
``production:<token>`` for a deployed run); ``namespace(None)`` sees every run. As in Metaflow,
the namespace is one setting of the whole process: ``namespace(None)`` holds for the rest of a
script or notebook and in every thread (a thread pool reading many runs). A ``ContextVar`` would
not: a new thread starts from an empty context. So this is the one piece of module state here,
deliberately.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["current_username", "default_namespace", "get_namespace", "in_namespace", "namespace"]

_UNSET = object()


class _ProcessNamespace:
    """The process's current namespace (``_UNSET``: the default one, computed when read)."""

    value: object = _UNSET


def current_username() -> str:
    """The user name runs are recorded under (:func:`flowc.metadata.current_user`)."""
    from flowc.metadata import current_user

    return current_user()


def namespace(ns: str | None) -> str | None:
    """Switches the client to namespace ``ns`` (``None``: every run is visible); returns it."""
    _ProcessNamespace.value = ns
    return ns


def default_namespace() -> str:
    """Switches back to the default namespace ``user:<username>`` and returns it."""
    ns = f"user:{current_username()}"
    _ProcessNamespace.value = ns
    return ns


def get_namespace() -> str | None:
    """The current namespace (``None`` when every run is visible)."""
    ns = _ProcessNamespace.value
    if ns is _UNSET:
        return f"user:{current_username()}"
    return ns  # type: ignore[return-value]


def in_namespace(tags: Iterable[str], ns: str | None) -> bool:
    """True when a run with ``tags`` (user and system tags) is visible in namespace ``ns``."""
    return ns is None or ns in set(tags)
