"""What the UI's pages and JSON API show, read from the datastore, with per-run caches.

:class:`UIData` answers every API request as plain JSON-able dicts. It keeps, per server:

* run summaries of finished runs (a finished run's record, status and end never change);
* a :class:`~flowc.ui.runindex.RunIndex` per recently viewed run (listed again at most every
  :data:`REFRESH_SECONDS` while the run is unfinished);
* each code version's graph, and each artifact's preview by its hash (content-addressed: a preview
  never goes stale).

Names from URLs reach this module already checked by :func:`flowc.ui.names.check_name`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from flowc.client.store import ClientStore
from flowc.control import Field
from flowc.datastore import layout
from flowc.metadata import ENGINES, CorruptRecord, engine_of, with_tag_updates
from flowc.ui.graph import GraphStep, render_svg, step_order
from flowc.ui.runindex import RunIndex, TaskEntry, task_status

__all__ = ["ENGINES", "NotFoundError", "UIData", "engine_of"]

#: Seconds between two listings of an unfinished run's folder.
REFRESH_SECONDS = 2.0
#: Runs whose task index is kept; previews kept.
KEPT_INDEXES, KEPT_PREVIEWS = 8, 512
#: Artifacts bigger than this get no preview (the child would load all of it).
PREVIEW_MAX_BYTES = 512 << 20
#: Tasks per step the timeline shows at most (see :meth:`UIData.timeline`).
TIMELINE_PER_STEP = 1000
_END_STEP = "end"


class NotFoundError(LookupError):
    """No such flow, run, task, artifact or card (answered with 404)."""


def _seconds(start: Any, end: Any) -> float | None:
    try:
        return (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()
    except (TypeError, ValueError):
        return None


def _epoch_ms(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp() * 1000
    except (TypeError, ValueError):
        return None


def _attempt_facts(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "start", "end", "host", "exit_code", "exit_reason", "environment")  # @pypi: name, lock
    return {key: record.get(key) for key in keys}


class UIData:
    """Reads one datastore for the UI (thread-safe: Starlette answers requests on a thread pool)."""

    def __init__(self, store: ClientStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._finished_runs: dict[tuple[str, str], dict[str, Any]] = {}
        self._indexes: OrderedDict[tuple[str, str], tuple[RunIndex, float, bool]] = OrderedDict()
        self._graphs: dict[str, list[GraphStep] | str] = {}
        self._previews: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # ---- flows and runs ------------------------------------------------------------------
    def flows(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "runs": len(self.store.children(layout.runs_prefix(name)))}
            for name in self.store.flow_names()
        ]

    def run_summary(self, flow: str, run_id: str) -> dict[str, Any]:
        """Engine, status, tags, user, branch, start, end and duration of one run."""
        cached = self._finished_runs.get((flow, run_id))
        if cached is not None:
            return cached
        try:
            record = self.store.read_json(layout.run_key(flow, run_id))
        except CorruptRecord as exc:
            return {"id": run_id, "flow": flow, "status": "unreadable", "reason": str(exc), "tags": []}
        if record is None:
            raise NotFoundError(f"no run {flow}/{run_id}")
        try:
            record = with_tag_updates(self.store.storage, flow, run_id, record)
        except CorruptRecord as exc:
            return {"id": run_id, "flow": flow, "status": "unreadable", "reason": str(exc), "tags": []}
        try:
            status_record = self.store.read_json(layout.status_key(flow, run_id)) or {}
        except CorruptRecord as exc:
            status_record = {"status": "unreadable", "reason": str(exc)}
        end_task = layout.task_id(_END_STEP)
        succeeded = self.store.exists(layout.task_key(flow, run_id, _END_STEP, end_task))
        recorded = status_record.get("status")
        if succeeded:
            status = "successful"
        elif recorded == "successful":  # recorded so, but its end task is gone (as `flowc runs` says)
            status = "incomplete"
        elif recorded:
            status = str(recorded)
        else:  # running, or crashed when its local runtime is gone (the rule of `flowc runs`)
            from flowc.runtime.records import liveness

            status = "crashed" if liveness(record, None) == "crashed" else "running"
        end = status_record.get("end")
        if succeeded and not end:
            attempt = self.store.read_json(layout.attempt_key(flow, run_id, _END_STEP, end_task, 0)) or {}
            end = attempt.get("end")
        system_tags = [str(t) for t in record.get("system_tags") or []]
        branch = next((t.split(":", 1)[1] for t in system_tags if t.startswith("project_branch:")), None)
        summary = {
            "id": run_id,
            "flow": flow,
            "engine": engine_of(run_id, record),
            "status": status,
            "reason": status_record.get("reason"),
            "tags": sorted(str(t) for t in record.get("tags") or []),
            "system_tags": sorted(system_tags),
            "user": record.get("user"),
            "project_branch": branch,
            "start": record.get("start"),
            "end": end,
            "duration": _seconds(record.get("start"), end) if end else None,
            "parameters": record.get("parameters") or {},
            "origin_run_id": record.get("origin_run_id"),
        }
        if status != "running":
            self._finished_runs[(flow, run_id)] = summary
        return summary

    def runs(
        self,
        flow: str,
        *,
        status: str | None = None,
        tag: str | None = None,
        engine: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A flow's runs, newest first, filtered, one page of them."""
        run_ids = self.store.children(layout.runs_prefix(flow))
        if not run_ids:
            raise NotFoundError(f"no flow {flow!r} in this datastore")
        found = []
        for summary in self._summaries(flow, run_ids):
            if summary is None:  # a folder without run.json: not a run (yet)
                continue
            if status and summary["status"] != status:
                continue
            if tag and tag not in summary["tags"] and tag not in summary.get("system_tags", []):
                continue
            if engine and summary.get("engine") != engine:
                continue
            found.append(summary)
        found.sort(key=lambda s: (str(s.get("start") or ""), s["id"]), reverse=True)
        return {"flow": flow, "total": len(found), "offset": offset, "runs": found[offset : offset + limit]}

    def _summaries(self, flow: str, run_ids: list[str]) -> list[dict[str, Any] | None]:
        """:meth:`run_summary` of each run (None for a folder that is not a run); on S3, the
        runs not cached yet are read 16 at a time (each costs up to three requests)."""

        def one(run_id: str) -> dict[str, Any] | None:
            try:
                return self.run_summary(flow, run_id)
            except NotFoundError:
                return None

        if self.store.local_path(layout.runs_prefix(flow)) is not None:
            return [one(run_id) for run_id in run_ids]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(one, run_ids))

    # ---- one run -------------------------------------------------------------------------
    def index(self, flow: str, run_id: str) -> RunIndex:
        """The run's task index: built once, listed again (at most every :data:`REFRESH_SECONDS`)
        while the last listing was of an unfinished run."""
        key = (flow, run_id)
        with self._lock:
            held = self._indexes.get(key)
            now = time.monotonic()
            if held is None:
                if not self.store.exists(layout.run_key(flow, run_id)):
                    raise NotFoundError(f"no run {flow}/{run_id}")
                running = self.run_summary(flow, run_id)["status"] == "running"
                held = (RunIndex(self.store, flow, run_id), now, running)
            elif held[2] and now - held[1] > REFRESH_SECONDS:
                running = self.run_summary(flow, run_id)["status"] == "running"
                held[0].refresh()
                held = (held[0], now, running)
            self._indexes[key] = held
            self._indexes.move_to_end(key)
            while len(self._indexes) > KEPT_INDEXES:
                self._indexes.popitem(last=False)
            return held[0]

    def run(self, flow: str, run_id: str) -> dict[str, Any]:
        """The run page's data: its summary, each step's status and counts, and its graph (SVG)."""
        from concurrent.futures import ThreadPoolExecutor

        summary = self.run_summary(flow, run_id)
        with ThreadPoolExecutor(1) as pool:  # the IR's child process works while we list the run
            from_ir = pool.submit(self._ir_graph, flow, run_id)
            index = self.index(flow, run_id)
            statuses = index.statuses()
            graph, graph_error = from_ir.result()
        steps_info: dict[str, dict[str, Any]] = {}
        for (step, _), status in statuses.items():
            info = steps_info.setdefault(step, {"counts": {}})
            info["counts"][status] = info["counts"].get(status, 0) + 1
        for info in steps_info.values():
            counts = info["counts"]
            info["status"] = next(
                (s for s in ("failed", "running", "pending") if counts.get(s)), "successful"
            )
        if graph is None:
            graph = self._record_graph(flow, run_id, index)
        order = self._step_order(flow, run_id, index)
        steps = [
            {
                "name": name,
                "status": steps_info.get(name, {}).get("status", "not-started"),
                "counts": steps_info.get(name, {}).get("counts", {}),
            }
            for name in order
        ]
        return {
            **summary,
            "task_count": len(statuses),
            "steps": steps,
            "graph_svg": render_svg(graph, steps_info) if graph else None,
            "graph_error": graph_error,
        }

    def _step_order(self, flow: str, run_id: str, index: RunIndex) -> list[str]:
        """The run's steps in the flow's order (the IR's when it was built already, else the order
        the tasks' control records give), then any others by name."""
        held = self._graphs.get(self._code_key(self._code(flow, run_id)))
        graph = held if isinstance(held, list) else self._record_graph(flow, run_id, index)
        order = step_order(graph)
        return order + sorted(set(index.steps) - set(order))

    def _code(self, flow: str, run_id: str) -> dict[str, Any] | None:
        """Where the run's flow code is, as its start task recorded it (None before it succeeded)."""
        try:
            key = layout.task_key(flow, run_id, "start", layout.task_id("start"))
            record = self.store.read_json(key) or {}
        except CorruptRecord:
            return None
        return record.get("code")

    @staticmethod
    def _code_key(code: dict[str, Any] | None) -> str:
        return repr(sorted((code or {}).items()))

    def _ir_graph(self, flow: str, run_id: str) -> tuple[list[GraphStep] | None, str | None]:
        """The flow's steps from its IR, built from the code the run recorded (once per code
        version; :func:`flowc.ui.sandbox.flow_ir`), or None and why not."""
        code = self._code(flow, run_id)
        if not code:
            return None, "the run has not recorded its code yet"
        key = self._code_key(code)
        if key not in self._graphs:
            from flowc.ui.sandbox import SandboxError, flow_ir

            try:
                ir = flow_ir(self.store.url, flow, code)
                self._graphs[key] = [
                    GraphStep(
                        s["name"],
                        tuple(s.get("successors") or ()),
                        tuple(s.get("loop_targets") or ()),
                        str(s.get("transition") or "linear"),
                    )
                    for s in ir["steps"]
                ]
            except (SandboxError, KeyError, TypeError) as exc:
                self._graphs[key] = f"the flow's code could not be read ({exc})"
        held = self._graphs[key]
        return (held, None) if isinstance(held, list) else (None, held)

    def _record_graph(self, flow: str, run_id: str, index: RunIndex) -> list[GraphStep]:
        """The steps that ran and where each went next, from one task record per step."""
        steps = []
        for step, entries in index.steps.items():
            done = next((e for e in entries if e.done), None)
            control = {}
            if done is not None:
                record = self.store.read_json(layout.task_key(flow, run_id, step, done.task_id)) or {}
                control = record.get("control") or {}
            successors = tuple(control.get(Field.NEXT) or ())
            steps.append(GraphStep(step, successors, (), str(control.get("transition") or "")))
        return steps

    def tasks(
        self,
        flow: str,
        run_id: str,
        *,
        step: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> dict[str, Any]:
        """One page of the run's tasks (in step order, then foreach index), with their latest attempt."""
        index = self.index(flow, run_id)
        if step:
            entries = list(index.steps.get(step, []))
        else:
            order = self._step_order(flow, run_id, index)
            entries = [e for name in order for e in index.steps.get(name, [])]
        if status:
            statuses = index.statuses()
            entries = [e for e in entries if statuses[(e.step, e.task_id)] == status]
        page = entries[offset : offset + limit]
        index.detail(page)
        records = index.latest_records(page)
        rows = []
        for entry in page:
            record = records.get((entry.step, entry.task_id)) or {}
            rows.append(
                {
                    "step": entry.step,
                    "task_id": entry.task_id,
                    "status": task_status(entry, records.get((entry.step, entry.task_id))),
                    "attempts": len(entry.attempts or ()),
                    "start": record.get("start"),
                    "end": record.get("end"),
                    "duration": _seconds(record.get("start"), record.get("end")),
                    "cards": bool(entry.card_attempts),
                }
            )
        return {"total": len(entries), "offset": offset, "tasks": rows}

    def timeline(self, flow: str, run_id: str) -> dict[str, Any]:
        """Every attempt of every task: ``[step, task, attempt, start, end, status]`` with times in
        milliseconds from the run's first start (end None while running).

        A step of more than :data:`TIMELINE_PER_STEP` tasks shows that many: every task that
        retried or did not succeed, then evenly spaced ones of the rest (``sampled`` says how many
        of how many). A chart a thousand pixels wide cannot tell 10,000 bars apart, and reading
        10,000 records is most of a second on a busy machine."""
        index = self.index(flow, run_id)
        wanted, sampled = [], {}
        for step, entries in index.steps.items():
            shown = entries
            if len(entries) > TIMELINE_PER_STEP:
                # Every task that retried or did not succeed, and evenly spaced plain successes.
                # (A task not listed yet, attempts None, counts as plain: listing every folder of
                # a 10,000-task step to find its retries would cost what sampling saves.)
                plain = [e for e in entries if e.done and (e.attempts is None or len(e.attempts) == 1)]
                others = [e for e in entries if not (e.done and (e.attempts is None or len(e.attempts) == 1))]
                room = max(TIMELINE_PER_STEP - len(others), 0)
                shown = others + [plain[i * len(plain) // room] for i in range(room)] if room else others
                sampled[step] = {"shown": len(shown), "tasks": len(entries)}
            index.detail(shown)
            wanted += [(entry, attempt) for entry in shown for attempt in entry.attempts or ()]
        records = index.attempt_records(wanted)
        rows = []
        for (step, task, attempt), record in records.items():
            start = _epoch_ms(record.get("start"))
            if start is None:
                continue
            rows.append([step, task, attempt, start, _epoch_ms(record.get("end")), record.get("status")])
        origin = min((row[3] for row in rows), default=0.0)
        for row in rows:
            row[3] = round(row[3] - origin)
            row[4] = None if row[4] is None else round(row[4] - origin)
        rows.sort(key=lambda row: (row[3], row[0], row[1], row[2]))
        steps = self._step_order(flow, run_id, index)
        return {"origin": origin, "steps": steps, "attempts": rows, "sampled": sampled}

    # ---- one task ------------------------------------------------------------------------
    def _entry(self, flow: str, run_id: str, step: str, task_id: str) -> TaskEntry:
        index = self.index(flow, run_id)
        entry = next((e for e in index.steps.get(step, []) if e.task_id == task_id), None)
        if entry is None:
            index.refresh()  # a task newer than the cached listing
            entry = next((e for e in index.steps.get(step, []) if e.task_id == task_id), None)
        if entry is None:
            raise NotFoundError(f"no task {flow}/{run_id}/{step}/{task_id}")
        index.detail([entry])
        return entry

    def task(self, flow: str, run_id: str, step: str, task_id: str) -> dict[str, Any]:
        """A task's status, attempts (with their records), artifacts, cards and exception."""
        entry = self._entry(flow, run_id, step, task_id)
        index = self.index(flow, run_id)
        attempts = index.attempt_records([(entry, a) for a in entry.attempts or ()])
        try:
            record = self.store.read_json(layout.task_key(flow, run_id, step, task_id)) or {}
        except CorruptRecord as exc:
            record = {"corrupt": str(exc)}
        latest = attempts.get((step, task_id, entry.latest_attempt)) if entry.attempts else None
        exception = (latest or {}).get("exception") if not entry.done else None
        artifacts = [
            {"name": name, "type": meta.get("type"), "size": meta.get("size"), "sha": meta.get("sha")}
            for name, meta in sorted((record.get("artifacts") or {}).items())
        ]
        return {
            "flow": flow,
            "run_id": run_id,
            "step": step,
            "task_id": task_id,
            "pathspec": f"{flow}/{run_id}/{step}/{task_id}",
            "status": task_status(entry, latest),
            "attempts": [
                {"attempt": number, **_attempt_facts(attempts.get((step, task_id, number)) or {})}
                for number in entry.attempts or ()
            ],
            "artifacts": artifacts,
            "exception": exception,
            "caught": record.get("caught"),
            "cards": self.cards(flow, run_id, step, task_id, entry),
            "foreach_index": record.get("index_path"),
            "corrupt": record.get("corrupt"),
        }

    def cards(
        self, flow: str, run_id: str, step: str, task_id: str, entry: TaskEntry | None = None
    ) -> list[dict[str, Any]]:
        """The cards of the task's latest attempt that has any (the contract of flowc.cards.store)."""
        entry = entry or self._entry(flow, run_id, step, task_id)
        if not entry.card_attempts:
            return []
        from flowc.cards.store import list_cards

        try:
            ref, found = list_cards(self.store.storage, flow, run_id, step, task_id, entry.card_attempts[-1])
        except (ValueError, CorruptRecord) as exc:
            return [{"status": "error", "error": f"unreadable card index: {exc}"}]
        return [
            {
                "type": c.type,
                "id": c.id,
                "file": c.file,
                "status": c.status,
                "error": c.error,
                "attempt": ref.attempt,
            }
            for c in found
        ]

    def card_html(self, flow: str, run_id: str, step: str, task_id: str, attempt: int, file: str) -> str:
        from flowc.cards.store import CardRef, read_card
        from flowc.datastore.storage import NotFound

        try:
            return read_card(self.store.storage, CardRef(flow, run_id, step, task_id, attempt), file)
        except (NotFound, ValueError):
            raise NotFoundError(f"no card {file!r} for {flow}/{run_id}/{step}/{task_id}") from None

    def log(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        stream: str,
        attempt: int | None,
        tail: int = 1 << 20,
    ) -> dict[str, Any]:
        """The end (last ``tail`` bytes) of one attempt's log stream."""
        entry = self._entry(flow, run_id, step, task_id)
        number = attempt if attempt is not None else (entry.latest_attempt or 0)
        text = self.store.read_log(flow, run_id, step, task_id, number, stream) or ""
        cut = len(text) > tail
        return {"stream": stream, "attempt": number, "truncated": cut, "text": text[-tail:] if cut else text}

    def _artifact_meta(self, flow: str, run_id: str, step: str, task_id: str, name: str) -> dict[str, Any]:
        record = self.store.read_json(layout.task_key(flow, run_id, step, task_id)) or {}
        meta = (record.get("artifacts") or {}).get(name)
        if meta is None:
            raise NotFoundError(f"task {flow}/{run_id}/{step}/{task_id} has no artifact {name!r}")
        return meta

    def preview(self, flow: str, run_id: str, step: str, task_id: str, name: str) -> dict[str, Any]:
        """A text preview of one artifact, made in the sandbox (flowc.ui.sandbox), kept by hash."""
        meta = self._artifact_meta(flow, run_id, step, task_id, name)
        sha = str(meta.get("sha"))
        cached = self._previews.get(sha)
        if cached is None and int(meta.get("size") or 0) > PREVIEW_MAX_BYTES:
            limit = PREVIEW_MAX_BYTES >> 20
            cached = {"error": f"no preview: the artifact is over {limit} MiB (download it instead)"}
        if cached is None:
            from flowc.ui.sandbox import SandboxError, run_sandboxed

            try:
                cached = run_sandboxed(
                    {
                        "command": "preview",
                        "datastore": self.store.url,
                        "artifact": name,
                        "pathspec": f"{flow}/{run_id}/{step}/{task_id}",
                    }
                )
            except SandboxError as exc:
                cached = {"error": f"no preview: {exc}"}
            with self._lock:
                self._previews[sha] = cached
                while len(self._previews) > KEPT_PREVIEWS:
                    self._previews.popitem(last=False)
        return {"name": name, "type": meta.get("type"), "size": meta.get("size"), **cached}

    def artifact_bytes(self, flow: str, run_id: str, step: str, task_id: str, name: str) -> bytes:
        """The artifact's stored bytes (flowc-pickle5 encoded, verified), never decoded here."""
        from flowc.datastore.objects import ObjectStore

        meta = self._artifact_meta(flow, run_id, step, task_id, name)
        return bytes(ObjectStore(self.store.storage).value_bytes(meta))
