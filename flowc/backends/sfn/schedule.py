"""``@schedule`` as an EventBridge Scheduler schedule (cron with an optional IANA timezone).

EventBridge cron has six fields (minutes hours day-of-month month day-of-week year), needs ``?`` in
one of the two day fields, and numbers days of the week 1-7 from Sunday; Unix cron numbers them 0-6
(7 is Sunday too). https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based

So the day-of-week field is rewritten day by day (``1-5`` -> ``2-6``, ``5-7`` -> ``1,6-7``; a step
such as ``*/2`` is expanded, never shifted), and a cron that restricts both day fields is refused:
Unix cron runs when *either* matches, which EventBridge cannot express.
Schedule names are ``[0-9a-zA-Z-_.]``, at most 64 characters
(https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowc.backends.sfn.naming import aws_name
from flowc.ir import ScheduleSpec

__all__ = ["SCHEDULE_NAME_MAX", "aws_cron", "schedule_name", "schedule_request"]

#: EventBridge Scheduler's longest schedule name.
SCHEDULE_NAME_MAX = 64
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RANGE = re.compile(r"^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(\d+))?$")


def _unix_day(text: str, cron: str) -> int:
    """A Unix day of the week (0-7 or a name) as 0-6 from Sunday."""
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text) % 7
    if text.upper() in _DAY_NAMES:
        return _DAY_NAMES.index(text.upper())
    raise ValueError(f"@schedule cron {cron!r}: {text!r} is not a day of the week (0-7 or SUN-SAT)")


def _unix_days(field: str, cron: str) -> set[int]:
    """Every day (0-6 from Sunday) a Unix day-of-week field matches."""
    days: set[int] = set()
    for item in field.split(","):
        match = _RANGE.match(item)
        if match is None:
            raise ValueError(f"@schedule cron {cron!r}: cannot read the day of the week {item!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise ValueError(f"@schedule cron {cron!r}: step 0 in the day of the week {item!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first_text, last_text = span.split("-")
            first = _unix_day(first_text, cron)
            # Sunday as 7 closes a range ("5-7": Friday to Sunday).
            last = 7 if last_text == "7" else _unix_day(last_text, cron)
            if last < first:
                raise ValueError(f"@schedule cron {cron!r}: the range {span!r} runs backwards")
        else:
            first = _unix_day(span, cron)
            last = 6 if match.group(2) else first  # "a/s" is "a-6/s" (cron(5))
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def _aws_days(days: set[int]) -> str:
    """Days 0-6 from Sunday as an EventBridge list of 1-7 from Sunday, runs as ranges: ``2-6``."""
    numbers = sorted(day + 1 for day in days)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ",".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def aws_cron(cron: str) -> str:
    """``"0 6 * * 1-5"`` -> ``"cron(0 6 ? * 2-6 *)"``; ValueError for what EventBridge cannot express."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"@schedule cron {cron!r}: expected five fields")
    minute, hour, day_of_month, month, day_of_week = fields
    if day_of_week == "*":
        return f"cron({minute} {hour} {day_of_month} {month} ? *)"
    if day_of_month != "*":
        raise ValueError(
            f"@schedule cron {cron!r} restricts both the day of the month and the day of the week "
            "(cron runs when either matches); EventBridge allows only one: use '*' in the other"
        )
    days = _unix_days(day_of_week, cron)
    aws_day_of_week = "*" if len(days) == 7 else _aws_days(days)
    return f"cron({minute} {hour} ? {month} {aws_day_of_week} *)"


def schedule_name(deployment: str) -> str:
    """The schedule's name for the state machine ``deployment`` (hash-suffixed beyond 64 characters)."""
    return aws_name(deployment, max_length=SCHEDULE_NAME_MAX)


def schedule_request(
    name: str, schedule: ScheduleSpec, state_machine_arn: str, role_arn: str
) -> dict[str, Any]:
    """``CreateSchedule``/``UpdateSchedule`` arguments starting ``state_machine_arn`` with no parameters."""
    request: dict[str, Any] = {
        "Name": schedule_name(name),
        "ScheduleExpression": aws_cron(schedule.cron),
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": {
            "Arn": state_machine_arn,
            "RoleArn": role_arn,
            "Input": json.dumps({"parameters": {}}),
        },
    }
    if schedule.timezone:
        request["ScheduleExpressionTimezone"] = schedule.timezone
    return request
