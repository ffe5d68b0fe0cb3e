"""How a visual's data (the JSON of `catalog.visuals.to_json`) is laid out as an HTML table or pivot table.

Pure: takes the plain data of one evaluation and returns plain rows of header and body cells for a template, with the
numbers formatted the same way whatever the server's locale (1,234.56; -12 for negatives; "(blank)" for NULL).

Layout
------
A table has one header row (the row dimensions, then the measures) and one body row per result row. A pivot has one
header row per column dimension (the column values, spanning the measures under them) and a last header row with the
row dimension names and the measure labels; the body repeats the row dimension values only where they change (a
header cell spans the rows that share it). Totals go in the table foot, so sorting the body leaves them at the bottom;
the total column is the last column of a pivot.

Every body and foot row, once its spanned header cells are repeated (as visuals.js does before it sorts), has the
same cells in the same order: `lead` header cells (the row dimensions, or one "All" cell for a pivot without rows),
then the value cells column by column, measure by measure. A sortable header cell names the position it sorts by.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

BLANK = "(blank)"
TOTAL = "Total"
_QUARTERS = {1: "Q1", 4: "Q2", 7: "Q3", 10: "Q4"}


def json_value(value: Any) -> str:
    """A value as JSON (so NULL, the string "null" and the number 1 stay apart in data attributes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def measure_decimals(values: Sequence[Any]) -> int:
    """Decimals for one measure's numbers: none when they are all whole, 4 when they are all below 1, else 2."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    if all(float(v).is_integer() for v in numbers):
        return 0
    return 4 if max(abs(v) for v in numbers) < 1 else 2


def format_number(value: int | float, decimals: int = 0) -> str:
    """1234.5 -> "1,234.50" (decimals=2): comma thousands, point decimals, "-" before negatives, never "-0"."""
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and not text.strip("-0,."):
        text = text[1:]
    return text


def format_value(value: Any, decimals: int = 0) -> str:
    """A measure's value as shown in a cell."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value, decimals)
    return str(value)


def format_dimension(value: Any, granularity: str | None = None) -> str:
    """A dimension value as shown in a header: ids and years without separators, date buckets by their period."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if granularity and len(text) >= 10 and text[4] == "-" and text[7] == "-":
        if granularity == "year":
            return text[:4]
        if granularity == "quarter" and text[5:7].isdigit() and int(text[5:7]) in _QUARTERS:
            return f"{text[:4]} {_QUARTERS[int(text[5:7])]}"
        if granularity == "month":
            return text[:7]
        if granularity == "week":
            return f"Week of {text[:10]}"
    return text


@dataclass(frozen=True)
class HeaderCell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    scope: str = "col"  # col, colgroup, or "" for the corner cells that label a header row
    dimension: str = ""  # the column dimension this header is a value of
    value: str = ""  # that value, as JSON
    sort_index: int | None = None  # the body cell position a click sorts by; None: not sortable
    numeric: bool = False  # sorts a measure (numbers: descending first)
    context: str = ""  # for screen readers: which column a repeated measure label belongs to
    classes: str = ""


@dataclass(frozen=True)
class BodyCell:
    text: str
    header: bool = False  # a row dimension value (th scope=row) rather than a measure value
    rowspan: int = 1
    colspan: int = 1
    dimension: str = ""
    value: str = ""  # JSON of the raw value (a dimension value, or the measure value the cell is sorted by)
    key: str = ""  # the cell's stable key (value cells that exist in the result)
    level: int | None = None  # which row dimension a header cell is
    classes: str = ""


@dataclass(frozen=True)
class BodyRow:
    cells: list[BodyCell]


@dataclass
class VisualTable:
    type: str
    lead: int  # how many header cells start every row
    header_rows: list[list[HeaderCell]] = field(default_factory=list)
    body: list[BodyRow] = field(default_factory=list)
    foot: list[BodyRow] = field(default_factory=list)
    truncated: bool = False
    columns_truncated: bool = False
    row_count: int = 0

    @property
    def empty(self) -> bool:
        return not self.body and not self.foot


def _classes(*names: str) -> str:
    return " ".join(name for name in names if name)


def _value_cell(value: Any, key: str | None, decimals: int, *, total: str = "") -> BodyCell:
    if key is None:  # no data has this combination of dimension values
        return BodyCell(text="", classes=_classes("is-number", "is-missing", total))
    negative = isinstance(value, int | float) and not isinstance(value, bool) and value < 0
    return BodyCell(
        text=format_value(value, decimals),
        value=json_value(value),
        key=key,
        classes=_classes(
            "is-number" if isinstance(value, int | float) and not isinstance(value, bool) else "",
            "is-negative" if negative else "",
            "is-blank" if value is None else "",
            total,
        ),
    )


def _spans(rows: Sequence[Sequence[Any]], level: int) -> list[int]:
    """For each row, how many rows its header at `level` spans (0: covered by the header above)."""
    spans = [0] * len(rows)
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][: level + 1] != rows[start][: level + 1]:
            spans[start] = i - start
            start = i
    return spans


def visual_table(data: dict[str, Any]) -> VisualTable:
    """The header and body cells of a visual's evaluation (`catalog.datasets.visual_data`)."""
    row_fields: list[str] = data["row_fields"]
    column_fields: list[str] = data["column_fields"]
    measures: list[str] = data["measures"]
    rows: list[list[Any]] = data["rows"]
    columns: list[list[Any]] = data["columns"]
    grid: list[list[Any]] = data["grid"]
    pivot = data["type"] == "pivot"
    date = data.get("date") or {}

    def granularity(dimension: str) -> str | None:
        return date.get("granularity") if date.get("field") == dimension else None

    n_measures = len(measures)
    n_columns = len(columns) + bool(data["total_column"])
    keys = {(i, j, k): key for i, j, k, key in data.get("cells", [])}
    decimals = [
        measure_decimals([row[j * n_measures + k] for row in grid for j in range(n_columns)]) for k in range(n_measures)
    ]
    lead = max(len(row_fields), 1) if pivot else len(row_fields)
    table = VisualTable(
        type=data["type"],
        lead=lead,
        truncated=data.get("truncated", False),
        columns_truncated=data.get("columns_truncated", False),
        row_count=len(rows),
    )

    # header
    last_row: list[HeaderCell] = [
        HeaderCell(text=name, sort_index=level, classes="is-dimension") for level, name in enumerate(row_fields)
    ]
    if pivot and not row_fields:
        last_row.append(HeaderCell(text=""))
    if pivot:
        for level, name in enumerate(column_fields):
            header: list[HeaderCell] = [HeaderCell(text=name, colspan=lead, scope="", classes="visual__corner")]
            start = 0
            while start < len(columns):
                end = start + 1
                while end < len(columns) and columns[end][: level + 1] == columns[start][: level + 1]:
                    end += 1
                value = columns[start][level]
                header.append(
                    HeaderCell(
                        text=format_dimension(value, granularity(name)),
                        colspan=(end - start) * n_measures,
                        scope="colgroup" if (end - start) * n_measures > 1 else "col",
                        dimension=name,
                        value=json_value(value),
                        classes="is-blank" if value is None else "",
                    )
                )
                start = end
            if level == 0 and data["total_column"]:
                header.append(
                    HeaderCell(
                        text=TOTAL,
                        colspan=n_measures,
                        rowspan=len(column_fields),
                        scope="colgroup" if n_measures > 1 else "col",
                        classes="is-total",
                    )
                )
            table.header_rows.append(header)
        for j in range(n_columns):
            total = j == len(columns)
            where = (
                TOTAL
                if total
                else ", ".join(
                    format_dimension(v, granularity(f)) for f, v in zip(column_fields, columns[j], strict=True)
                )
            )
            for k, label in enumerate(measures):
                last_row.append(
                    HeaderCell(
                        text=label,
                        sort_index=lead + j * n_measures + k,
                        numeric=True,
                        context=where,
                        classes=_classes("is-measure", "is-total" if total else ""),
                    )
                )
    else:
        for k, label in enumerate(measures):
            last_row.append(HeaderCell(text=label, sort_index=lead + k, numeric=True, classes="is-measure"))
    table.header_rows.append(last_row)

    # body
    spans = [_spans(rows, level) for level in range(len(row_fields))] if pivot else []
    for i, row in enumerate(rows):
        cells: list[BodyCell] = []
        for level, name in enumerate(row_fields):
            span = spans[level][i] if pivot else 1
            if span == 0:
                continue
            value = row[level]
            cells.append(
                BodyCell(
                    text=format_dimension(value, granularity(name)),
                    header=True,
                    rowspan=span,
                    dimension=name,
                    value=json_value(value),
                    level=level,
                    classes="is-blank" if value is None else "",
                )
            )
        if pivot and not row_fields:
            cells.append(BodyCell(text="All", header=True, level=0))
        for j in range(n_columns):
            total = "is-total" if j == len(columns) else ""
            for k in range(n_measures):
                cells.append(_value_cell(grid[i][j * n_measures + k], keys.get((i, j, k)), decimals[k], total=total))
        table.body.append(BodyRow(cells=cells))
    if data["total_row"]:
        i = len(rows)
        cells = [BodyCell(text=TOTAL, header=True, colspan=lead, classes="is-total")] if lead else []
        for j in range(n_columns):
            grand = j == len(columns) or not pivot
            for k in range(n_measures):
                cells.append(
                    _value_cell(
                        grid[i][j * n_measures + k],
                        keys.get((i, j, k)),
                        decimals[k],
                        total="is-total is-grand" if grand else "is-total",
                    )
                )
        table.foot.append(BodyRow(cells=cells))
    return table
