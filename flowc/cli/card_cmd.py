"""``flowc card list|get|view PATHSPEC``: the cards a task rendered (see docs/cards.md)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "list, print or open the cards of a task (Flow/run/step/task, or Flow/run/step: its task)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    from flowc.cli.pathspecs import add_flow_name_option

    add_flow_name_option(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("list", "list the cards of a task, or of every task of a step"),
        ("get", "write a card's HTML to FILE (default: stdout)"),
        ("view", "open a card in a browser, or print its file's path"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "pathspec",
            help="Flow/run_id/step/task_id or Flow/run_id/step ("
            + ("every task of the step" if name == "list" else "the step's task")
            + "); as `python FLOW.py card`: run_id/step[/task_id] or a step of the latest run",
        )
        if name == "get":
            action.add_argument("file", nargs="?", help="where to write the HTML (default: stdout)")
        action.add_argument(
            "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
        )
        action.add_argument("--type", dest="card_type", metavar="TYPE", help="only cards of this type")
        action.add_argument(
            "--id", dest="card_id", metavar="ID", help="only the card with this @card(id=...)"
        )
        action.add_argument(
            "--attempt", type=int, metavar="N", help="this attempt (default: the latest with cards)"
        )
        if name == "list":
            action.add_argument("--as-json", action="store_true", help="print JSON")
            action.add_argument("--file", metavar="FILE", help="write the JSON listing to FILE")
        else:
            action.add_argument(
                "--hash", dest="card_hash", metavar="HASH", help="the card whose hash starts with HASH"
            )
        if name == "view":
            action.add_argument(
                "--out", metavar="FILE", help="write the card here (default: a temporary file)"
            )
            action.add_argument("--no-browser", action="store_true", help="only print the file's path")
            action.add_argument(
                "--follow",
                action="store_true",
                help="keep the file current while the task runs (until it finishes)",
            )
            action.add_argument(
                "--interval",
                type=float,
                default=2.0,
                metavar="S",
                help="seconds between updates with --follow (default: 2)",
            )


def _fail(message: str, code: int = 1) -> int:
    print(f"flowc card: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from flowc.cards.client import CardNotPresentException
    from flowc.client import MetaflowNotFound
    from flowc.client.store import open_client_store

    try:
        store = open_client_store(args.datastore)
        parts = _parts(store, args.pathspec, args.flow_name)
        if len(parts) not in (3, 4) or not all(parts):
            return _fail(f"give Flow/run_id/step/task_id or Flow/run_id/step, not {args.pathspec!r}", 2)
        if len(parts) == 3 and args.action != "list":
            parts = _step_task(store, parts)
        if args.action == "list":
            return _list(store, parts, args)
        if args.action == "view" and args.follow:
            card = _first_card_of_running_task(store, parts, args)
        else:
            card = _one_card(store, parts, args)
        if args.action == "get":
            return _get(card, args)
        return _view(store, parts, card, args)
    except (CardNotPresentException, MetaflowNotFound, ValueError) as exc:
        return _fail(str(exc))


def _parts(store: Any, pathspec: str, flow_name: str | None) -> list[str]:
    """The pathspec's parts; as Metaflow's card CLI (``python FLOW.py card view start``), a bare
    step name is that step of the flow's latest run (in the current namespace)."""
    from flowc.cli.pathspecs import full_pathspec
    from flowc.client import MetaflowNotFound
    from flowc.client.objects import Flow

    if flow_name and pathspec.strip("/") and "/" not in pathspec.strip("/"):
        run = Flow(flow_name, datastore=store).latest_run
        if run is None:
            raise MetaflowNotFound(f"no run of {flow_name} in this namespace in {store.url}")
        return [flow_name, run.id, pathspec.strip("/")]
    return full_pathspec(pathspec, flow_name, (3, 4)).split("/")


def _step_task(store: Any, parts: list[str]) -> list[str]:
    """A step's task, as Metaflow's ``Step.task`` (its successful task first) for ``get``/``view``."""
    from flowc.client import MetaflowNotFound

    flow, run_id, step = parts
    task_ids = store.task_ids(flow, run_id, step)
    if not task_ids:
        raise MetaflowNotFound(f"no tasks under {'/'.join(parts)} in {store.url}")
    finished = set(store.succeeded_task_ids(flow, run_id, step))
    return [*parts, next((task for task in task_ids if task in finished), task_ids[0])]


def _task(store: Any, parts: list[str]) -> Any:
    from flowc.client import MetaflowNotFound
    from flowc.client.objects import Task

    flow, run_id, step, task_id = parts
    if task_id not in store.task_ids(flow, run_id, step):
        raise MetaflowNotFound(f"no task {'/'.join(parts)} in {store.url}")
    return Task._from_parts(store, flow, run_id, step, task_id)


def _cards(store: Any, parts: list[str], args: argparse.Namespace) -> list[Any]:
    from flowc.cards.client import CardNotPresentException, get_cards

    cards = list(get_cards(_task(store, parts), id=args.card_id, type=args.card_type, attempt=args.attempt))
    card_hash = getattr(args, "card_hash", None)
    if card_hash:
        cards = [card for card in cards if card.hash.startswith(card_hash)]
        if not cards:
            raise CardNotPresentException("/".join(parts), card_type=args.card_type, card_hash=card_hash)
    return cards


def _one_card(store: Any, parts: list[str], args: argparse.Namespace) -> Any:
    cards = _cards(store, parts, args)
    if len(cards) > 1:
        print(
            f"flowc card: {len(cards)} cards match, showing the first ({cards[0].type}"
            f"{'' if cards[0].id is None else ', id ' + cards[0].id}); choose with --type, --id or --hash",
            file=sys.stderr,
        )
    return cards[0]


def _first_card_of_running_task(store: Any, parts: list[str], args: argparse.Namespace) -> Any:
    """The card, waiting for the task to render it while the task runs (``view --follow``)."""
    import time

    from flowc.cards.client import CardNotPresentException

    task = _task(store, parts)
    while True:
        finished = task.finished
        try:
            return _one_card(store, parts, args)
        except CardNotPresentException:
            if finished:
                raise
        time.sleep(args.interval)


def _listing(store: Any, parts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from flowc.cards.client import CardNotPresentException

    try:
        cards = _cards(store, parts, args)
    except CardNotPresentException:
        cards = []
    return {
        "pathspec": "/".join(parts),
        "cards": [
            {
                "type": c.type,
                "id": c.id,
                "hash": c.hash,
                "filename": c.path.rsplit("/", 1)[-1],
                "status": c.status,
                "error": c.error,
                "attempt": c.attempt,
            }
            for c in cards
        ],
    }


def _list(store: Any, parts: list[str], args: argparse.Namespace) -> int:
    from flowc.cards.client import CardNotPresentException

    if len(parts) == 3:
        flow, run_id, step = parts
        listings = [
            _listing(store, [flow, run_id, step, task], args) for task in store.task_ids(flow, run_id, step)
        ]
        if not listings:
            return _fail(f"no tasks under {'/'.join(parts)} in {store.url}")
    else:
        _task(store, parts)
        listings = [_listing(store, parts, args)]
    if not any(listing["cards"] for listing in listings):
        raise CardNotPresentException("/".join(parts), card_type=args.card_type, card_id=args.card_id)
    payload: Any = listings[0] if len(parts) == 4 else listings
    if args.file:
        with open(args.file, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1)
    if args.as_json:
        print(json.dumps(payload, indent=1))
    elif not args.file:
        for listing in listings:
            for c in listing["cards"]:
                status = "" if c["status"] == "ok" else f"  [{c['status']}: {c['error']}]"
                print(
                    f"{listing['pathspec']}  attempt {c['attempt']}  type {c['type']}  "
                    f"id {c['id'] or '-'}  hash {c['hash'][:10]}{status}"
                )
    return 0


def _get(card: Any, args: argparse.Namespace) -> int:
    html = card.get()
    if args.file:
        with open(args.file, "w", encoding="utf-8") as handle:
            handle.write(html)
    else:
        sys.stdout.write(html)
    return 0


def _write(path: str, html: str) -> None:
    import os

    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(html)
    os.replace(temporary, path)  # a browser reloading the file never reads half of it


def _view(store: Any, parts: list[str], card: Any, args: argparse.Namespace) -> int:
    import os
    import tempfile
    import time

    from flowc.cards.client import open_in_browser

    if args.out:
        path = os.path.abspath(args.out)
    else:
        handle, path = tempfile.mkstemp(prefix=f"flowc-card-{card.type}-", suffix=".html")
        os.close(handle)
    _write(path, card.get())
    print(path, flush=True)
    if not args.no_browser:
        open_in_browser(path)
    if args.follow:
        task = _task(store, parts)
        last = None
        while True:
            finished = task.finished
            try:
                card = _one_card(store, parts, args) if last is not None else card
                html = card.get()
            except Exception:  # the card is being replaced: try again next time
                html = None
            if html is not None and html != last:
                _write(path, html)
                last = html
            if finished:
                break
            time.sleep(args.interval)
    return 0
