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
from typing import Any

from flowc.backends.sfn.naming import aws_name
from flowc.frontend.cron import compact_days, weekdays
from flowc.ir import ScheduleSpec

__all__ = ["SCHEDULE_NAME_MAX", "aws_cron", "schedule_name", "schedule_request"]

#: EventBridge Scheduler's longest schedule name.
SCHEDULE_NAME_MAX = 64


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
    # The IR's cron is five standard fields, checked by the front end (flowc.frontend.cron);
    # EventBridge counts weekdays from 1 = Sunday.
    days = weekdays(day_of_week)
    aws_day_of_week = "*" if len(days) == 7 else compact_days({day + 1 for day in days})
    return f"cron({minute} {hour} ? {month} {aws_day_of_week} *)"


def schedule_name(deployment: str) -> str:
    """The schedule's name for the state machine ``deployment`` (hash-suffixed beyond 64 characters)."""
    return aws_name(deployment, max_length=SCHEDULE_NAME_MAX)


def schedule_request(
    name: str, schedule: ScheduleSpec, state_machine_arn: str, role_arn: str, paused: bool = False
) -> dict[str, Any]:
    """``CreateSchedule``/``UpdateSchedule`` arguments starting ``state_machine_arn`` with no parameters
    (``paused``: created DISABLED, for a person to enable)."""
    request: dict[str, Any] = {
        "Name": schedule_name(name),
        "ScheduleExpression": aws_cron(schedule.cron),
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "DISABLED" if paused else "ENABLED",
        "Target": {
            "Arn": state_machine_arn,
            "RoleArn": role_arn,
            "Input": json.dumps({"parameters": {}}),
        },
    }
    if schedule.timezone:
        request["ScheduleExpressionTimezone"] = schedule.timezone
    return request
