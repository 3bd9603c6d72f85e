"""Renders a step's cards into the datastore, from the task runner: the same code on every target.

While the task runs, ``current.card.refresh()`` calls :meth:`CardRenderer.runtime` (a whole runtime
card, or a data update). When the task has succeeded (its ``task.json`` written), the runner calls
:meth:`CardRenderer.final`: each card renders from the finished :class:`flowc.client.Task`, in a
thread bounded by the card's ``timeout``. A card that raises or times out never fails its task:
with ``save_errors=True`` (the default) its file says why and its index entry has status
``error`` or ``timeout``; with ``save_errors=False`` it is left out. Where it all goes:
:mod:`flowc.cards.store`.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any

from flowc.cards.card import MetaflowCard
from flowc.cards.collector import CardComponentCollector, CardComponentManager
from flowc.cards.decorator import CardSpec
from flowc.cards.store import (
    CardEntry,
    CardRef,
    card_file_name,
    write_card_data,
    write_card_file,
    write_index,
)

__all__ = ["CardRenderer"]


class _Timeout(Exception):
    pass


def _bounded(call: Any, seconds: float) -> Any:
    """``call()`` in a daemon thread; raises :class:`_Timeout` after ``seconds`` (the thread is
    left to finish on its own: a Python thread cannot be stopped, and it holds nothing we need)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, name="flowc-card", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise _Timeout(f"rendering took longer than its timeout of {seconds:g} s")
    if "error" in result:
        error = result["error"]
        if not isinstance(error, Exception):
            # SystemExit or KeyboardInterrupt raised by the card's own code (sys.exit() in a
            # library): re-raised here it would end the task, which a card must never do.
            raise RuntimeError(f"the card's code raised {type(error).__name__}({error})") from error
        raise error
    return result.get("value")


def _say(message: str) -> None:
    import sys

    print(f"flowc: {message}", file=sys.stderr, flush=True)


class CardRenderer:
    """Writes the cards of one task attempt.

    Args:
        storage: the datastore.
        ref: the task attempt.
        flow: the flow's IR (what the default card draws the graph from).
        specs: the step's ``@card`` decorators.
    """

    def __init__(self, storage: Any, ref: CardRef, flow: Any, specs: list[CardSpec]) -> None:
        self.storage = storage
        self.ref = ref
        self.flow = flow
        self.specs = specs
        self._classes: dict[str, type | None] = {}
        self._runtime_entries: dict[int, CardEntry] = {}
        self._runtime_pages: dict[int, str] = {}  # the HTML last written per card while the task runs
        self.collector = CardComponentCollector(specs, self)

    # ---- shared ----------------------------------------------------------------------------
    def card_class(self, card_type: str) -> type | None:
        if card_type not in self._classes:
            from flowc.cards.registry import card_class

            self._classes[card_type] = card_class(card_type)
        return self._classes[card_type]

    def _task(self) -> Any:
        from flowc.client.objects import Task
        from flowc.client.store import ClientStore

        ref = self.ref
        return Task._from_parts(
            ClientStore.for_storage(self.storage), ref.flow, ref.run_id, ref.step, ref.task_id
        )

    def _card(self, card_class: type, manager: CardComponentManager) -> MetaflowCard:
        spec = manager.spec
        # Every card gets its components: a card that does not allow user components still has
        # those added through current.card["id"] (as in Metaflow's card_cli.create).
        components = manager.serialized_components()
        return card_class(options=dict(spec.options), components=components, graph=self.flow, flow=None)

    @staticmethod
    def _reload_token(card: MetaflowCard, task: Any, data: dict[str, Any]) -> str:
        # Metaflow's rules (metaflow/plugins/cards/card_cli.py, the reload token of a card).
        if data.get("render_seq") == "final":
            return "final"
        policy = getattr(card, "RELOAD_POLICY", MetaflowCard.RELOAD_POLICY_NEVER)
        if policy == MetaflowCard.RELOAD_POLICY_ALWAYS:
            return f"render-seq-{data.get('render_seq')}"
        if policy == MetaflowCard.RELOAD_POLICY_ONCHANGE:
            return str(card.reload_content_token(task, data))
        return "never"

    @staticmethod
    def _html(value: Any, token: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"render() returned {type(value).__name__}, not the card's HTML as a str")
        return value.replace(MetaflowCard.RELOAD_POLICY_TOKEN, token)

    @staticmethod
    def _file(spec: CardSpec) -> str:
        return card_file_name(spec.position, spec.type, spec.id)

    # ---- while the task runs ---------------------------------------------------------------
    def runtime(self, manager: CardComponentManager, mode: str) -> None:
        """A runtime render (``mode="render_runtime"``) or data update (``"refresh"``) of one card."""
        spec = manager.spec
        try:
            card_class = self.card_class(spec.type)
            if card_class is None:
                return
            task = self._task()
            data = manager.latest_data(mode=mode)
            card = self._card(card_class, manager)
            token = self._reload_token(card, task, data)
            file = self._file(spec)
            if mode == "refresh":
                update = {"data": card.refresh(task, data), "reload_token": token, "created_on": time.time()}
                write_card_data(self.storage, self.ref, file, update)
            if mode == "render_runtime" or getattr(card_class, "RENDER_ON_DATA_UPDATE", False):
                html = self._html(card.render_runtime(task, data), token)
                if self._runtime_pages.get(spec.position) == html:
                    return  # a data update right after the whole render: nothing new to show
                self._runtime_pages[spec.position] = html
                write_card_file(self.storage, self.ref, file, html)
                self._runtime_entries[spec.position] = CardEntry(spec.type, spec.id, file)
                write_index(
                    self.storage, self.ref, [self._runtime_entries[p] for p in sorted(self._runtime_entries)]
                )
        except NotImplementedError:
            return  # the card type has no runtime form
        except (Exception, SystemExit) as exc:  # sys.exit() in a card's code must not end the step
            _say(f"card {spec.type!r} of {self.ref.pathspec} was not refreshed: {type(exc).__name__}: {exc}")

    # ---- when the task has succeeded -------------------------------------------------------
    def final(self) -> list[CardEntry]:
        """Renders every card of the step and writes the attempt's index; never raises."""
        entries = []
        task = self._task()
        for manager in self.collector.managers:
            try:
                entry = self._final_one(task, manager)
            except Exception as exc:  # storage trouble: say so, keep the task's success
                _say(f"card {manager.spec.type!r} of {self.ref.pathspec} was not stored: {exc}")
                continue
            if entry is not None:
                entries.append(entry)
        try:
            write_index(self.storage, self.ref, entries)
        except Exception as exc:
            _say(f"the cards of {self.ref.pathspec} were not stored: {exc}")
        return entries

    def _final_one(self, task: Any, manager: CardComponentManager) -> CardEntry | None:
        spec = manager.spec
        file = self._file(spec)
        card_class = self.card_class(spec.type)

        def render() -> tuple[str, Any]:
            if card_class is None:
                raise LookupError(
                    f"no card type {spec.type!r} (define a MetaflowCard subclass with type = {spec.type!r})"
                )
            card = self._card(card_class, manager)
            data = manager.latest_data(final=True, mode="render")
            card.runtime_data = data
            token = self._reload_token(card, task, data)
            html = self._html(card.render(task), token)
            update = None
            if getattr(card_class, "RUNTIME_UPDATABLE", False):
                try:
                    refresh_data = manager.latest_data(final=True, mode="refresh")
                    update = {
                        "data": card.refresh(task, refresh_data),
                        "reload_token": token,
                        "created_on": time.time(),
                    }
                except NotImplementedError:
                    update = None
            return html, update

        try:
            html, update = _bounded(render, spec.timeout)
        except _Timeout as exc:
            return self._failed(task, spec, file, "timeout", str(exc), "")
        except Exception as exc:
            detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            return self._failed(task, spec, file, "error", f"{type(exc).__name__}: {exc}", detail)
        write_card_file(self.storage, self.ref, file, html)
        if update is not None:
            write_card_data(self.storage, self.ref, file, update)
        return CardEntry(spec.type, spec.id, file)

    def _failed(
        self, task: Any, spec: CardSpec, file: str, status: str, reason: str, detail: str
    ) -> CardEntry | None:
        _say(f"card {spec.type!r} of {self.ref.pathspec} failed ({status}): {reason}")
        if not spec.save_errors:
            return None
        from flowc.cards.basic import ErrorCard

        options = {"card_type": spec.type, "error": reason, "detail": detail}
        write_card_file(self.storage, self.ref, file, ErrorCard(options=options).render(task))
        return CardEntry(spec.type, spec.id, file, status, reason)
