"""Identifiers, validated wherever they enter: flow names, run ids, step names, task ids and tags.

Run ids, step names and task ids are folder names in the datastore (``runs/<flow>/<run>/<step>/
<task>/``), so an id such as ``a/b/c``, ``/abs``, ``.`` or ``..`` would address another folder; a tag
is shown on one line of ``flowc runs``, so it holds no line break or other control character.
Command lines (argparse ``type=``), the client's pathspecs and the task runner's arguments all check
with these functions; an invalid id is one line naming it (:class:`InvalidId`), never a traceback.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "ID_MAX_BYTES",
    "TAG_MAX",
    "InvalidId",
    "argument",
    "check_flow_name",
    "check_run_id",
    "check_step_name",
    "check_tag",
    "check_task_id",
]

#: A folder name on Linux (NAME_MAX) is at most 255 bytes.
ID_MAX_BYTES = 255
#: Metaflow's limit on a tag's length.
TAG_MAX = 512
#: Run ids and task ids are one folder name: no ``/`` or ``\``, no space or control character, no
#: leading ``.`` (``.``, ``..``, hidden). Engines' run names fit: flowc's own are digits, Airflow's
#: ``airflow-...``, Argo's workflow names, Step Functions' ``sfn-<execution name>`` (whose names
#: may hold ``(``, ``+``, ``=``, ``@`` or non-ASCII letters:
#: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
_ID = re.compile(r"[^\s/\\.\x00-\x1f\x7f-\x9f\ud800-\udfff][^\s/\\\x00-\x1f\x7f-\x9f\ud800-\udfff]*")


class InvalidId(ValueError):
    """An identifier that cannot name what it should: the message says which and why."""


def _size_ok(kind: str, value: str) -> None:
    if len(value.encode("utf-8", "surrogatepass")) > ID_MAX_BYTES:
        raise InvalidId(f"{kind} {value[:40]!r}... is longer than {ID_MAX_BYTES} bytes (a folder name)")


def _check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidId(
            f"{kind} {value!r} is not valid: it is one folder name (no '/', '\\', space or control "
            "character, not starting with '.')"
        )
    _size_ok(kind, value)
    return value


def check_run_id(value: str) -> str:
    """``value`` if it is a valid run id, else :class:`InvalidId`."""
    return _check_id("run id", value)


def check_task_id(value: str) -> str:
    """``value`` if it is a valid task id, else :class:`InvalidId`."""
    return _check_id("task id", value)


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise InvalidId(f"{kind} {value!r} is not valid: it is a Python identifier (a class or method name)")
    _size_ok(kind, value)
    return value


def check_flow_name(value: str) -> str:
    """``value`` if it is a valid flow name (a Python identifier), else :class:`InvalidId`."""
    return _check_name("flow name", value)


def check_step_name(value: str) -> str:
    """``value`` if it is a valid step name (a Python identifier), else :class:`InvalidId`."""
    return _check_name("step name", value)


def check_tag(value: str) -> str:
    """``value`` if it is a valid tag: 1 to 512 characters, no control character (no line break)."""
    if not isinstance(value, str) or not value:
        raise InvalidId("a tag is not empty")
    if len(value) > TAG_MAX:
        raise InvalidId(f"tag {value[:40]!r}... is longer than {TAG_MAX} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        raise InvalidId(f"tag {value!r} holds a line break or control character")
    return value


def argument(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse ``type=`` from a check: an invalid value is argparse's one-line error (exit 2)."""

    def parse(text: str) -> str:
        try:
            return check(text)
        except InvalidId as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = check.__name__.removeprefix("check_").replace("_", " ")
    return parse
