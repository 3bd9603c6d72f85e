"""``flowc event publish NAME [--payload JSON] --target T``: start the flows that ``@trigger`` on NAME."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "publish an event (flowc event publish NAME --payload JSON --target T): @trigger flows start on it"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    from flowc.backends import TARGETS

    parser.add_argument("action", choices=["publish"], help="what to do (publish)")
    parser.add_argument("name", help="the event's name")
    parser.add_argument("--payload", default="{}", help="a JSON object: the event's fields (default {})")
    parser.add_argument("--target", required=True, choices=sorted(TARGETS), help="the orchestrator")


def run(args: argparse.Namespace) -> int:
    from flowc.config import ConfigError, load_settings
    from flowc.events import EventError, publish

    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        print(f"flowc event: --payload is not JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(payload, dict):
        print("flowc event: --payload must be a JSON object ({...})", file=sys.stderr)
        return 2
    try:
        body = publish(args.name, payload, target=args.target, settings=load_settings())
    except (EventError, ConfigError) as exc:
        print(f"flowc event: {exc}", file=sys.stderr)
        return 1
    print(f"published event {body['name']} ({body['id']}) on {args.target}")
    return 0
