"""Notifications of a deployed run's end: ``flowc deploy --notify-on-error --notify-on-success``.

Which outcomes notify is decided at deploy time and travels in the end-of-run command's argv
(``python -m flowc.task_runner.finish ... --notify error``), the one command every target already
runs once per run. Where to send is never in a compiled document: the end-of-run command reads the
webhook URL from configuration when the run ends (``notify.slack_webhook_url`` /
``notify.webhook_url``, so ``FLOWC_NOTIFY__SLACK_WEBHOOK_URL`` or ``FLOWC_NOTIFY__WEBHOOK_URL`` in
its environment: from a Kubernetes Secret or AWS Secrets Manager through the end step's
``@secrets``, or the worker's own environment). A Slack incoming webhook gets ``{"text": ...}``
(https://api.slack.com/messaging/webhooks); a generic webhook gets the run's facts as JSON.
A notification that cannot be sent is logged and changes nothing else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["EVENTS", "event_of", "finish_arguments", "notify", "notify_events"]

#: The outcomes a deployment may notify about, as ``--notify`` takes them.
EVENTS = ("error", "success")
#: Seconds to wait for a webhook to answer (the end-of-run command must end).
TIMEOUT_SECONDS = 10.0


def notify_events(options: Mapping[str, Any]) -> tuple[str, ...]:
    """The events the compile/deploy options ask to notify (``notify_on_error``, ``notify_on_success``)."""
    return tuple(event for event in EVENTS if options.get(f"notify_on_{event}"))


def finish_arguments(events: Sequence[str]) -> list[str]:
    """The end-of-run command's options for ``events``."""
    return [word for event in events for word in ("--notify", event)]


def event_of(status: str) -> str:
    return "success" if status == "successful" else "error"


def _say(message: str) -> None:
    print(f"flowc: {message}", file=sys.stderr, flush=True)


def _host(url: str) -> str:
    """Where a webhook is, without its path (a Slack webhook's path is its secret)."""
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or "?"


def _post(url: str, body: dict[str, Any]) -> None:
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body, sort_keys=True).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "flowc"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        answer.read()


def notify(
    settings: Mapping[str, Any],
    events: Sequence[str],
    *,
    flow: str,
    run_id: str,
    status: str,
    reason: str | None,
) -> list[str]:
    """Sends the notification of a run's end to every configured webhook, when ``events`` asks for
    its outcome; returns the kinds sent (``slack``, ``webhook``). Never raises."""
    event = event_of(status)
    if event not in events:
        return []
    pathspec = f"{flow}/{run_id}"
    text = f"flowc: run {pathspec} {status}" + (f": {reason}" if reason else "")
    targets = [
        ("slack", settings.get("notify.slack_webhook_url"), {"text": text}),
        ("webhook", settings.get("notify.webhook_url"), {
            "event": event, "flow": flow, "run_id": run_id, "pathspec": pathspec, "status": status,
            "reason": reason,
        }),
    ]  # fmt: skip
    sent = []
    for kind, url, body in targets:
        if not url:
            continue
        try:
            _post(str(url), body)
        except Exception as exc:  # an unreachable webhook must not fail the end-of-run command
            _say(f"cannot notify {kind} at {_host(str(url))} of run {pathspec}: {type(exc).__name__}: {exc}")
            continue
        sent.append(kind)
        print(f"notified {kind} of run {pathspec} ({status})", flush=True)
    if not any(url for _, url, _ in targets):
        _say(
            f"run {pathspec} {status}: no notification sent, neither notify.slack_webhook_url nor "
            "notify.webhook_url is configured where the run ends (FLOWC_NOTIFY__WEBHOOK_URL, ...)"
        )
    return sent
