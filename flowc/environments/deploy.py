"""What a deployment adds for ``@pypi``: each environment locked for the target platform, its
wheels in the datastore's wheelhouse, and the locks recorded beside the code package.

Every target's deploy (and the test harnesses that deploy as it does) stores its code package with
:func:`store_code`: an environment that cannot be resolved fails the deploy before anything is
uploaded, naming its steps and the package.
"""

from __future__ import annotations

import json
from typing import Any

from flowc.environments.resolve import lock_environments
from flowc.ir import FlowIR

__all__ = ["record_locks", "store_code"]


def record_locks(ir: FlowIR, storage: Any, settings: Any, package_sha: str) -> dict[str, str]:
    """Locks every environment of ``ir`` for ``pypi.platform`` and records them beside package
    ``package_sha``; returns environment name -> lock hash (empty, and nothing written, without
    ``@pypi``).

    Raises:
        flowc.environments.resolve.ResolveError: an environment that cannot be locked.
    """
    from flowc.environments.lock import deployed_locks_key

    locks = lock_environments(ir, storage, settings, platform=str(settings.get("pypi.platform")))
    if not locks:
        return {}
    record = {name: lock.sha for name, lock in sorted(locks.items())}
    storage.write(deployed_locks_key(package_sha), json.dumps(record, sort_keys=True).encode())
    return record


def store_code(storage: Any, package: Any, ir: FlowIR, settings: Any) -> str:
    """Stores the code package and records the locks of its environments; returns the package URL.

    The locks are made first: an unresolvable environment uploads nothing.
    """
    from flowc.package import store_package

    record_locks(ir, storage, settings, package.sha)
    return store_package(storage, package)
