"""Per-step Python packages: ``@pypi`` / ``@pypi_base`` (docs/environments.md).

- :mod:`.spec`: the declared spec of a step (in the IR, named by its hash; no network).
- :mod:`.lock`: a lock (exact versions and wheel hashes for one platform and Python) and where
  locks and wheels live in the datastore (content-addressed objects; the wheelhouse).
- :mod:`.resolve`: spec -> lock with uv (pip as the fallback), wheels downloaded and stored.
- :mod:`.local`: what ``flowc run`` does: every environment of a flow resolved and installed once,
  before any task starts.
- Installing a lock from the wheelhouse is standard-library code in
  :mod:`flowc.task_runner.bootstrap_program` (it runs in images without flowc).
"""
