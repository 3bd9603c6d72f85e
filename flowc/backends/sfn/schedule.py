"""``@schedule`` as an EventBridge Scheduler schedule (cron with an optional IANA timezone).

EventBridge cron has six fields (minutes hours day-of-month month day-of-week year), needs ``?`` in
one of the two day fields, and numbers days of the week 1-7 from Sunday; Unix cron numbers them 0-6
(7 is Sunday too). https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowc.ir import ScheduleSpec

__all__ = ["aws_cron", "schedule_request"]


def _day_of_week(field: str) -> str:
    def shift(match: re.Match[str]) -> str:
        return str(int(match.group(0)) % 7 + 1)

    return re.sub(r"\d+", shift, field)


def aws_cron(cron: str) -> str:
    """``"0 6 * * 1-5"`` -> ``"cron(0 6 ? * 2-6 *)"``."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"@schedule cron {cron!r}: expected five fields")
    minute, hour, day_of_month, month, day_of_week = fields
    day_of_week = _day_of_week(day_of_week) if day_of_week != "*" else "*"
    if day_of_week == "*":
        day_of_week = "?"
    elif day_of_month == "*":
        day_of_month = "?"
    return f"cron({minute} {hour} {day_of_month} {month} {day_of_week} *)"


def schedule_request(
    name: str, schedule: ScheduleSpec, state_machine_arn: str, role_arn: str
) -> dict[str, Any]:
    """``CreateSchedule``/``UpdateSchedule`` arguments starting ``state_machine_arn`` with no parameters."""
    request: dict[str, Any] = {
        "Name": name,
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
