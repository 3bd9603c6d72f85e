"""The client's namespace for a module-scoped fixture, put back exactly as it was afterwards.

The namespace is process state (as in Metaflow). The autouse fixture in tests/conftest.py restores
it around each test; a module-scoped fixture outlives that, so it must restore it itself, and
restore the raw value: ``get_namespace()`` reads ``user:<name>`` for the unset default, and setting
that back would pin a user name that later tests change through ``FLOWC_USER``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flowc.client.namespaces import _ProcessNamespace, namespace


@contextmanager
def every_namespace() -> Iterator[None]:
    """``namespace(None)`` inside the block; the process's namespace as it was after it."""
    saved = _ProcessNamespace.value
    namespace(None)
    try:
        yield
    finally:
        _ProcessNamespace.value = saved
