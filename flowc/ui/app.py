"""The Starlette application: the JSON API (docs/ui.md) and the pages that call it.

Read-only: every route is a GET. Every name in a path goes through
:func:`flowc.ui.names.check_name` before it reaches the datastore. Card HTML is served with
``Content-Security-Policy: sandbox allow-scripts`` and shown in an ``<iframe sandbox="allow-scripts">``:
either alone gives the card an opaque origin, so its scripts run but cannot reach the UI's pages,
API responses or storage.
"""

from __future__ import annotations

from html import escape
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from flowc.client.store import ClientStore
from flowc.datastore.storage import StorageError
from flowc.ui.model import NotFoundError, UIData
from flowc.ui.names import BadName, check_name

__all__ = ["create_app"]

_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
_CARD_CSP = "sandbox allow-scripts"
_STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
_STREAMS = ("stdout", "stderr")
_PATH_NAMES = {"flow": "flow", "run": "run", "step": "step", "task": "task", "name": "artifact"}


def _names(request: Request) -> dict[str, str]:
    return {
        key: check_name(_PATH_NAMES[key], value)
        for key, value in request.path_params.items()
        if key in _PATH_NAMES
    }


def _int(request: Request, name: str, default: int, low: int = 0, high: int = 10_000) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise BadName(f"query parameter {name} must be a whole number")
    return max(low, min(high, int(raw)))


def _guarded(handler: Any) -> Any:
    """Turns a bad name into 400, a missing thing into 404, a datastore failure into 502 (JSON)."""

    async def endpoint(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        try:
            return await run_in_threadpool(handler, request)
        except BadName as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except NotFoundError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except StorageError as exc:
            return JSONResponse({"error": f"datastore: {exc}"}, status_code=502)

    return endpoint


def create_app(datastore: str, allowed_hosts: list[str] | None = None) -> Starlette:
    """The UI over the datastore at ``datastore`` (a local path or ``s3://bucket/prefix``).

    ``allowed_hosts``: the only ``Host`` names it answers (any port); None answers every name.
    """
    data = UIData(ClientStore(datastore))

    # ---- JSON API ------------------------------------------------------------------------
    def api_flows(request: Request) -> Response:
        return JSONResponse({"datastore": data.store.url, "flows": data.flows()})

    def api_runs(request: Request) -> Response:
        names = _names(request)
        query = request.query_params
        filters = {key: query.get(key) or None for key in ("status", "tag", "engine")}
        page = data.runs(
            names["flow"],
            **filters,
            offset=_int(request, "offset", 0, high=10**9),
            limit=_int(request, "limit", 50, low=1, high=1000),
        )
        return JSONResponse(page)

    def api_run(request: Request) -> Response:
        names = _names(request)
        return JSONResponse(data.run(names["flow"], names["run"]))

    def api_tasks(request: Request) -> Response:
        names = _names(request)
        step = request.query_params.get("step") or None
        status = request.query_params.get("status") or None
        page = data.tasks(
            names["flow"],
            names["run"],
            step=check_name("step", step) if step else None,
            status=status,
            offset=_int(request, "offset", 0, high=10**9),
            limit=_int(request, "limit", 100, low=1, high=1000),
        )
        return JSONResponse(page)

    def api_timeline(request: Request) -> Response:
        names = _names(request)
        return JSONResponse(data.timeline(names["flow"], names["run"]))

    def api_task(request: Request) -> Response:
        n = _names(request)
        return JSONResponse(data.task(n["flow"], n["run"], n["step"], n["task"]))

    def api_log(request: Request) -> Response:
        n = _names(request)
        stream = request.path_params["stream"]
        if stream not in _STREAMS:
            raise NotFoundError(f"no log stream {stream!r} (stdout or stderr)")
        attempt = request.query_params.get("attempt")
        number = _int(request, "attempt", 0) if attempt else None
        return JSONResponse(data.log(n["flow"], n["run"], n["step"], n["task"], stream, number))

    def api_preview(request: Request) -> Response:
        n = _names(request)
        return JSONResponse(data.preview(n["flow"], n["run"], n["step"], n["task"], n["name"]))

    def api_download(request: Request) -> Response:
        n = _names(request)
        body = data.artifact_bytes(n["flow"], n["run"], n["step"], n["task"], n["name"])
        return Response(
            body,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{n["name"]}.flowc-pickle5"'},
        )

    def api_card(request: Request) -> Response:
        n = _names(request)
        attempt = request.path_params["attempt"]
        html = data.card_html(n["flow"], n["run"], n["step"], n["task"], attempt, request.path_params["file"])
        headers = {"Content-Security-Policy": _CARD_CSP, "X-Content-Type-Options": "nosniff"}
        return HTMLResponse(html, headers=headers)

    # ---- pages ---------------------------------------------------------------------------
    def page(kind: str) -> Any:
        def render(request: Request) -> Response:
            names = _names(request)
            attributes = " ".join(f'data-{key}="{escape(value)}"' for key, value in names.items())
            title = " / ".join(["flowc", *names.values()])
            body = (
                "<!doctype html><html lang=en><head><meta charset=utf-8>"
                f"<title>{escape(title)}</title><link rel=stylesheet href=/static/app.css>"
                f'<script defer src=/static/app.js></script></head><body data-page="{kind}" {attributes}>'
                '<header><a href="/" class="brand">flowc</a><nav id="crumbs"></nav></header>'
                '<main id="main"><p class="loading">Loading…</p></main></body></html>'
            )
            return HTMLResponse(body, headers={"Content-Security-Policy": _PAGE_CSP})

        return render

    def static(request: Request) -> Response:
        name = request.path_params["file"]
        if name not in _STATIC:
            raise NotFoundError(f"no static file {name!r}")
        text = resources.files("flowc.ui").joinpath("static", name).read_text(encoding="utf-8")
        return Response(text, media_type=_STATIC[name])

    run_path = "/flows/{flow}/runs/{run}"
    task_path = run_path + "/steps/{step}/tasks/{task}"
    routes = [
        Route("/api/flows", _guarded(api_flows)),
        Route("/api/flows/{flow}/runs", _guarded(api_runs)),
        Route("/api" + run_path, _guarded(api_run)),
        Route("/api" + run_path + "/tasks", _guarded(api_tasks)),
        Route("/api" + run_path + "/timeline", _guarded(api_timeline)),
        Route("/api" + task_path, _guarded(api_task)),
        Route("/api" + task_path + "/logs/{stream}", _guarded(api_log)),
        Route("/api" + task_path + "/artifacts/{name}/preview", _guarded(api_preview)),
        Route("/api" + task_path + "/artifacts/{name}/download", _guarded(api_download)),
        Route("/api" + task_path + "/cards/{attempt:int}/{file}", _guarded(api_card)),
        Route("/", _guarded(page("flows"))),
        Route("/flows/{flow}", _guarded(page("runs"))),
        Route(run_path, _guarded(page("run"))),
        Route(task_path, _guarded(page("task"))),
        Route("/static/{file}", _guarded(static)),
    ]
    middleware = []
    if allowed_hosts is not None:
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    return Starlette(routes=routes, middleware=middleware)
