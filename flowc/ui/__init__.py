"""``flowc ui``: a read-only web UI and JSON API over a datastore (local or S3).

It reads what the task runner and the launchers wrote (docs/architecture.md, "Datastore layout")
through :mod:`flowc.client.store`: no database, no metadata service. Runs of every engine (local,
Argo, Step Functions, Airflow) live side by side there, so one UI shows them all. See docs/ui.md.

Nothing here is imported by ``import flowc``: Starlette and uvicorn load only when the server starts.
"""

__all__: list[str] = []
