"""The visual query engine, tested on small Parquet files (and once against PostgreSQL), without the Django database."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from catalog.visuals import (
    MAX_DIMENSIONS,
    MAX_LIMIT,
    MAX_MEASURES,
    EvaluationError,
    SpecError,
    VisualResult,
    build_sql,
    cell_key,
    evaluate_parquet,
    evaluate_postgresql,
    find_cell,
    latest_period,
    parse_cell_key,
    quote_identifier,
    to_json,
    validate_spec,
)
from config.errors import DomainError

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

COLUMNS = {
    "Customer": "varchar",
    "Category": "varchar",
    "Segment": "varchar",
    "Region": "varchar",
    "Sales": "double",
    "Profit": "decimal(10,2)",
    "Quantity": "integer",
    "Order Date": "date",
    "Ordered At": "timestamptz",
    "Returned": "boolean",
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


D = Decimal
# Customer is unique per row, so a table by Customer shows which rows a filter kept.
SALES: list[tuple[Any, ...]] = [
    ("c01", "Auto", "Consumer", "East", 100.0, D("10.50"), 1, date(2024, 1, 5), _at("2024-01-05T09:00"), False),
    ("c02", "Auto", "Consumer", "West", 50.0, D("-5.25"), 2, date(2024, 1, 20), _at("2024-01-20T12:00"), False),
    ("c03", "Auto", "Corporate", "East", 30.0, D("3.00"), 3, date(2024, 2, 10), _at("2024-02-10T08:00"), True),
    ("c04", "Home", "Consumer", "East", 200.0, D("40.00"), 4, date(2024, 2, 11), _at("2024-02-11T08:00"), False),
    ("c05", "Home", None, "West", 70.0, D("7.00"), 5, date(2024, 3, 31), _at("2024-03-31T23:30"), False),
    ("c06", "Home", "null", "West", 40.0, D("-1.00"), None, date(2024, 4, 1), _at("2024-04-01T00:30"), None),
    ("c07", None, "Corporate", "South", 10.0, D("1.00"), 2, date(2024, 4, 15), _at("2024-04-15T10:00"), True),
    ("c08", "Tech", "Corporate", None, 500.0, D("120.00"), 7, date(2024, 5, 15), _at("2024-05-15T10:00"), False),
    ("c09", "Tech", "Consumer", "East", None, D("0.00"), 1, None, None, False),
    ("c10", "Tech", "Consumer", "East", 25.5, D("2.25"), 3, date(2024, 12, 30), _at("2024-12-30T10:00"), True),
    ("c11", "Auto", "Consumer", "East", 100.0, D("10.50"), 1, date(2024, 6, 1), _at("2024-06-01T10:00"), False),
    ("c12", "Home", "Corporate", "South", 60.0, D("6.00"), 2, date(2024, 7, 4), _at("2024-07-04T10:00"), False),
]
NAMES = list(COLUMNS)


def write_parquet(path: Path, columns: dict[str, str], rows: Iterable[Sequence[Any]]) -> Path:
    """A Parquet file written by DuckDB with exactly these column types."""
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        definition = ", ".join(f"{quote_identifier(name)} {kind}" for name, kind in columns.items())
        connection.execute(f"CREATE TABLE data ({definition})")
        rows = list(rows)
        if rows:
            placeholders = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO data VALUES ({placeholders})", rows)
        target = str(path).replace("'", "''")
        connection.execute(f"COPY data TO '{target}' (FORMAT parquet)")
    finally:
        connection.close()
    return path


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    return write_parquet(tmp_path / "sales.parquet", COLUMNS, SALES)


def run(path: Path, spec: dict[str, Any], columns: dict[str, str] = COLUMNS, **options: Any) -> VisualResult:
    return evaluate_parquet(validate_spec(spec, columns=columns), path, **options)


def values_by_key(result: VisualResult) -> dict[str, Any]:
    return {cell.key: cell.value for cell in result.cells}


def table_values(result: VisualResult, measure: str) -> dict[tuple[Any, ...], Any]:
    return {cell.row: cell.value for cell in result.cells if cell.measure == measure and not cell.is_total}


def customers(result: VisualResult) -> set[str]:
    return {row[0] for row in result.rows}


def reference(dimension: str, field: str, aggregate: Callable[[list[Any]], Any]) -> dict[tuple[Any, ...], Any]:
    """Group SALES by one dimension in plain Python: what the engine must agree with."""
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for row in SALES:
        groups[(row[NAMES.index(dimension)],)].append(row[NAMES.index(field)])
    return {group: aggregate(values) for group, values in groups.items()}


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "sum": lambda vs: _plain(sum(_present(vs))) if _present(vs) else None,
    "avg": lambda vs: _plain(sum(_present(vs))) / len(_present(vs)) if _present(vs) else None,
    "count": lambda vs: len(_present(vs)),
    "count_distinct": lambda vs: len(set(_present(vs))),
    "min": lambda vs: _plain(min(_present(vs))) if _present(vs) else None,
    "max": lambda vs: _plain(max(_present(vs))) if _present(vs) else None,
}


# ---------------------------------------------------------------------------------------------------------------
# Validation


def test_a_valid_spec_is_normalised_with_its_defaults_spelled_out():
    spec = validate_spec(
        {
            "type": "table",
            "rows": ["Region"],
            "measures": [{"field": "Sales", "agg": "sum"}, {"agg": "count"}],
            "date": {"field": "Order Date", "granularity": "week", "week_start": 7},
        },
        columns=COLUMNS,
    )

    assert spec.rows == ("Region", "Order Date")  # the bucketed date joins the rows
    assert spec.labels == ("Sum of Sales", "Count of rows")
    assert spec.limit == 10_000
    assert spec.as_dict()["date"] == {
        "field": "Order Date",
        "granularity": "week",
        "week_start": "sunday",
        "time_zone": "UTC",
    }
    assert validate_spec(spec.as_dict(), columns=COLUMNS) == spec


def _too_many(n: int) -> list[dict[str, str]]:
    return [{"field": "Sales", "agg": "sum", "label": f"m{i}"} for i in range(n)]


PIVOT = {"type": "pivot", "rows": ["Category"], "columns": ["Segment"], "measures": [{"field": "Sales", "agg": "sum"}]}
TABLE = {"type": "table", "rows": ["Category"], "measures": [{"field": "Sales", "agg": "sum"}]}
WIDE_COLUMNS = {f"col{i}": "varchar" for i in range(MAX_DIMENSIONS + 1)} | {"Sales": "double"}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def _filter(field: str, op: str, *value: Any) -> dict[str, Any]:
    spec = {"field": field, "op": op}
    if value:
        spec["value"] = value[0]
    return _with(TABLE, filters=[spec])


SPEC_ERRORS = [
    ("not an object", ["a list"], None, "must be a JSON object"),
    ("unknown type", _with(TABLE, type="chart"), "type", "unknown visual type 'chart'"),
    ("unknown key", _with(TABLE, colour="red"), "colour", "unknown key 'colour'"),
    (
        "unknown column",
        _with(TABLE, rows=["Categroy"]),
        "rows[0]",
        "unknown column 'Categroy'; did you mean 'Category'",
    ),
    ("unknown column, nothing close", _with(TABLE, rows=["zzz"]), "rows[0]", "no column has a close name"),
    ("unknown column, other case", _with(TABLE, rows=["category"]), "rows[0]", "did you mean 'Category'"),
    ("no measures", _with(TABLE, measures=[]), "measures", "at least one measure"),
    (
        "unknown aggregation",
        _with(TABLE, measures=[{"field": "Sales", "agg": "median"}]),
        "measures[0].agg",
        "unknown aggregation 'median'",
    ),
    ("sum of text", _with(TABLE, measures=[{"field": "Region", "agg": "sum"}]), "measures[0].field", "numeric"),
    ("avg of a date", _with(TABLE, measures=[{"field": "Order Date", "agg": "avg"}]), "measures[0].field", "numeric"),
    ("count of unknown", _with(TABLE, measures=[{"field": "Nope", "agg": "count"}]), "measures[0].field", "unknown"),
    (
        "duplicate labels",
        _with(TABLE, measures=[{"field": "Sales", "agg": "sum"}, {"field": "Sales", "agg": "sum"}]),
        "measures[1].label",
        "duplicate measure label 'Sum of Sales'",
    ),
    (
        "label clashes with a dimension",
        _with(TABLE, measures=[{"field": "Sales", "agg": "sum", "label": "Category"}]),
        "measures[0].label",
        "also a dimension",
    ),
    ("empty label", _with(TABLE, measures=[{"field": "Sales", "agg": "sum", "label": " "}]), "measures[0].label", ""),
    ("too many measures", _with(TABLE, measures=_too_many(MAX_MEASURES + 1)), "measures", f"at most {MAX_MEASURES}"),
    ("pivot without columns", _with(PIVOT, columns=[]), "columns", "a pivot needs at least one column dimension"),
    ("table with columns", _with(TABLE, columns=["Segment"]), "columns", "a table has no column dimensions"),
    ("dimension twice", _with(PIVOT, columns=["Category"]), "columns[0]", "appears twice"),
    ("table column totals", _with(TABLE, totals={"columns": True}), "totals.columns", "no column dimensions"),
    ("totals not boolean", _with(TABLE, totals={"rows": "yes"}), "totals.rows", "true or false"),
    (
        "unknown granularity",
        _with(TABLE, date={"field": "Order Date", "granularity": "fortnight"}),
        "date.granularity",
        "unknown granularity 'fortnight'",
    ),
    (
        "missing granularity",
        _with(TABLE, date={"field": "Order Date"}),
        "date.granularity",
        "unknown granularity None",
    ),
    (
        "bad week start",
        _with(TABLE, date={"field": "Order Date", "granularity": "week", "week_start": "funday"}),
        "date.week_start",
        "week_start must be monday or sunday",
    ),
    (
        "week start out of range",
        _with(TABLE, date={"field": "Order Date", "granularity": "week", "week_start": 8}),
        "date.week_start",
        "1-7",
    ),
    (
        "unknown time zone",
        _with(TABLE, date={"field": "Ordered At", "granularity": "day", "time_zone": "Mars/Olympus_Mons"}),
        "date.time_zone",
        "unknown time zone 'Mars/Olympus_Mons'",
    ),
    (
        "time zone as a path",
        _with(TABLE, date={"field": "Ordered At", "granularity": "day", "time_zone": "../../etc/passwd"}),
        "date.time_zone",
        "IANA",
    ),
    (
        "date on a text column",
        _with(TABLE, date={"field": "Region", "granularity": "day"}),
        "date.field",
        "not a date or timestamp",
    ),
    ("unknown filter op", _filter("Region", "like", "E%"), "filters[0].op", "unknown filter op 'like'"),
    ("in with a scalar", _filter("Region", "in", "East"), "filters[0].value", "non-empty list"),
    ("in with nothing", _filter("Region", "in", []), "filters[0].value", "non-empty list"),
    ("between with three", _filter("Sales", "between", [1, 2, 3]), "filters[0].value", "two values"),
    ("is_null with a value", _filter("Region", "is_null", "East"), "filters[0].value", "takes no value"),
    ("eq null", _with(TABLE, filters=[{"field": "Region", "op": "eq", "value": None}]), "filters[0].value", "is_null"),
    ("number for text", _filter("Region", "eq", 3), "filters[0].value", "expected a string"),
    ("text for number", _filter("Sales", "gt", "100"), "filters[0].value", "expected a number"),
    ("bool for number", _filter("Sales", "gt", True), "filters[0].value", "expected a number"),
    ("bad date", _filter("Order Date", "gte", "last tuesday"), "filters[0].value", "ISO date"),
    ("contains on a number", _filter("Sales", "contains", "1"), "filters[0].op", "text column"),
    ("ordering booleans", _filter("Returned", "gt", False), "filters[0].op", "boolean"),
    ("filter on unknown column", _filter("Regoin", "eq", "East"), "filters[0].field", "did you mean 'Region'"),
    ("sort on nothing known", _with(TABLE, sort=[{"by": "Profit"}]), "sort[0].by", "cannot sort by 'Profit'"),
    ("bad direction", _with(TABLE, sort=[{"by": "Category", "direction": "up"}]), "sort[0].direction", "asc or desc"),
    ("limit zero", _with(TABLE, limit=0), "limit", f"from 1 to {MAX_LIMIT}"),
    ("limit too big", _with(TABLE, limit=MAX_LIMIT + 1), "limit", "limit"),
    ("limit as text", _with(TABLE, limit="10"), "limit", "limit"),
    (
        "too many dimensions",
        {"type": "table", "rows": list(WIDE_COLUMNS)[:-1], "measures": [{"field": "Sales", "agg": "sum"}]},
        "rows",
        f"at most {MAX_DIMENSIONS} dimensions",
    ),
]


@pytest.mark.parametrize(
    ("spec", "field", "message"), [case[1:] for case in SPEC_ERRORS], ids=[c[0] for c in SPEC_ERRORS]
)
def test_an_invalid_spec_is_refused_naming_the_problem(spec, field, message):
    columns = WIDE_COLUMNS if field == "rows" and "col0" in spec.get("rows", []) else COLUMNS

    with pytest.raises(SpecError) as error:
        validate_spec(spec, columns=columns)

    assert error.value.field == field
    assert message in error.value.message
    assert isinstance(error.value, DomainError)
    assert error.value.status_code == 400


# ---------------------------------------------------------------------------------------------------------------
# Aggregations


@pytest.mark.parametrize("agg", ["sum", "avg", "count", "count_distinct", "min", "max"])
@pytest.mark.parametrize("field", ["Sales", "Profit", "Quantity"])
def test_each_aggregation_agrees_with_a_plain_python_group_by(sales, agg, field):
    result = run(sales, {"type": "table", "rows": ["Category"], "measures": [{"field": field, "agg": agg}]})

    got = table_values(result, result.measures[0])
    expected = reference("Category", field, AGGREGATES[agg])
    assert got == pytest.approx(expected)


def test_min_and_max_of_dates_and_text_come_back_as_plain_values(sales):
    result = run(
        sales,
        {
            "type": "table",
            "measures": [
                {"field": "Order Date", "agg": "min"},
                {"field": "Ordered At", "agg": "max"},
                {"field": "Region", "agg": "max"},
                {"agg": "count"},
            ],
        },
    )

    assert [cell.value for cell in result.cells] == ["2024-01-05", "2024-12-30T10:00:00+00:00", "West", 12]


# ---------------------------------------------------------------------------------------------------------------
# Pivots and totals


def test_pivot_totals_add_up_across_rows_columns_and_the_grand_total(sales):
    result = run(
        sales,
        {
            "type": "pivot",
            "rows": ["Category"],
            "columns": ["Segment"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}, {"field": "Sales", "agg": "avg"}],
            "totals": {"rows": True, "columns": True, "grand": True},
        },
    )

    assert result.has_total_row and result.has_total_column
    profit = [c for c in result.cells if c.measure == "Profit"]
    detail = [c for c in profit if not c.is_total]
    for i in range(len(result.rows)):
        row_total = next(c for c in profit if c.row_index == i and c.is_total_column)
        assert row_total.value == pytest.approx(sum(c.value for c in detail if c.row_index == i))
    for j in range(len(result.columns)):
        column_total = next(c for c in profit if c.column_index == j and c.is_total_row)
        assert column_total.value == pytest.approx(sum(c.value for c in detail if c.column_index == j))
    grand = next(c for c in profit if c.is_total_row and c.is_total_column)
    assert grand.value == pytest.approx(float(sum(row[5] for row in SALES)))
    assert grand.key == '{"m":"Profit","d":[],"t":["Category","Segment"]}'
    # an average total averages the rows, not the cells
    average = next(c for c in result.cells if c.measure == "Average of Sales" and c.is_total_row and c.is_total_column)
    known = [row[4] for row in SALES if row[4] is not None]
    assert average.value == pytest.approx(sum(known) / len(known))


def test_pivot_grid_is_row_major_with_totals_last(sales):
    result = run(
        sales,
        {
            "type": "pivot",
            "rows": ["Region"],
            "columns": ["Category"],
            "measures": [{"field": "Quantity", "agg": "sum", "label": "Qty"}, {"agg": "count", "label": "Orders"}],
            "filters": [{"field": "Region", "op": "in", "value": ["East", "West"]}],
            "totals": {"rows": True, "columns": True, "grand": True},
        },
    )
    body = to_json(result)

    assert body["rows"] == [["East"], ["West"]]
    assert body["columns"] == [["Auto"], ["Home"], ["Tech"]]
    assert body["measures"] == ["Qty", "Orders"]
    #               Auto     Home     Tech     Total
    assert body["grid"] == [
        [5, 3, 4, 1, 4, 2, 13, 6],  # East
        [2, 1, 5, 2, None, None, 7, 3],  # West: no Tech orders
        [7, 4, 9, 3, 4, 2, 20, 9],  # Total
    ]
    assert body["total_row"] and body["total_column"]
    keys = {tuple(cell[:3]): cell[3] for cell in body["cells"]}
    assert keys[(1, 1, 1)] == '{"m":"Orders","d":[["Category","Home"],["Region","West"]]}'
    assert keys[(2, 3, 0)] == '{"m":"Qty","d":[],"t":["Category","Region"]}'
    assert (1, 2, 0) not in keys
    json.dumps(body, allow_nan=False)


def test_only_the_requested_totals_are_returned(sales):
    spec = _with(PIVOT, measures=[{"field": "Sales", "agg": "sum", "label": "S"}], sort=[{"by": "S"}])

    none = run(sales, spec)
    grand_only = run(sales, _with(spec, totals={"grand": True}))
    rows_only = run(sales, _with(spec, totals={"rows": True}))

    assert not any(c.is_total for c in none.cells)  # the row totals used for sorting stay out
    assert [c.key for c in grand_only.cells if c.is_total] == ['{"m":"S","d":[],"t":["Category","Segment"]}']
    assert {c.is_total_row for c in rows_only.cells if c.is_total} == {True}
    assert not any(c.is_total_column for c in rows_only.cells)


def test_a_table_total_row_covers_all_rows_even_when_the_limit_cuts_them(sales):
    result = run(sales, _with(TABLE, rows=["Customer"], totals={"rows": True}, limit=3))

    assert len(result.rows) == 3
    assert result.truncated
    total = next(c for c in result.cells if c.is_total_row)
    assert total.value == pytest.approx(sum(row[4] for row in SALES if row[4] is not None))
    assert total.row_index == 3


def test_a_pivot_without_row_dimensions_has_one_row_and_its_total_column(sales):
    result = run(
        sales,
        {
            "type": "pivot",
            "columns": ["Segment"],
            "measures": [{"agg": "count", "label": "n"}],
            "totals": {"grand": True},
        },
    )

    assert result.rows == ((),)
    assert sum(c.value for c in result.cells if not c.is_total) == 12
    assert find_cell(result, '{"m":"n","d":[],"t":["Segment"]}').value == 12


def test_a_table_without_dimensions_is_one_row_of_measures(sales):
    result = run(sales, {"type": "table", "measures": [{"agg": "count"}], "totals": {"rows": True, "grand": True}})

    assert [(c.key, c.value, c.is_total) for c in result.cells] == [('{"m":"Count of rows","d":[]}', 12, False)]


# ---------------------------------------------------------------------------------------------------------------
# Sorting and limits


def test_a_table_sorts_on_a_measure_with_nulls_last(sales):
    spec = _with(TABLE, rows=["Customer"], sort=[{"by": "Sum of Sales", "direction": "desc"}])

    descending = run(sales, spec)
    ascending = run(sales, _with(spec, sort=[{"by": "Sum of Sales"}]))

    assert [row[0] for row in descending.rows][:2] == ["c08", "c04"]
    assert [row[0] for row in ascending.rows][:2] == ["c07", "c10"]
    assert descending.rows[-1] == ascending.rows[-1] == ("c09",)  # no sales at all


def test_a_pivot_sorts_rows_on_their_total_and_columns_on_a_column_dimension(sales):
    result = run(
        sales,
        _with(
            PIVOT,
            rows=["Region"],
            columns=["Category"],
            sort=[{"by": "Sum of Sales", "direction": "asc"}, {"by": "Category", "direction": "desc"}],
        ),
    )

    assert result.rows == (("South",), ("West",), ("East",), (None,))  # 70, 160, 455.5, 500
    assert result.columns == (("Tech",), ("Home",), ("Auto",), (None,))  # NULL last either way


def test_rows_default_to_ascending_dimensions_with_nulls_last(sales):
    result = run(sales, TABLE)

    assert result.rows == (("Auto",), ("Home",), ("Tech",), (None,))
    assert not result.truncated


def test_the_caller_can_lower_the_limit(sales):
    result = run(sales, _with(TABLE, rows=["Customer"]), max_rows=5)

    assert len(result.rows) == 5
    assert result.truncated


# ---------------------------------------------------------------------------------------------------------------
# Filters

FILTER_CASES = [
    ({"field": "Region", "op": "eq", "value": "West"}, {"c02", "c05", "c06"}),
    ({"field": "Region", "op": "neq", "value": "East"}, {"c02", "c05", "c06", "c07", "c08", "c12"}),  # NULL kept
    ({"field": "Region", "op": "in", "value": ["South", "West"]}, {"c02", "c05", "c06", "c07", "c12"}),
    ({"field": "Region", "op": "not_in", "value": ["East", "West"]}, {"c07", "c08", "c12"}),  # NULL kept
    ({"field": "Sales", "op": "gt", "value": 100}, {"c04", "c08"}),
    ({"field": "Sales", "op": "gte", "value": 100}, {"c01", "c04", "c08", "c11"}),
    ({"field": "Sales", "op": "lt", "value": 30.5}, {"c03", "c07", "c10"}),
    ({"field": "Sales", "op": "lte", "value": 25.5}, {"c07", "c10"}),
    ({"field": "Profit", "op": "between", "value": [0, 3]}, {"c03", "c07", "c09", "c10"}),
    ({"field": "Sales", "op": "is_null"}, {"c09"}),
    ({"field": "Segment", "op": "not_null"}, {f"c{i:02}" for i in range(1, 13)} - {"c05"}),
    ({"field": "Segment", "op": "contains", "value": "ORPOR"}, {"c03", "c07", "c08", "c12"}),
    ({"field": "Segment", "op": "eq", "value": "null"}, {"c06"}),  # the string, not NULL
    ({"field": "Returned", "op": "eq", "value": True}, {"c03", "c07", "c10"}),
    ({"field": "Order Date", "op": "between", "value": ["2024-02-10", "2024-03-31"]}, {"c03", "c04", "c05"}),
    ({"field": "Order Date", "op": "in", "value": ["2024-01-05", "2024-12-30"]}, {"c01", "c10"}),
    ({"field": "Ordered At", "op": "lt", "value": "2024-01-20T12:00:00+00:00"}, {"c01"}),
    ({"field": "Quantity", "op": "eq", "value": 2}, {"c02", "c07", "c12"}),
]


@pytest.mark.parametrize(("flt", "expected"), FILTER_CASES, ids=[f"{f['op']}-{f['field']}" for f, _ in FILTER_CASES])
def test_each_filter_op_keeps_the_right_rows(sales, flt, expected):
    result = run(sales, {"type": "table", "rows": ["Customer"], "measures": [{"agg": "count"}], "filters": [flt]})

    assert customers(result) == expected


def test_a_local_time_on_a_timestamptz_column_is_read_in_the_spec_time_zone(sales):
    spec = {
        "type": "table",
        "rows": ["Customer"],
        "measures": [{"agg": "count"}],
        "filters": [{"field": "Ordered At", "op": "gte", "value": "2024-04-01T00:00"}],
        "date": {"field": "Ordered At", "granularity": "month", "time_zone": "Europe/Berlin"},
    }

    result = run(sales, spec)

    # midnight in Berlin is 22:00 UTC the day before, so c05 (23:30 UTC on March 31st) is in
    assert "c05" in customers(result)
    assert "c05" not in customers(run(sales, _with(spec, date=None)))


def test_filters_combine_with_and(sales):
    result = run(
        sales,
        {
            "type": "table",
            "rows": ["Customer"],
            "measures": [{"agg": "count"}],
            "filters": [
                {"field": "Category", "op": "eq", "value": "Auto"},
                {"field": "Region", "op": "eq", "value": "East"},
            ],
        },
    )

    assert customers(result) == {"c01", "c03", "c11"}


# ---------------------------------------------------------------------------------------------------------------
# NULLs and cell keys


def test_null_and_the_string_null_are_different_cells_with_different_keys(sales):
    result = run(
        sales,
        {
            "type": "table",
            "rows": ["Segment"],
            "measures": [{"field": "Sales", "agg": "sum", "label": "Sales"}],
            "filters": [{"field": "Category", "op": "eq", "value": "Home"}],
            "totals": {"rows": True},
        },
    )

    by_key = values_by_key(result)
    assert by_key['{"m":"Sales","d":[["Segment",null]]}'] == 70.0
    assert by_key['{"m":"Sales","d":[["Segment","null"]]}'] == 40.0
    assert by_key['{"m":"Sales","d":[],"t":["Segment"]}'] == 370.0  # a total is not a NULL
    assert len(by_key) == 5


def test_keys_do_not_depend_on_the_order_of_the_rows(tmp_path):
    shuffled = list(SALES)
    random.Random(20240331).shuffle(shuffled)
    first = write_parquet(tmp_path / "a.parquet", COLUMNS, SALES)
    second = write_parquet(tmp_path / "b.parquet", COLUMNS, shuffled)
    spec = {
        "type": "pivot",
        "rows": ["Category", "Region"],
        "columns": ["Order Date"],
        "measures": [{"field": "Profit", "agg": "sum"}, {"field": "Customer", "agg": "count_distinct"}],
        "date": {"field": "Order Date", "granularity": "quarter"},
        "totals": {"rows": True, "columns": True, "grand": True},
    }

    a, b = run(first, spec), run(second, spec)

    assert values_by_key(a) == values_by_key(b)
    assert [c.key for c in a.cells] == [c.key for c in b.cells]
    assert len(set(values_by_key(a))) == len(a.cells)  # every key names one cell


def test_cell_key_format_is_canonical_json_sorted_by_field():
    key = cell_key("Profit", {"Segment": None, "Category": "Auto"})

    assert key == '{"m":"Profit","d":[["Category","Auto"],["Segment",null]]}'
    assert cell_key("Profit", {"Segment": "null"}) != cell_key("Profit", {"Segment": None})
    assert cell_key("Sales", {"Quantity": 2.0}) == cell_key("Sales", {"Quantity": 2})
    assert cell_key("Sales", {"Price": float("nan")}) == '{"m":"Sales","d":[["Price","NaN"]]}'
    assert cell_key("Qty", {"Order Date": date(2024, 4, 1)}, granularity="month") == (
        '{"m":"Qty","d":[["Order Date","2024-04-01"]],"g":"month"}'
    )
    assert cell_key("Café", {"Ville": "Zürich"}, totals=["Z", "A"]) == (
        '{"m":"Café","d":[["Ville","Zürich"]],"t":["A","Z"]}'
    )
    assert parse_cell_key(key) == ("Profit", {"Category": "Auto", "Segment": None}, (), None)


def test_find_cell_accepts_any_json_spelling_of_a_key(sales):
    result = run(sales, _with(PIVOT, measures=[{"field": "Sales", "agg": "sum", "label": "S"}]))
    spelled = json.dumps({"d": [["Segment", "Consumer"], ["Category", "Auto"]], "m": "S"}, indent=2)

    cell = find_cell(result, spelled)

    assert cell is not None
    assert (cell.row, cell.column, cell.value) == (("Auto",), ("Consumer",), 250.0)
    assert find_cell(result, cell_key("S", {"Category": "Auto", "Segment": "Nope"})) is None
    with pytest.raises(SpecError) as error:
        find_cell(result, "Auto/Consumer")
    assert error.value.field == "key"


# ---------------------------------------------------------------------------------------------------------------
# Dates


def dates_table(tmp_path: Path, kind: str, values: list[Any]) -> Path:
    rows = [(f"r{i}", value) for i, value in enumerate(values)]
    return write_parquet(tmp_path / f"{kind}.parquet", {"id": "varchar", "at": kind}, rows)


def buckets(path: Path, kind: str, **date_spec: Any) -> dict[Any, int]:
    result = run(
        path,
        {"type": "table", "measures": [{"agg": "count", "label": "n"}], "date": {"field": "at", **date_spec}},
        columns={"id": "varchar", "at": kind},
    )
    return {cell.row[0]: cell.value for cell in result.cells}


@pytest.mark.parametrize(
    ("granularity", "bucket"),
    [
        ("day", "2024-05-15"),
        ("week", "2024-05-13"),
        ("month", "2024-05-01"),
        ("quarter", "2024-04-01"),
        ("year", "2024-01-01"),
    ],
)
@pytest.mark.parametrize("kind", ["date", "timestamp", "timestamptz"])
def test_each_granularity_buckets_to_the_first_day_of_its_period(tmp_path, granularity, bucket, kind):
    value = {"date": date(2024, 5, 15), "timestamp": datetime(2024, 5, 15, 13), "timestamptz": _at("2024-05-15T13:00")}
    path = dates_table(tmp_path, kind, [value[kind]])

    assert buckets(path, kind, granularity=granularity) == {bucket: 1}


def test_weeks_start_on_monday_or_sunday(tmp_path):
    path = dates_table(tmp_path, "date", [date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1), None])

    # Saturday, Sunday and Monday
    assert buckets(path, "date", granularity="week") == {"2024-03-25": 2, "2024-04-01": 1, None: 1}
    assert buckets(path, "date", granularity="week", week_start="sunday") == {"2024-03-24": 1, "2024-03-31": 2, None: 1}
    assert buckets(path, "date", granularity="week", week_start=7) == {"2024-03-24": 1, "2024-03-31": 2, None: 1}
    assert buckets(path, "date", granularity="week", week_start="saturday") == {"2024-03-30": 3, None: 1}


def test_a_timestamptz_is_bucketed_in_the_spec_time_zone(tmp_path):
    path = dates_table(tmp_path, "timestamptz", [_at("2024-03-31T23:30")])

    assert buckets(path, "timestamptz", granularity="month") == {"2024-03-01": 1}
    assert buckets(path, "timestamptz", granularity="month", time_zone="Europe/Berlin") == {"2024-04-01": 1}
    assert buckets(path, "timestamptz", granularity="day", time_zone="America/New_York") == {"2024-03-31": 1}


def test_day_buckets_follow_daylight_saving_time(tmp_path):
    moments = [
        "2024-03-30T23:30",  # 00:30 CET on the 31st
        "2024-03-31T21:30",  # 23:30 CEST on the 31st (clocks went forward at 01:00 UTC)
        "2024-03-31T22:30",  # 00:30 CEST on April 1st; a fixed UTC+1 would still say March 31st
        "2024-10-26T22:30",  # 00:30 CEST on October 27th
        "2024-10-27T22:30",  # 23:30 CET on October 27th (clocks went back at 01:00 UTC)
    ]
    path = dates_table(tmp_path, "timestamptz", [_at(m) for m in moments])

    got = buckets(path, "timestamptz", granularity="day", time_zone="Europe/Berlin")

    assert got == {"2024-03-31": 2, "2024-04-01": 1, "2024-10-27": 2}


def test_a_plain_timestamp_is_bucketed_as_it_is(tmp_path):
    path = dates_table(tmp_path, "timestamp", [datetime(2024, 3, 31, 23, 30)])

    assert buckets(path, "timestamp", granularity="month", time_zone="Europe/Berlin") == {"2024-03-01": 1}


def test_date_keys_carry_the_granularity_and_latest_period_finds_the_last_bucket(sales):
    spec = {
        "type": "pivot",
        "rows": ["Category"],
        "columns": ["Order Date"],
        "measures": [{"field": "Sales", "agg": "sum", "label": "Sales"}],
        "date": {"field": "Order Date", "granularity": "month"},
        "totals": {"rows": True, "columns": True},
    }

    monthly = run(sales, spec)
    daily = run(sales, _with(spec, date={"field": "Order Date", "granularity": "day"}))

    april = '{"m":"Sales","d":[["Category","Home"],["Order Date","2024-04-01"]],"g":"month"}'
    assert find_cell(monthly, april).value == 40.0
    assert find_cell(daily, april) is None  # April 1st the day is not April the month
    assert find_cell(monthly, '{"m":"Sales","d":[["Category","Home"]],"t":["Order Date"]}').value == 370.0
    assert latest_period(monthly) == "2024-12-01"
    assert latest_period(run(sales, TABLE)) is None


# ---------------------------------------------------------------------------------------------------------------
# Safety: injection, hidden columns, row filters


@pytest.mark.parametrize(
    "name", ['Category"; DROP TABLE data; --', "Category' OR '1'='1", "x\") FROM read_csv('/etc/passwd') --"]
)
def test_a_field_name_that_is_not_a_column_is_refused(sales, name):
    with pytest.raises(SpecError) as error:
        validate_spec(_with(TABLE, rows=[name]), columns=COLUMNS)

    assert error.value.field == "rows[0]"


def test_values_are_bound_never_spliced_into_the_sql(sales):
    hostile = "East' OR '1'='1"
    spec = validate_spec(_filter("Region", "eq", hostile), columns=COLUMNS)

    for dialect in ("duckdb", "postgresql"):
        query = build_sql(spec, dialect=dialect, relation="data")
        assert hostile not in query.sql
        assert hostile in query.params
    assert evaluate_parquet(spec, sales).rows == ()


def test_odd_column_names_are_quoted(tmp_path):
    columns = {'say "hi"': "varchar", "100% sure?": "integer", "x?y": "varchar"}
    path = write_parquet(tmp_path / "odd.parquet", columns, [("a", 1, "?"), ("a", 2, "%"), ("b", 5, "?")])
    spec = validate_spec(
        {
            "type": "table",
            "rows": ['say "hi"'],
            "measures": [{"field": "100% sure?", "agg": "sum"}],
            "filters": [{"field": "x?y", "op": "eq", "value": "?"}],
        },
        columns=columns,
    )

    assert values_by_key(evaluate_parquet(spec, path)) == {
        '{"m":"Sum of 100% sure?","d":[["say \\"hi\\"","a"]]}': 1,
        '{"m":"Sum of 100% sure?","d":[["say \\"hi\\"","b"]]}': 5,
    }
    assert '"100%% sure?"' in build_sql(spec, dialect="postgresql", relation="data").sql


def test_a_spec_touching_a_hidden_column_is_refused_by_name(sales):
    spec = validate_spec(
        _with(TABLE, filters=[{"field": "Profit", "op": "gt", "value": 0}]), columns=COLUMNS
    )  # valid for someone who may see Profit

    with pytest.raises(SpecError) as error:
        evaluate_parquet(spec, sales, hidden_columns={"Profit"})

    assert error.value.field == "filters[0].field"
    assert error.value.message == "column 'Profit' is hidden by a column rule"
    for place, spec_part in [
        ("rows[0]", {"rows": ["Profit"]}),
        ("measures[0].field", {"measures": [{"field": "Profit", "agg": "sum"}]}),
        ("date.field", {"date": {"field": "Order Date", "granularity": "day"}}),
    ]:
        with pytest.raises(SpecError) as error:
            validate_spec(_with(TABLE, **spec_part), columns=COLUMNS, hidden_columns={"Profit", "Order Date"})
        assert error.value.field == place
        assert "hidden by a column rule" in error.value.message


def test_hidden_columns_are_never_suggested(sales):
    with pytest.raises(SpecError) as error:
        validate_spec(_with(TABLE, rows=["Profits"]), columns=COLUMNS, hidden_columns={"Profit"})

    assert "Profit'" not in error.value.message
    assert run(sales, TABLE, hidden_columns={"Profit"}).rows  # a spec that does not touch it still runs


def test_row_filters_are_applied_on_top_of_the_spec(sales):
    spec = _with(TABLE, rows=["Customer"], totals={"rows": True})

    east = run(sales, spec, row_filters=[("Region", ["East"])])
    east_or_unknown = run(sales, spec, row_filters=[("Region", ["East", None]), ("Category", ["Tech"])])
    nothing = run(sales, spec, row_filters=[("Region", [])])
    by_date = run(sales, spec, row_filters=[("Order Date", [date(2024, 1, 5), "2024-01-20"])])

    assert customers(east) == {"c01", "c03", "c04", "c09", "c10", "c11"}
    assert customers(east_or_unknown) == {"c08", "c09", "c10"}
    assert customers(nothing) == set()
    assert customers(by_date) == {"c01", "c02"}
    # a row filter may use a column the user cannot see, and the totals only add up what is allowed
    hidden = run(sales, spec, row_filters=[("Region", ["West"])], hidden_columns={"Region"})
    assert next(c for c in hidden.cells if c.is_total).value == 160.0


# ---------------------------------------------------------------------------------------------------------------
# Engine behaviour


def test_build_sql_uses_each_dialects_placeholders(sales):
    spec = validate_spec(
        _with(
            TABLE,
            date={"field": "Ordered At", "granularity": "week", "week_start": "sunday", "time_zone": "Asia/Tokyo"},
        ),
        columns=COLUMNS,
    )

    duck = build_sql(spec, dialect="duckdb", relation="read_parquet(?)", relation_params=["x.parquet"])
    pg = build_sql(spec, dialect="postgresql", relation='"sales"', row_filters=[("Region", ["East"])])

    assert duck.sql.count("?") == len(duck.params)
    assert duck.params[:2] == ("Asia/Tokyo", 1)
    assert "x.parquet" in duck.params and "x.parquet" not in duck.sql
    assert pg.sql.count("%s") == len(pg.params) and "?" not in pg.sql
    assert "Asia/Tokyo" not in pg.sql and "East" not in pg.sql
    assert "GROUPING SETS" not in pg.sql
    with_totals = validate_spec(_with(PIVOT, totals={"rows": True, "grand": True}), columns=COLUMNS)
    assert "GROUPING SETS ((" in build_sql(with_totals, dialect="duckdb", relation="t").sql


def test_a_snapshot_that_does_not_match_its_columns_is_an_evaluation_error(sales, tmp_path):
    lying = {**COLUMNS, "Region": "integer"}
    spec = validate_spec({"type": "table", "measures": [{"field": "Region", "agg": "sum"}]}, columns=lying)

    with pytest.raises(EvaluationError) as mismatch:
        evaluate_parquet(spec, sales)
    with pytest.raises(EvaluationError) as missing:
        evaluate_parquet(spec, tmp_path / "gone.parquet")

    assert "East" not in mismatch.value.message
    assert "gone.parquet" not in missing.value.message


def test_a_slow_evaluation_is_interrupted_and_the_engine_stays_usable(tmp_path, sales):
    path = tmp_path / "big.parquet"
    connection = duckdb.connect()
    target = str(path).replace("'", "''")
    connection.execute(
        "COPY (SELECT CAST(i AS VARCHAR) || 'x' AS k, i % 7 AS g FROM range(1500000) t(i)) "
        f"TO '{target}' (FORMAT parquet)"
    )
    connection.close()
    spec = validate_spec(
        {"type": "table", "rows": ["g"], "measures": [{"field": "k", "agg": "count_distinct"}]},
        columns={"k": "varchar", "g": "bigint"},
    )

    with pytest.raises(EvaluationError) as error:
        evaluate_parquet(spec, path, timeout_ms=20)

    assert error.value.status_code == 504
    assert run(sales, TABLE).rows


def test_concurrent_evaluations_do_not_interfere(sales):
    spec = validate_spec(_with(PIVOT, totals={"rows": True, "columns": True, "grand": True}), columns=COLUMNS)
    expected = values_by_key(evaluate_parquet(spec, sales))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: values_by_key(evaluate_parquet(spec, sales)), range(16)))

    assert all(result == expected for result in results)


def test_to_json_for_a_table_is_one_column_of_measures(sales):
    body = to_json(run(sales, _with(TABLE, totals={"grand": True})), keys=False)

    assert body["columns"] == [[]]
    assert body["rows"] == [["Auto"], ["Home"], ["Tech"], [None]]
    assert body["grid"] == [[280.0], [370.0], [525.5], [10.0], [1185.5]]
    assert body["total_row"] and not body["total_column"]
    assert "cells" not in body


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL pushdown


@pytest.fixture
def pg_sales():
    connection = psycopg.connect(POSTGRES_URL, autocommit=True)
    types = {name: ("text" if kind == "varchar" else kind) for name, kind in COLUMNS.items()}
    types["Sales"] = "double precision"
    types["Ordered At"] = "timestamp with time zone"
    definition = ", ".join(f"{quote_identifier(name)} {kind}" for name, kind in types.items())
    connection.execute(f'CREATE TEMP TABLE "sales 50%" ({definition})')
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(f'INSERT INTO "sales 50%%" VALUES ({placeholders})', SALES)
    yield connection, types
    connection.close()


def test_postgresql_pushdown_agrees_with_duckdb_on_the_snapshot(sales, pg_sales):
    connection, types = pg_sales
    spec = validate_spec(
        {
            "type": "pivot",
            "rows": ["Category", "Segment"],
            "columns": ["Ordered At"],
            "measures": [
                {"field": "Sales", "agg": "sum"},
                {"field": "Profit", "agg": "avg"},
                {"field": "Quantity", "agg": "count"},
                {"field": "Region", "agg": "count_distinct"},
                {"field": "Order Date", "agg": "min"},
                {"field": "Ordered At", "agg": "max"},
            ],
            "filters": [
                {"field": "Region", "op": "neq", "value": "South"},
                {"field": "Segment", "op": "contains", "value": "o"},
                {"field": "Ordered At", "op": "lt", "value": "2024-12-01T00:00"},
            ],
            "sort": [{"by": "Sum of Sales", "direction": "desc"}],
            "date": {"field": "Ordered At", "granularity": "month", "time_zone": "Europe/Berlin"},
            "totals": {"rows": True, "columns": True, "grand": True},
        },
        columns=types,
    )
    options = {"row_filters": [("Returned", [False, None])], "hidden_columns": {"Customer"}}

    duck = evaluate_parquet(spec, sales, **options)
    pushed = evaluate_postgresql(spec, connection, '"sales 50%"', statement_timeout_ms=5_000, **options)

    assert [c.key for c in pushed.cells] == [c.key for c in duck.cells]
    assert values_by_key(pushed) == pytest.approx(values_by_key(duck))
    assert pushed.rows == duck.rows and pushed.columns == duck.columns
    february = cell_key(
        "Sum of Sales", {"Ordered At": "2024-02-01", "Category": "Home", "Segment": "Consumer"}, granularity="month"
    )
    assert find_cell(pushed, february).value == 200.0
    assert connection.execute("SHOW statement_timeout").fetchone() == ("0",)


def test_postgresql_pushdown_puts_the_callers_settings_back_and_times_out(pg_sales):
    connection, types = pg_sales
    spec = validate_spec(TABLE, columns=types)
    slow = """(SELECT 'a'::text AS "Category", 1.0::float8 AS "Sales" FROM pg_sleep(1))"""

    with psycopg.connect(POSTGRES_URL) as outer:
        outer.execute("SET statement_timeout = '7s'")
        outer.execute("SET TimeZone = 'America/Chicago'")
        outer.execute("CREATE TEMP TABLE probe (n int)")  # the caller's own transaction is under way
        with pytest.raises(EvaluationError) as timeout:
            evaluate_postgresql(spec, outer, slow, statement_timeout_ms=50)
        quick = """(SELECT 'b'::text AS "Category", 2.0::float8 AS "Sales")"""
        done = evaluate_postgresql(spec, outer, quick, statement_timeout_ms=5_000)
        assert outer.execute("SHOW statement_timeout").fetchone() == ("7s",)
        assert outer.execute("SHOW TimeZone").fetchone() == ("America/Chicago",)
        outer.execute("INSERT INTO probe VALUES (1)")  # still writable, still usable

    assert timeout.value.status_code == 504
    assert [cell.value for cell in done.cells] == [2.0]
    assert evaluate_postgresql(spec, connection, '"sales 50%"', statement_timeout_ms=5_000, max_rows=2).truncated
