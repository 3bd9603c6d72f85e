"""``flowc config show``: every configuration key, its effective value and where it came from.

Secret keys print as ``******`` when set; a password inside a URL (``https://user:pw@host``) is
masked the same way. Nothing else here prints a setting's value.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flowc.redact import MASK, mask_credentials

HELP = "show the effective configuration and where each value comes from (secrets masked)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    show = sub.add_parser("show", help=HELP, description=HELP)
    show.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a command-line override (what a flag of another command would set)",
    )
    show.add_argument("--json", action="store_true", help="print {key: {value, source}} as JSON")


def displayed(key: str, value: Any) -> Any:
    """``value`` as it may be shown: secrets masked, URL passwords masked."""
    from flowc.config import KEYS

    if value is None:
        return None
    if KEYS[key].secret:
        return MASK
    if isinstance(value, str):
        return mask_credentials(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def run(args: argparse.Namespace) -> int:
    from flowc.config import ConfigError, load_settings, value_from_text

    if args.action != "show":
        print("flowc config: give an action: show", file=sys.stderr)
        return 2
    try:
        overrides = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
            overrides[key.strip()] = value_from_text(key.strip(), value)
        settings = load_settings(overrides)
    except ConfigError as exc:
        print(f"flowc config: {exc}", file=sys.stderr)
        return 2
    rows = [(key, displayed(key, s.value), s.source) for key, s in sorted(settings.values.items())]
    if args.json:
        document = {key: {"value": value, "source": source} for key, value, source in rows}
        print(json.dumps(document, indent=2, sort_keys=True, default=list))
        return 0
    width = max(len(key) for key, _, _ in rows)
    value_width = min(48, max(len(_text(value)) for _, value, _ in rows))
    for key, value, source in rows:
        print(f"{key:<{width}}  {_text(value):<{value_width}}  {source}")
    return 0
