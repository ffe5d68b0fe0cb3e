"""Pure alert logic: which cell an alert reads in a visual result, and what state its value puts the alert in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from catalog.visuals import VisualResult, cell_key, find_cell, parse_cell_key

from .choices import FREQUENCY_WINDOW, Condition, Period, State

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Outcome:
    state: str
    value: float | None
    key: str
    period: str = ""


def period_start(day: date, granularity: str, week_start: str = "monday") -> date:
    """The first day of the period (week, month, quarter, year) that contains `day`."""
    if granularity == "day":
        return day
    if granularity == "week":
        start = WEEKDAYS.index(week_start) if week_start in WEEKDAYS else 0
        return day - timedelta(days=(day.weekday() - start) % 7)
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _periods(result: VisualResult, field: str) -> list[Any]:
    fields = result.row_fields + result.column_fields
    at = fields.index(field)
    values = {
        (cell.row + cell.column)[at]
        for cell in result.cells
        if not (at < len(result.row_fields) and cell.is_total_row)
        and not (at >= len(result.row_fields) and cell.is_total_column)
    }
    return sorted(v for v in values if v is not None)


def target_key(*, key: str, period: str, spec: dict[str, Any], result: VisualResult, now: datetime) -> tuple[str, str]:
    """The key to read now: the alert's own cell, or the same cell in the latest (complete) period. (key, period)"""
    date_spec = spec.get("date") or {}
    field = date_spec.get("field")
    if period == Period.FIXED or not field or field not in result.row_fields + result.column_fields:
        return key, ""
    periods = _periods(result, field)
    if not periods:
        return key, ""
    chosen = periods[-1]
    if period == Period.LATEST_COMPLETE:
        zone = ZoneInfo(date_spec.get("time_zone") or "UTC")
        current = period_start(
            now.astimezone(zone).date(), date_spec.get("granularity", "day"), date_spec.get("week_start", "monday")
        )
        complete = [p for p in periods if str(p)[:10] < current.isoformat()]
        if not complete:
            return key, ""
        chosen = complete[-1]
    measure, dims, totals, granularity = parse_cell_key(key)
    dims[field] = chosen
    return cell_key(measure, dims, totals=totals, granularity=granularity), str(chosen)


def judge(*, value: Any, condition: str, threshold: Decimal, tolerance: Decimal | None) -> str:
    """ok or breached for a numeric value; no_data when there is no number."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return State.NO_DATA
    number = Decimal(str(value))
    if condition == Condition.ABOVE:
        return State.BREACHED if number > threshold else State.OK
    if condition == Condition.BELOW:
        return State.BREACHED if number < threshold else State.OK
    allowed = tolerance if tolerance is not None else Decimal("0.005")
    return State.BREACHED if abs(number - threshold) <= allowed else State.OK


def evaluate(
    *,
    result: VisualResult,
    key: str,
    period: str,
    spec: dict[str, Any],
    condition: str,
    threshold: Decimal,
    tolerance: Decimal | None,
    now: datetime,
) -> Outcome:
    """The alert's outcome against one visual result (the cell gone or NULL is no_data)."""
    read_key, chosen = target_key(key=key, period=period, spec=spec, result=result, now=now)
    cell = find_cell(result, read_key)
    value = None if cell is None else cell.value
    state = judge(value=value, condition=condition, threshold=threshold, tolerance=tolerance)
    number = float(value) if state != State.NO_DATA else None
    return Outcome(state=state, value=number, key=read_key, period=chosen)


def may_notify(*, last_notified_at: datetime | None, frequency: str, now: datetime) -> bool:
    """Within a breach episode, at most one email per frequency window ("always": one per evaluation)."""
    if last_notified_at is None:
        return True
    return now - last_notified_at >= FREQUENCY_WINDOW[frequency]
