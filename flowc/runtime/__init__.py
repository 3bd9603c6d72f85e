"""The local runtime: ``flowc run`` and ``flowc resume`` (docs/architecture.md).

* :mod:`.plan`: which tasks become ready when a task succeeds (fan-outs, joins, switches, loops);
* :mod:`.executor`: a task attempt as a forked child (default) or ``python -m flowc.task_runner``;
* :mod:`.scheduler`: the event loop (parallelism, output streaming, retries, timeouts, signals);
* :mod:`.display`: prefixed task output and the live progress line;
* :mod:`.records`: run record, run status, killed attempts (through :mod:`flowc.metadata`);
* :mod:`.parameters`: flow parameters as command-line options;
* :mod:`.resume`: cloning an earlier run's successful tasks;
* :mod:`.launch`: putting it together for one run.
"""

from __future__ import annotations

__all__: list[str] = []
