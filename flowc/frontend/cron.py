"""``@schedule(cron=...)``: read once, checked once, written in the one form every target reads.

The IR holds a standard five-field cron (minute hour day-of-month month day-of-week, weekdays
``0``-``6`` from Sunday or ``sun``-``sat``): the form Argo's parser (robfig/cron's standard parser,
https://pkg.go.dev/github.com/robfig/cron/v3), Airflow's croniter and flowc's EventBridge
conversion all take. Metaflow users also write EventBridge's six-field form
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions):
minutes hours day-of-month month day-of-week year, ``?`` for "any", weekdays ``1``-``7`` from
Sunday. That form is converted, weekdays renumbered (EventBridge's ``2-6`` is Monday to Friday, which
is ``1-5`` in standard cron); what standard cron cannot say (``L``, ``W``, ``#``, a year) is refused.
"""

from __future__ import annotations

__all__ = ["CronError", "compact_days", "cron_problem", "normalise_cron", "weekdays"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: (field, lowest, highest, names) of the five standard fields.
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    ("day of week", 0, 6, {name: i for i, name in enumerate(_DAYS)}),
)


class CronError(ValueError):
    """A cron expression no target could schedule as written."""


def normalise_cron(text: str) -> str:
    """``text`` (five standard fields, or EventBridge's six) as five standard fields.

    Raises:
        CronError: naming the field and what is wrong with it.
    """
    fields = text.split()
    if len(fields) == 6:
        fields = _from_eventbridge(fields)
    elif len(fields) != 5:
        raise CronError(
            f"{len(fields)} fields: give five (minute hour day-of-month month day-of-week), "
            "or EventBridge's six (with a year)"
        )
    fields = ["*" if field == "?" else field for field in fields]
    if fields[4] != "*":
        fields[4] = _sunday_is_zero(fields[4])  # Vixie cron and croniter take 7 for Sunday; Argo not
    normalised = " ".join(fields)
    problem = cron_problem(normalised)
    if problem:
        raise CronError(problem)
    return normalised


def cron_problem(cron: str) -> str | None:
    """Why ``cron`` is not five standard fields (weekdays 0-6) as the IR holds them, or None.

    This is robfig/cron's standard parser's language, which Argo uses for CronWorkflows; linting a
    compiled document checks its schedules with it.
    """
    fields = cron.split()
    if len(fields) != len(_FIELDS):
        return f"{len(fields)} fields instead of 5"
    for field, (what, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(field, low, high, names)
        if problem:
            return f"{what} {problem}"
    return None


def _from_eventbridge(fields: list[str]) -> list[str]:
    minutes, hours, day, month, weekday, year = fields
    if year not in ("*", "?"):
        raise CronError(f"year {year!r}: standard cron has no year field; use '*'")
    for what, field in (("day of month", day), ("day of week", weekday)):
        for mark in ("L", "W", "#"):
            if mark in field.upper():
                raise CronError(f"{what} {field!r}: EventBridge's {mark!r} has no standard cron form")
    return [minutes, hours, day, month, _renumber_weekdays(weekday)]


def _renumber_weekdays(field: str) -> str:
    """EventBridge weekdays (1 = Sunday ... 7 = Saturday) as standard ones (0 = Sunday ... 6)."""
    if field in ("*", "?"):
        return field
    days = _expand(field, 1, 7, {name: i + 1 for i, name in enumerate(_DAYS)}, "day of week")
    return compact_days({day - 1 for day in days})


def weekdays(field: str) -> set[int]:
    """The days (0 = Sunday ... 6) a normalised day-of-week field matches (``*`` is all seven).

    For a target whose engine numbers or writes weekdays otherwise (EventBridge counts from 1).
    """
    return _expand(field, 0, 6, {name: i for i, name in enumerate(_DAYS)}, "day of week")


def _sunday_is_zero(field: str) -> str:
    """A standard weekday field with ``7`` (Sunday, as Vixie cron allows) written as ``0``."""
    names = {name: i for i, name in enumerate(_DAYS)}
    if _field_problem(field, 0, 6, names) is None or _field_problem(field, 0, 7, names) is not None:
        return field  # already standard, or wrong in a way the check below reports
    return compact_days({day % 7 for day in _expand(field, 0, 7, names, "day of week")})


def compact_days(days: set[int]) -> str:
    """Sorted days, consecutive runs written as ranges: ``{1, 2, 3, 5}`` -> ``1-3,5``."""
    parts: list[str] = []
    ordered = sorted(days)
    start = previous = ordered[0]
    for day in [*ordered[1:], None]:
        if day is not None and day == previous + 1:
            previous = day
            continue
        parts.append(f"{start}-{previous}" if previous > start else str(start))
        if day is not None:
            start = previous = day
    return ",".join(parts)


def _expand(field: str, low: int, high: int, names: dict[str, int], what: str) -> set[int]:
    problem = _field_problem(field, low, high, names)
    if problem:
        raise CronError(f"{what} {problem}")
    days: set[int] = set()
    for part in field.split(","):
        range_text, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if range_text == "*":
            start, end = low, high
        else:
            bounds = range_text.split("-")
            start = _number(bounds[0], names)
            end = _number(bounds[1], names) if len(bounds) == 2 else (high if step_text else start)
        days.update(range(start, end + 1, step))
    return days


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number")
    return int(text)


def _field_problem(field: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for part in field.split(","):
        range_text, *step = part.split("/")
        if len(step) > 1:
            return f"{part!r} has more than one '/'"
        try:
            if step and _number(step[0], {}) == 0:
                return f"{part!r}: the step must be positive"
            if range_text == "*":
                continue
            bounds = range_text.split("-")
            if len(bounds) > 2:
                return f"{part!r} has more than one '-'"
            start = _number(bounds[0], names)
            end = _number(bounds[1], names) if len(bounds) == 2 else start
        except ValueError as exc:
            return f"{part!r}: {exc}"
        if start < low or end > high:
            return f"{part!r} is outside {low}-{high}"
        if start > end:
            return f"{part!r} begins after it ends"
    return None
