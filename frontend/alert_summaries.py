"""How an alert's cell, captured spec and numbers are written for people in the alerts UI.

Pure: takes plain data (a cell's dimensions, a visual spec) and returns plain text, with dimension values and numbers
written the way the dashboard's tables write them (frontend/visual_tables.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .visual_tables import TOTAL, format_dimension

_AGGREGATES = {
    "sum": "sum",
    "avg": "average",
    "count": "count",
    "count_distinct": "distinct count",
    "min": "minimum",
    "max": "maximum",
}
_OPERATORS = {
    "eq": "=",
    "neq": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
}


def cell_dimensions(
    dimensions: Mapping[str, Any],
    *,
    totals: Iterable[str] = (),
    fields: Sequence[str] = (),
    date_field: str | None = None,
    granularity: str | None = None,
) -> list[tuple[str, str]]:
    """(field, value as shown) for each dimension of a cell, in the visual's order (rows, then columns); a field the
    cell adds up is shown as Total."""
    totalled = set(totals)
    order = [f for f in fields if f in dimensions or f in totalled]
    order += [f for f in dimensions if f not in order] + [f for f in sorted(totalled) if f not in order]
    pairs = []
    for field in order:
        if field in totalled:
            pairs.append((field, TOTAL))
        else:
            bucket = granularity if field == date_field else None
            pairs.append((field, format_dimension(dimensions[field], bucket)))
    return pairs


def alert_dimensions(alert_dimensions: Mapping[str, Any], spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The cell of a saved alert (its `dimensions`, with the totalled fields under "totals") as shown."""
    dimensions = {k: v for k, v in alert_dimensions.items() if k != "totals"}
    date = spec.get("date") or {}
    return cell_dimensions(
        dimensions,
        totals=alert_dimensions.get("totals", ()),
        fields=list(spec.get("rows", [])) + list(spec.get("columns", [])),
        date_field=date.get("field"),
        granularity=date.get("granularity"),
    )


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value_text(item) for item in value)
    return format_dimension(value)


def filter_text(item: Mapping[str, Any]) -> str:
    """One filter of a spec in words: `Region is one of East, West`, `Profit between 0 and 10`."""
    field, op, value = item.get("field", ""), item.get("op", ""), item.get("value")
    if op == "is_null":
        return f"{field} is blank"
    if op == "not_null":
        return f"{field} is not blank"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{field} between {_value_text(value[0])} and {_value_text(value[1])}"
    return f"{field} {_OPERATORS.get(op, op)} {_value_text(value)}"


def measure_text(measure: Mapping[str, Any]) -> str:
    """`Profit (sum of Profit)`; a row count is `Rows (count of rows)`."""
    aggregate = _AGGREGATES.get(measure.get("agg", ""), measure.get("agg", ""))
    field = measure.get("field")
    what = "rows" if not field or field == "*" else field
    return f"{measure.get('label', what)} ({aggregate} of {what})"


def spec_summary(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What a captured visual spec computes, as (label, text) pairs; the filters are listed by `spec_filters`."""
    lines = [("Visual type", "Pivot table" if spec.get("type") == "pivot" else "Table")]
    if spec.get("rows"):
        lines.append(("Rows", ", ".join(spec["rows"])))
    if spec.get("columns"):
        lines.append(("Columns", ", ".join(spec["columns"])))
    lines.append(("Measures", "; ".join(measure_text(m) for m in spec.get("measures", []))))
    date = spec.get("date")
    if date:
        lines.append(
            ("Date", f"{date.get('field')} by {date.get('granularity', 'day')} ({date.get('time_zone', 'UTC')})")
        )
    return lines


def spec_filters(spec: Mapping[str, Any]) -> list[str]:
    return [filter_text(item) for item in spec.get("filters", [])]


def default_threshold(value: int | float, decimals: int) -> Decimal:
    """The cell's value as shown (rounded to the displayed precision), the threshold a new alert starts with."""
    return Decimal(str(round(float(value), decimals))).quantize(Decimal(1).scaleb(-decimals))


def default_tolerance(decimals: int) -> Decimal:
    """Half a unit of the last digit shown: "is equal to" then means "shows as the same number"."""
    return Decimal(5).scaleb(-(decimals + 1))


def plain_decimal(value: Decimal | None) -> str:
    """200, 0.5, -12.25: a Decimal as people type it (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def dollars(amount: Decimal) -> str:
    """$0.50, $12.00, $0.0005: cents, with more digits only for amounts below a cent."""
    if amount and abs(amount) < Decimal("0.01"):
        return f"${plain_decimal(amount)}"
    return f"${amount:,.2f}"


def period_text(dimensions: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """The date period of a cell as shown (`2024-01` for a month), or "" when the cell has none to follow."""
    date = spec.get("date") or {}
    field = date.get("field")
    if not field or field not in dimensions:
        return ""
    return format_dimension(dimensions[field], date.get("granularity"))
