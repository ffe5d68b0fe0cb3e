"""Table and pivot visuals: the spec, its validation, and its evaluation into cells with stable keys.

A visual asset holds a spec (JSON). `validate_spec` turns it into frozen dataclasses against the dataset's columns,
`build_sql` turns a validated spec into one SQL query with bound parameters (DuckDB or PostgreSQL), and
`evaluate_parquet` / `evaluate_postgresql` run that query over a dataset snapshot (a Parquet file) or push it down to
a live PostgreSQL source. Everything here takes plain data and returns plain data: no models, no ORM.

Spec
----
::

    {
      "type": "table" | "pivot",
      "rows": ["Category", ...],            # row dimensions (column names of the dataset)
      "columns": ["Ship Mode", ...],        # column dimensions: required for a pivot, refused for a table
      "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}, ...],
                                            # agg: sum | avg | count | count_distinct | min | max; sum and avg
                                            # need a numeric column; {"agg": "count"} without a field (or with
                                            # "*") counts rows; label defaults to e.g. "Sum of Profit"
      "filters": [{"field": "Region", "op": "in", "value": ["East", "West"]}, ...],
                                            # op: eq | neq | in | not_in | gt | gte | lt | lte | between |
                                            # is_null | not_null | contains (case-insensitive, text columns)
      "sort": [{"by": "Profit", "direction": "desc"}, ...],
                                            # by: a dimension or a measure label
      "date": {"field": "Order Date", "granularity": "month", "week_start": "monday", "time_zone": "UTC"},
      "totals": {"rows": false, "columns": false, "grand": false},
      "limit": 10000                        # rows, 1..100,000
    }

Only "type" and "measures" are required. Rules worth knowing:

- Filters apply to the raw column values (a filter on the date field compares dates, not buckets). `neq` and
  `not_in` keep NULLs (a missing value is not equal to anything); `eq`, `in` and the comparisons never match NULL,
  use `is_null` for that. `in`/`not_in` take a non-empty list, `between` a list of two (inclusive), `is_null`/
  `not_null` no value. Values must fit the column: numbers for numeric columns, strings for text, booleans for
  booleans, ISO strings for dates and timestamps; a timestamp without an offset, compared with a `timestamptz`
  column, is read in the spec's time zone (`date.time_zone`, else UTC).
- `date` buckets one date, timestamp or timestamptz column (granularity day | week | month | quarter | year). The
  bucket (an ISO date: the first day of the period) replaces the field's values wherever the field is a dimension;
  if it is in neither rows nor columns it is appended to rows. A timestamptz is converted to `time_zone` before it is
  bucketed; plain dates and timestamps are bucketed as they are. Weeks start on `week_start` (a weekday name or 1-7,
  1 = Monday). Both default to "monday" and "UTC", and `VisualSpec.as_dict()` always spells them out.
- Totals follow QuickSight: `rows` adds a total row at the bottom (the row dimensions added up), `columns` a total
  column at the right of a pivot (the column dimensions added up), `grand` the cell where they meet (for a table, the
  total row). Totals are computed by the engine (GROUPING SETS), so an average total is the average of the rows, not
  of the cells.
- Rows are ordered by the sort keys that name row dimensions or measures (in a pivot, a measure orders rows by the
  row's total across the columns), then by the remaining row dimensions, ascending, NULLs last. Sort keys naming
  column dimensions order the columns of a pivot. `limit` caps the rows (distinct row-dimension values); a pivot also
  keeps at most MAX_PIVOT_COLUMNS columns. `VisualResult.truncated` says when rows were cut.

Cell keys
---------
Every cell carries a key that a later evaluation of the same spec gives to the same cell, whatever the order of the
data. It is canonical JSON (no spaces, UTF-8 kept, keys in this order)::

    {"m":"Profit","d":[["Category","Auto"],["Segment",null]]}
    {"m":"Profit","d":[["Order Date","2024-04-01"],["Region","West"]],"g":"month"}
    {"m":"Profit","d":[["Ship Mode","First Class"]],"t":["Category","Segment"]}

- "m": the measure label;
- "d": the [field, value] pairs of the dimensions the cell belongs to, sorted by field; NULL is JSON null (so NULL
  and the string "null" differ); numbers are JSON numbers, integral ones written as integers (2.0 -> 2); dates and
  timestamps are ISO strings (timestamptz in UTC); non-finite numbers are the strings "NaN", "Infinity", "-Infinity";
- "g": the date granularity, present only when the bucketed date field is among "d" (April the month and April 1st
  the day are different cells);
- "t": the fields added up by a total (sorted), present only on total cells, which keeps a total apart from a
  NULL dimension value.

`cell_key` builds a key, `parse_cell_key` reads one (and is the canonical form), `find_cell` looks one up.

Row- and column-level security
------------------------------
`build_sql` and the evaluate functions take `row_filters` (mandatory `column IN allowed values` filters, ANDed with
the spec's own; a None among the values lets NULL through; an empty list lets nothing through) and
`hidden_columns` (a spec touching one fails with a SpecError naming the column, before any data is read).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import psycopg
from psycopg.rows import tuple_row

from config.errors import DomainError

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_LIMIT",
    "FILTER_OPS",
    "GRANULARITIES",
    "MAX_DIMENSIONS",
    "MAX_LIMIT",
    "MAX_MEASURES",
    "MAX_PIVOT_COLUMNS",
    "Cell",
    "DateBucket",
    "EvaluationError",
    "Filter",
    "Measure",
    "Query",
    "SortKey",
    "SpecError",
    "Totals",
    "VisualResult",
    "VisualSpec",
    "build_sql",
    "canonical_key",
    "cell_key",
    "check_hidden",
    "column_family",
    "evaluate_parquet",
    "evaluate_postgresql",
    "find_cell",
    "latest_period",
    "parse_cell_key",
    "quote_identifier",
    "to_json",
    "validate_spec",
]

VISUAL_TYPES = ("table", "pivot")
AGGREGATIONS = ("sum", "avg", "count", "count_distinct", "min", "max")
FILTER_OPS = ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_null", "not_null", "contains")
GRANULARITIES = ("day", "week", "month", "quarter", "year")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DIRECTIONS = ("asc", "desc")
DIALECTS = ("duckdb", "postgresql")

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000
MAX_DIMENSIONS = 8  # rows and columns together, the bucketed date included
MAX_MEASURES = 20
MAX_FILTERS = 50
MAX_FILTER_VALUES = 1_000
MAX_SORT_KEYS = 10
MAX_LABEL_LENGTH = 200
MAX_PIVOT_COLUMNS = 1_000
COUNT_ROWS = "*"  # the field of a `count` measure that counts rows

_AGG_TITLES = {
    "sum": "Sum",
    "avg": "Average",
    "count": "Count",
    "count_distinct": "Distinct count",
    "min": "Min",
    "max": "Max",
}
_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TEMPORAL = ("date", "timestamp", "timestamptz")
_CASTS = {"date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ"}
# date_trunc units, written into the SQL from this fixed table only (never from the spec's text)
_TRUNC_UNITS = {"week": "'week'", "month": "'month'", "quarter": "'quarter'", "year": "'year'"}

_SPEC_KEYS = ("type", "rows", "columns", "measures", "filters", "sort", "date", "totals", "limit")


class SpecError(DomainError):
    """A visual spec (or a request to evaluate one) that the engine refuses; `field` is the JSON path of the problem,
    e.g. "measures[1].agg"."""


class EvaluationError(DomainError):
    """A valid spec could not be evaluated: the data does not match its catalogued columns, the snapshot cannot be
    read, or the query ran out of time (status 504). The message never quotes data; the cause is chained."""

    status_code = 422


# ---------------------------------------------------------------------------------------------------------------
# Column types


_TYPE_FAMILIES = {
    family: frozenset(names.split(","))
    for family, names in {
        "timestamptz": "timestamptz,timestamp with time zone,timestamp_tz",
        "timestamp": "timestamp,timestamp without time zone,datetime,timestamp_ns,timestamp_ms,timestamp_s",
        "date": "date",
        "boolean": "boolean,bool,logical",
        "text": "varchar,text,string,char,character,character varying,bpchar,citext,nvarchar",
        "numeric": (
            "integer,int,int2,int4,int8,int16,int32,int64,smallint,bigint,tinyint,hugeint,utinyint,usmallint,"
            "uinteger,ubigint,uhugeint,numeric,decimal,double,double precision,float,float4,float8,real,number,"
            "serial,bigserial,smallserial"
        ),
    }.items()
}


def column_family(sql_type: str) -> str:
    """The family of a catalogued column type: numeric, text, boolean, date, timestamp, timestamptz or other."""
    name = " ".join(re.sub(r"\(.*?\)", " ", str(sql_type).lower()).split())
    for family, names in _TYPE_FAMILIES.items():
        if name in names:
            return family
    return "other"


# ---------------------------------------------------------------------------------------------------------------
# The validated spec


@dataclass(frozen=True)
class Measure:
    field: str  # a column, or COUNT_ROWS for a row count
    agg: str
    label: str


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any  # normalised: a scalar, a tuple (in, not_in, between), or None (is_null, not_null)


@dataclass(frozen=True)
class SortKey:
    by: str
    direction: str


@dataclass(frozen=True)
class DateBucket:
    field: str
    granularity: str
    week_start: str  # a weekday name
    time_zone: str  # an IANA name


@dataclass(frozen=True)
class Totals:
    rows: bool = False
    columns: bool = False
    grand: bool = False


@dataclass(frozen=True)
class VisualSpec:
    type: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    measures: tuple[Measure, ...]
    filters: tuple[Filter, ...]
    sort: tuple[SortKey, ...]
    date: DateBucket | None
    totals: Totals
    limit: int
    schema: tuple[tuple[str, str], ...]  # every column of the dataset: (name, family)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.rows + self.columns

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(measure.label for measure in self.measures)

    @property
    def fields(self) -> frozenset[str]:
        """Every column the spec reads."""
        used = set(self.dimensions) | {f.field for f in self.filters}
        used |= {m.field for m in self.measures if m.field != COUNT_ROWS}
        if self.date:
            used.add(self.date.field)
        return frozenset(used)

    def family(self, column: str) -> str:
        return dict(self.schema)[column]

    def as_dict(self) -> dict[str, Any]:
        """The canonical JSON form: defaults filled in, values normalised; `validate_spec` accepts it back."""
        out: dict[str, Any] = {
            "type": self.type,
            "rows": list(self.rows),
            "columns": list(self.columns),
            "measures": [{"field": m.field, "agg": m.agg, "label": m.label} for m in self.measures],
            "filters": [
                {"field": f.field, "op": f.op, **({} if f.value is None else {"value": _listed(f.value)})}
                for f in self.filters
            ],
            "sort": [{"by": s.by, "direction": s.direction} for s in self.sort],
            "totals": {"rows": self.totals.rows, "columns": self.totals.columns, "grand": self.totals.grand},
            "limit": self.limit,
        }
        if self.date:
            out["date"] = {
                "field": self.date.field,
                "granularity": self.date.granularity,
                "week_start": self.date.week_start,
                "time_zone": self.date.time_zone,
            }
        return out


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------------------------------------------------------
# Validation


def validate_spec(spec: Any, *, columns: Mapping[str, str], hidden_columns: Iterable[str] = frozenset()) -> VisualSpec:
    """Parse a JSON-like spec against the dataset's columns (name -> type); raise SpecError naming the problem.

    Hidden columns are refused by name and never suggested as close matches."""
    return _Validator(columns, frozenset(hidden_columns)).spec(spec)


class _Validator:
    def __init__(self, columns: Mapping[str, str], hidden: frozenset[str]) -> None:
        if not isinstance(columns, Mapping):
            raise TypeError("columns must map column names to types")
        self.families = {str(name): column_family(sql_type) for name, sql_type in columns.items()}
        self.types = {str(name): str(sql_type) for name, sql_type in columns.items()}
        self.hidden = hidden
        self.time_zone = "UTC"

    # -- helpers --------------------------------------------------------------------------------------------

    @staticmethod
    def _keys(obj: Any, allowed: Sequence[str], path: str, what: str) -> dict[str, Any]:
        if not isinstance(obj, Mapping):
            raise SpecError(f"{what} must be a JSON object", field=path or None)
        for key in obj:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                raise SpecError(f"unknown key {key!r}; expected one of {', '.join(allowed)}", field=where)
        return dict(obj)

    def column(self, name: Any, path: str) -> str:
        if not isinstance(name, str) or not name:
            raise SpecError("must be a column name (a non-empty string)", field=path)
        if name in self.hidden:
            raise SpecError(f"column {name!r} is hidden by a column rule", field=path)
        if name not in self.families:
            visible = [c for c in self.families if c not in self.hidden]
            close = [c for c in visible if c.lower() == name.lower()]
            close += [c for c in difflib.get_close_matches(name, visible, n=3, cutoff=0.6) if c not in close]
            hint = f"did you mean {', '.join(repr(c) for c in close[:3])}?" if close else "no column has a close name"
            raise SpecError(f"unknown column {name!r}; {hint}", field=path)
        return name

    @staticmethod
    def _list(obj: Any, path: str, maximum: int, what: str) -> list[Any]:
        if obj is None:
            return []
        if not isinstance(obj, list | tuple):
            raise SpecError(f"{what} must be a list", field=path)
        if len(obj) > maximum:
            raise SpecError(f"at most {maximum} {what} are allowed; this spec has {len(obj)}", field=path)
        return list(obj)

    # -- the spec -------------------------------------------------------------------------------------------

    def spec(self, spec: Any) -> VisualSpec:
        raw = self._keys(spec, _SPEC_KEYS, "", "a visual spec")
        kind = raw.get("type")
        if kind not in VISUAL_TYPES:
            raise SpecError(f"unknown visual type {kind!r}; expected table or pivot", field="type")

        date_spec = self.date(raw.get("date"))
        if date_spec:
            self.time_zone = date_spec.time_zone
        rows = [
            self.column(name, f"rows[{i}]") for i, name in enumerate(self._list(raw.get("rows"), "rows", 64, "rows"))
        ]
        cols = [
            self.column(name, f"columns[{i}]")
            for i, name in enumerate(self._list(raw.get("columns"), "columns", 64, "columns"))
        ]
        if kind == "table" and cols:
            raise SpecError("a table has no column dimensions; use a pivot", field="columns")
        seen: dict[str, str] = {}
        for path, name in [(f"rows[{i}]", n) for i, n in enumerate(rows)] + [
            (f"columns[{i}]", n) for i, n in enumerate(cols)
        ]:
            if name in seen:
                raise SpecError(f"dimension {name!r} appears twice (also at {seen[name]})", field=path)
            seen[name] = path
        if date_spec and date_spec.field not in seen:
            rows.append(date_spec.field)
        if kind == "pivot" and not cols:
            raise SpecError("a pivot needs at least one column dimension", field="columns")
        if len(rows) + len(cols) > MAX_DIMENSIONS:
            raise SpecError(
                f"at most {MAX_DIMENSIONS} dimensions (rows and columns together) are allowed; "
                f"this spec has {len(rows) + len(cols)}",
                field="rows",
            )

        measures = self.measures(raw.get("measures"), dimensions=set(seen) | set(rows))
        filters = tuple(
            self.filter(item, f"filters[{i}]")
            for i, item in enumerate(self._list(raw.get("filters"), "filters", MAX_FILTERS, "filters"))
        )
        totals = self.totals(raw.get("totals"), kind)
        sort = self.sort(raw.get("sort"), dimensions=rows + cols, labels=[m.label for m in measures])
        limit = raw.get("limit", DEFAULT_LIMIT)
        if limit is None:
            limit = DEFAULT_LIMIT
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise SpecError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}", field="limit")
        return VisualSpec(
            type=kind,
            rows=tuple(rows),
            columns=tuple(cols),
            measures=measures,
            filters=filters,
            sort=sort,
            date=date_spec,
            totals=totals,
            limit=limit,
            schema=tuple(self.families.items()),
        )

    def measures(self, obj: Any, *, dimensions: set[str]) -> tuple[Measure, ...]:
        items = self._list(obj, "measures", MAX_MEASURES, "measures")
        if not items:
            raise SpecError("a visual needs at least one measure", field="measures")
        out: list[Measure] = []
        labels: dict[str, int] = {}
        for i, item in enumerate(items):
            path = f"measures[{i}]"
            raw = self._keys(item, ("field", "agg", "label"), path, "a measure")
            agg = raw.get("agg")
            if agg not in AGGREGATIONS:
                raise SpecError(
                    f"unknown aggregation {agg!r}; expected one of {', '.join(AGGREGATIONS)}", field=f"{path}.agg"
                )
            field = raw.get("field")
            if agg == "count" and field in (None, COUNT_ROWS):
                field = COUNT_ROWS
            else:
                field = self.column(field, f"{path}.field")
                family = self.families[field]
                if agg in ("sum", "avg") and family != "numeric":
                    raise SpecError(
                        f"{agg} needs a numeric column, but {field!r} is {self.types[field]}", field=f"{path}.field"
                    )
            label = raw.get("label")
            if label is None:
                label = f"{_AGG_TITLES[agg]} of {'rows' if field == COUNT_ROWS else field}"
            if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH:
                raise SpecError(
                    f"a label is a non-empty string of at most {MAX_LABEL_LENGTH} characters", field=f"{path}.label"
                )
            if label in labels:
                raise SpecError(
                    f"duplicate measure label {label!r} (also measures[{labels[label]}]); "
                    "give each measure its own label",
                    field=f"{path}.label",
                )
            if label in dimensions:
                raise SpecError(
                    f"measure label {label!r} is also a dimension; choose another label", field=f"{path}.label"
                )
            labels[label] = i
            out.append(Measure(field=field, agg=agg, label=label))
        return tuple(out)

    def date(self, obj: Any) -> DateBucket | None:
        if obj is None:
            return None
        raw = self._keys(obj, ("field", "granularity", "week_start", "time_zone"), "date", "date")
        field = self.column(raw.get("field"), "date.field")
        if self.families[field] not in _TEMPORAL:
            raise SpecError(f"{field!r} is {self.types[field]}, not a date or timestamp", field="date.field")
        granularity = raw.get("granularity")
        if granularity not in GRANULARITIES:
            raise SpecError(
                f"unknown granularity {granularity!r}; expected one of {', '.join(GRANULARITIES)}",
                field="date.granularity",
            )
        week_start = raw.get("week_start", "monday")
        if isinstance(week_start, int) and not isinstance(week_start, bool) and 1 <= week_start <= 7:
            week_start = WEEKDAYS[week_start - 1]
        elif isinstance(week_start, str) and week_start.lower() in WEEKDAYS:
            week_start = week_start.lower()
        else:
            raise SpecError(
                f"week_start must be monday or sunday (any weekday name, or 1-7 with 1 = Monday), not {week_start!r}",
                field="date.week_start",
            )
        time_zone = raw.get("time_zone", "UTC")
        if not _is_time_zone(time_zone):
            raise SpecError(
                f"unknown time zone {time_zone!r}; use an IANA name such as Europe/London", field="date.time_zone"
            )
        return DateBucket(field=field, granularity=granularity, week_start=week_start, time_zone=time_zone)

    def totals(self, obj: Any, kind: str) -> Totals:
        if obj is None:
            return Totals()
        raw = self._keys(obj, ("rows", "columns", "grand"), "totals", "totals")
        for key, value in raw.items():
            if not isinstance(value, bool):
                raise SpecError("must be true or false", field=f"totals.{key}")
        if kind == "table" and raw.get("columns"):
            raise SpecError("a table has no column dimensions to total", field="totals.columns")
        return Totals(rows=raw.get("rows", False), columns=raw.get("columns", False), grand=raw.get("grand", False))

    def sort(self, obj: Any, *, dimensions: list[str], labels: list[str]) -> tuple[SortKey, ...]:
        out: list[SortKey] = []
        for i, item in enumerate(self._list(obj, "sort", MAX_SORT_KEYS, "sort keys")):
            path = f"sort[{i}]"
            raw = self._keys(item, ("by", "direction"), path, "a sort key")
            by = raw.get("by")
            if not isinstance(by, str) or (by not in dimensions and by not in labels):
                raise SpecError(
                    f"cannot sort by {by!r}: it is neither a dimension ({', '.join(dimensions) or 'none'}) "
                    f"nor a measure label ({', '.join(labels)})",
                    field=f"{path}.by",
                )
            if any(key.by == by for key in out):
                raise SpecError(f"{by!r} is sorted on twice", field=f"{path}.by")
            direction = raw.get("direction", "asc")
            if not isinstance(direction, str) or direction.lower() not in DIRECTIONS:
                raise SpecError(f"direction must be asc or desc, not {direction!r}", field=f"{path}.direction")
            out.append(SortKey(by=by, direction=direction.lower()))
        return tuple(out)

    def filter(self, obj: Any, path: str) -> Filter:
        raw = self._keys(obj, ("field", "op", "value"), path, "a filter")
        field = self.column(raw.get("field"), f"{path}.field")
        op = raw.get("op")
        if op not in FILTER_OPS:
            raise SpecError(f"unknown filter op {op!r}; expected one of {', '.join(FILTER_OPS)}", field=f"{path}.op")
        family = self.families[field]
        value = raw.get("value")
        where = f"{path}.value"
        if op in ("is_null", "not_null"):
            if value is not None:
                raise SpecError(f"{op} takes no value", field=where)
            return Filter(field, op, None)
        if family == "boolean" and op in ("gt", "gte", "lt", "lte", "between", "contains"):
            raise SpecError(f"{op} does not apply to the boolean column {field!r}", field=f"{path}.op")
        if family == "other" and op not in ("eq", "neq", "in", "not_in"):
            raise SpecError(f"{op} does not apply to {field!r} ({self.types[field]})", field=f"{path}.op")
        if op == "contains":
            if family != "text":
                raise SpecError(
                    f"contains needs a text column, but {field!r} is {self.types[field]}", field=f"{path}.op"
                )
            if not isinstance(value, str) or not value:
                raise SpecError("contains takes a non-empty string", field=where)
            return Filter(field, op, value)
        if op in ("in", "not_in"):
            if not isinstance(value, list | tuple) or not value:
                raise SpecError(f"{op} takes a non-empty list of values", field=where)
            if len(value) > MAX_FILTER_VALUES:
                raise SpecError(f"{op} takes at most {MAX_FILTER_VALUES} values", field=where)
            return Filter(field, op, tuple(self.value(v, field, family, where) for v in value))
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise SpecError("between takes a list of two values [low, high]", field=where)
            return Filter(field, op, tuple(self.value(v, field, family, where) for v in value))
        return Filter(field, op, self.value(value, field, family, where))

    def value(self, value: Any, field: str, family: str, path: str) -> Any:
        if value is None:
            raise SpecError("a value cannot be null here; use is_null or not_null", field=path)
        if isinstance(value, list | tuple | Mapping):
            raise SpecError(f"expected a single value, not {type(value).__name__}", field=path)
        if family == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise SpecError(f"{field!r} is numeric; expected a number, not {value!r}", field=path)
            return value
        if family == "boolean":
            if not isinstance(value, bool):
                raise SpecError(f"{field!r} is boolean; expected true or false, not {value!r}", field=path)
            return value
        if not isinstance(value, str):
            raise SpecError(f"{field!r} is {self.types[field]}; expected a string, not {value!r}", field=path)
        if family == "date":
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise SpecError(f"{field!r} is a date; expected an ISO date like 2024-04-01, not {value!r}", field=path)
        if family in ("timestamp", "timestamptz"):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise SpecError(
                    f"{field!r} is a timestamp; expected an ISO timestamp like 2024-04-01T09:30, not {value!r}",
                    field=path,
                )
            if family == "timestamp":
                if moment.tzinfo is not None:
                    raise SpecError(f"{field!r} has no time zone; give a local time without an offset", field=path)
                return moment.isoformat()
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(self.time_zone))
            return moment.astimezone(UTC).isoformat()
        return value


def _is_time_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name or name != name.strip() or name.startswith(("/", ".")):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# SQL


class Query(NamedTuple):
    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Param:
    value: Any
    silent: bool = False  # its placeholder is already in a verbatim piece (the relation)


@dataclass(frozen=True, slots=True)
class _Verbatim:
    text: str


class _Sql:
    """SQL text and bound values, kept in the order they appear, rendered once for a dialect."""

    __slots__ = ("parts",)

    def __init__(self, *pieces: str | _Param | _Verbatim | _Sql) -> None:
        parts: list[str | _Param | _Verbatim] = []
        for piece in pieces:
            if isinstance(piece, _Sql):
                parts.extend(piece.parts)
            else:
                parts.append(piece)
        self.parts = tuple(parts)

    def render(self, dialect: str) -> Query:
        text: list[str] = []
        params: list[Any] = []
        for part in self.parts:
            if isinstance(part, _Param):
                if not part.silent:
                    text.append("%s" if dialect == "postgresql" else "?")
                params.append(part.value)
            elif isinstance(part, _Verbatim):
                text.append(part.text)
            else:  # psycopg reads % as the start of a placeholder, even inside quoted identifiers
                text.append(part.replace("%", "%%") if dialect == "postgresql" else part)
        return Query("".join(text), tuple(params))


def _join(separator: str, items: Iterable[_Sql | str]) -> _Sql:
    pieces: list[_Sql | str] = []
    for i, item in enumerate(items):
        if i:
            pieces.append(separator)
        pieces.append(item)
    return _Sql(*pieces)


def quote_identifier(name: str) -> str:
    """A double-quoted SQL identifier, quotes doubled inside; NUL (which neither engine accepts) is refused."""
    if "\x00" in name:
        raise SpecError("a column name cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


def _date_bucket(bucket: DateBucket, family: str, column: str) -> _Sql:
    if family == "timestamptz":
        local = _Sql("CAST(CAST(", column, " AS TIMESTAMPTZ) AT TIME ZONE ", _Param(bucket.time_zone), " AS DATE)")
    else:
        local = _Sql("CAST(", column, " AS DATE)")
    if bucket.granularity == "day":
        return local
    unit = _TRUNC_UNITS[bucket.granularity]
    # date_trunc('week') starts weeks on Monday: shift the date forward so the chosen weekday lands on a Monday
    shift = (8 - (WEEKDAYS.index(bucket.week_start) + 1)) % 7 if bucket.granularity == "week" else 0
    if not shift:
        return _Sql("CAST(date_trunc(", unit, ", CAST(", local, " AS TIMESTAMP)) AS DATE)")
    return _Sql(
        "(CAST(date_trunc(",
        unit,
        ", CAST(",
        local,
        " + ",
        _Param(shift),
        " AS TIMESTAMP)) AS DATE) - ",
        _Param(shift),
        ")",
    )


def _value_sql(value: Any, family: str) -> _Sql:
    if family in _CASTS:
        text = value.isoformat() if isinstance(value, date | datetime) else str(value)
        return _Sql("CAST(", _Param(text), f" AS {_CASTS[family]})")
    if family == "other":
        return _Sql(_Param(str(value)))
    return _Sql(_Param(value))


def _filter_sql(flt: Filter, family: str) -> _Sql:
    column = quote_identifier(flt.field)
    target = f"CAST({column} AS VARCHAR)" if family == "other" else column
    op, value = flt.op, flt.value
    if op == "is_null":
        return _Sql(column, " IS NULL")
    if op == "not_null":
        return _Sql(column, " IS NOT NULL")
    if op == "eq":
        return _Sql(target, " = ", _value_sql(value, family))
    if op == "neq":
        return _Sql(target, " IS DISTINCT FROM ", _value_sql(value, family))
    if op in _COMPARISONS:
        return _Sql(target, f" {_COMPARISONS[op]} ", _value_sql(value, family))
    if op == "between":
        return _Sql(target, " BETWEEN ", _value_sql(value[0], family), " AND ", _value_sql(value[1], family))
    if op == "contains":
        return _Sql("strpos(lower(", column, "), lower(", _Param(value), ")) > 0")
    listed = _join(", ", (_value_sql(v, family) for v in value))
    if op == "in":
        return _Sql(target, " IN (", listed, ")")
    return _Sql("(", column, " IS NULL OR ", target, " NOT IN (", listed, "))")


def _row_filter_sql(column: str, values: Sequence[Any], family: str) -> _Sql:
    quoted = quote_identifier(column)
    target = f"CAST({quoted} AS VARCHAR)" if family == "other" else quoted
    present = [v for v in values if v is not None]
    terms: list[_Sql | str] = []
    if present:
        terms.append(_Sql(target, " IN (", _join(", ", (_value_sql(v, family) for v in present)), ")"))
    if len(present) < len(values):
        terms.append(_Sql(quoted, " IS NULL"))
    if not terms:
        return _Sql("1 = 0")
    return _Sql("(", _join(" OR ", terms), ")")


def check_hidden(spec: VisualSpec, hidden_columns: Iterable[str]) -> None:
    """Refuse a spec that reads a hidden column, naming the column (and nothing of its data)."""
    hidden = set(hidden_columns)
    if not hidden:
        return
    places: list[tuple[str, str]] = [(f"rows[{i}]", name) for i, name in enumerate(spec.rows)]
    places += [(f"columns[{i}]", name) for i, name in enumerate(spec.columns)]
    places += [(f"measures[{i}].field", m.field) for i, m in enumerate(spec.measures)]
    places += [(f"filters[{i}].field", f.field) for i, f in enumerate(spec.filters)]
    if spec.date:
        places.append(("date.field", spec.date.field))
    for path, name in places:
        if name in hidden:
            raise SpecError(f"column {name!r} is hidden by a column rule", field=path)


def _grouping_sets(spec: VisualSpec) -> list[tuple[int, ...]]:
    n_rows, n_dims = len(spec.rows), len(spec.dimensions)
    full = tuple(range(n_dims))
    row_set, column_set = tuple(range(n_rows)), tuple(range(n_rows, n_dims))
    sets = [full]
    if spec.type == "pivot":
        if spec.totals.columns or _sorts_on_measures(spec):
            sets.append(row_set)  # the total column; also what rows are ordered by when sorting on a measure
        if spec.totals.rows:
            sets.append(column_set)
        if spec.totals.grand:
            sets.append(())
    elif spec.totals.rows or spec.totals.grand:
        sets.append(())
    return list(dict.fromkeys(sets))


def _sorts_on_measures(spec: VisualSpec) -> bool:
    return any(key.by in spec.labels for key in spec.sort)


def build_sql(
    spec: VisualSpec,
    *,
    dialect: str,
    relation: str,
    relation_params: Sequence[Any] = (),
    row_filters: Iterable[tuple[str, Sequence[Any]]] = (),
    hidden_columns: Iterable[str] = frozenset(),
    limit: int | None = None,
    max_columns: int = MAX_PIVOT_COLUMNS,
) -> Query:
    """The one query that evaluates `spec`, for "duckdb" (? placeholders) or "postgresql" (psycopg %s placeholders).

    `relation` is inserted verbatim as the FROM item: a quoted table name, a parenthesised query or a table function
    such as read_parquet(?); its own placeholders are written for the dialect and their values given in
    `relation_params`. Every other value is a bound parameter; identifiers are quoted.

    The result has one row per group: the dimension values (rows then columns), two grouping flags (non-zero when
    the row, resp. column, dimensions are added up), one value per measure, then the row rank and the column rank.
    Rows ranked above `limit` + 1 and columns above `max_columns` + 1 are left out (one extra to detect truncation).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    check_hidden(spec, hidden_columns)
    families = dict(spec.schema)
    n_rows, n_dims = len(spec.rows), len(spec.dimensions)
    dims = [f'"d{i}"' for i in range(n_dims)]
    rows_sql, columns_sql = dims[:n_rows], dims[n_rows:]

    # __base: the dimension values (the date bucketed) and measure inputs, filtered
    select: list[_Sql | str] = []
    for i, name in enumerate(spec.dimensions):
        expr: _Sql | str = quote_identifier(name)
        if spec.date and spec.date.field == name:
            expr = _date_bucket(spec.date, families[name], quote_identifier(name))
        select.append(_Sql(expr, f" AS {dims[i]}"))
    for k, measure in enumerate(spec.measures):
        if measure.field != COUNT_ROWS:
            select.append(f'{quote_identifier(measure.field)} AS "m{k}"')
    if not select:
        select.append('1 AS "__one"')
    conditions = [_filter_sql(f, families[f.field]) for f in spec.filters]
    for column, values in row_filters:
        if column not in families:
            raise SpecError(f"row filter on unknown column {column!r}", field="row_filters")
        conditions.append(_row_filter_sql(column, list(values), families[column]))
    base = _Sql(
        'WITH "__base" AS (SELECT ',
        _join(", ", select),
        " FROM ",
        _Verbatim(relation),
        *(_Param(v, silent=True) for v in relation_params),
        ' AS "__source"',
        _Sql(" WHERE ", _join(" AND ", conditions)) if conditions else "",
        ")",
    )

    # __agg: one pass of GROUPING SETS gives the cells and the totals
    sets = _grouping_sets(spec)
    several = len(sets) > 1
    grouped_rows = f"GROUPING({', '.join(rows_sql)})" if several and rows_sql else "0"
    grouped_columns = f"GROUPING({', '.join(columns_sql)})" if several and columns_sql else "0"
    aggregates = []
    for k, measure in enumerate(spec.measures):
        arg = "*" if measure.field == COUNT_ROWS else f'"m{k}"'
        call = {
            "sum": f"SUM({arg})",
            "avg": f"AVG({arg})",
            "count": f"COUNT({arg})",
            "count_distinct": f"COUNT(DISTINCT {arg})",
            "min": f"MIN({arg})",
            "max": f"MAX({arg})",
        }[measure.agg]
        aggregates.append(f'{call} AS "v{k}"')
    if several:
        group_by = (
            " GROUP BY GROUPING SETS (" + ", ".join("(" + ", ".join(dims[i] for i in s) + ")" for s in sets) + ")"
        )
    else:
        group_by = f" GROUP BY {', '.join(dims)}" if dims else ""
    agg = _Sql(
        ', "__agg" AS (SELECT ',
        ", ".join([*dims, f'{grouped_rows} AS "__gr"', f'{grouped_columns} AS "__gc"', *aggregates]),
        ' FROM "__base"',
        group_by,
        ")",
    )

    # __keyed: in a pivot, a measure orders rows by the row's total across the columns (the total column's value)
    keyed = _Sql(', "__keyed" AS (SELECT * FROM "__agg")')
    sort_value = {label: f'"v{k}"' for k, label in enumerate(spec.labels)}
    if spec.type == "pivot" and _sorts_on_measures(spec):
        partition = ", ".join(['"__gr"', *rows_sql])
        windows = []
        for k, label in enumerate(spec.labels):
            if any(key.by == label for key in spec.sort):
                windows.append(f'MAX(CASE WHEN "__gc" <> 0 THEN "v{k}" END) OVER (PARTITION BY {partition}) AS "s{k}"')
                sort_value[label] = f'"s{k}"'
        keyed = _Sql(', "__keyed" AS (SELECT *, ', ", ".join(windows), ' FROM "__agg")')

    # __ranked: row and column positions; totals last
    position = {name: dims[i] for i, name in enumerate(spec.dimensions)}
    row_order, column_order = ['"__gr"'], ['"__gc"']
    for key in spec.sort:
        direction = "DESC" if key.direction == "desc" else "ASC"
        if key.by in spec.columns:
            column_order.append(f"{position[key.by]} {direction} NULLS LAST")
        else:
            row_order.append(f"{position.get(key.by) or sort_value[key.by]} {direction} NULLS LAST")
    sorted_on = {key.by for key in spec.sort}
    row_order += [f"{position[name]} ASC NULLS LAST" for name in spec.rows if name not in sorted_on]
    column_order += [f"{position[name]} ASC NULLS LAST" for name in spec.columns if name not in sorted_on]
    ranked = _Sql(
        ', "__ranked" AS (SELECT *, ',
        f'DENSE_RANK() OVER (ORDER BY {", ".join(row_order)}) AS "__rr", ',
        f'DENSE_RANK() OVER (ORDER BY {", ".join(column_order)}) AS "__cr"',
        ' FROM "__keyed")',
    )

    row_limit = min(limit or spec.limit, spec.limit)
    outputs = [*dims, '"__gr"', '"__gc"', *(f'"v{k}"' for k in range(len(spec.measures))), '"__rr"', '"__cr"']
    final = _Sql(
        " SELECT ",
        ", ".join(outputs),
        ' FROM "__ranked" WHERE ("__gr" <> 0 OR "__rr" <= ',
        _Param(row_limit + 1),
        ') AND ("__gc" <> 0 OR "__cr" <= ',
        _Param(max_columns + 1),
        ') ORDER BY "__rr", "__cr"',
    )
    return _Sql(base, agg, keyed, ranked, final).render(dialect)


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Cell:
    key: str
    measure: str
    row: tuple[Any, ...]  # the row dimension values (all None in the total row)
    column: tuple[Any, ...]  # the column dimension values (all None in the total column; () in a table)
    value: Any
    is_total_row: bool  # the cell lies in the total row (the row dimensions are added up)
    is_total_column: bool  # the cell lies in the total column (the column dimensions are added up)
    row_index: int  # position in VisualResult.rows; len(rows) for the total row
    column_index: int  # position in VisualResult.columns; len(columns) for the total column

    @property
    def is_total(self) -> bool:
        return self.is_total_row or self.is_total_column


@dataclass(frozen=True)
class VisualResult:
    type: str
    row_fields: tuple[str, ...]
    column_fields: tuple[str, ...]
    measures: tuple[str, ...]  # labels, in spec order
    rows: tuple[tuple[Any, ...], ...]  # row headers in display order, the total row not included
    columns: tuple[tuple[Any, ...], ...]  # column headers of a pivot in display order; ((),) for a table
    cells: tuple[Cell, ...]  # row-major: row, column, measure
    has_total_row: bool
    has_total_column: bool
    truncated: bool  # more rows than the limit
    columns_truncated: bool  # more than MAX_PIVOT_COLUMNS columns
    date_field: str | None = None
    granularity: str | None = None

    @cached_property
    def _by_key(self) -> dict[str, Cell]:
        return {cell.key: cell for cell in self.cells}


def _plain(value: Any) -> Any:
    """A value as the API shows it: numbers as int/float, dates and times as ISO strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _key_value(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        if value.is_integer():
            return int(value)
    return value


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _key_tail(dimensions: Sequence[tuple[str, Any]], totals: Iterable[str], granularity: str | None) -> str:
    pairs = sorted(((field, _key_value(_plain(value))) for field, value in dimensions), key=lambda pair: pair[0])
    tail = ',"d":' + _dump([list(pair) for pair in pairs])
    if granularity:
        tail += ',"g":' + _dump(granularity)
    totalled = sorted(totals)
    if totalled:
        tail += ',"t":' + _dump(totalled)
    return tail + "}"


def cell_key(
    measure: str,
    dimensions: Mapping[str, Any],
    *,
    totals: Iterable[str] = (),
    granularity: str | None = None,
) -> str:
    """The key of the cell of `measure` at `dimensions` (field -> value), with `totals` the fields added up.

    `granularity` is the date granularity when the bucketed date field is among `dimensions`."""
    return '{"m":' + _dump(measure) + _key_tail(list(dimensions.items()), totals, granularity)


def parse_cell_key(key: str) -> tuple[str, dict[str, Any], tuple[str, ...], str | None]:
    """(measure, dimensions, totalled fields, granularity) of a key; SpecError if it is not a cell key."""
    try:
        data = json.loads(key)
        measure = data["m"]
        pairs = data["d"]
        totals = tuple(data.get("t", ()))
        granularity = data.get("g")
        dimensions = {}
        for pair in pairs:
            field, value = pair
            if not isinstance(field, str) or isinstance(value, list | dict):
                raise ValueError
            dimensions[field] = value
        unknown = set(data) - {"m", "d", "t", "g"}
        if (
            unknown
            or not isinstance(measure, str)
            or len(dimensions) != len(pairs)
            or not all(isinstance(t, str) for t in totals)
            or (granularity is not None and granularity not in GRANULARITIES)
        ):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError):
        raise SpecError("not a cell key", field="key")
    return measure, dimensions, totals, granularity


def canonical_key(key: str) -> str:
    measure, dimensions, totals, granularity = parse_cell_key(key)
    return cell_key(measure, dimensions, totals=totals, granularity=granularity)


def find_cell(result: VisualResult, key: str) -> Cell | None:
    """The cell with this key (in any JSON spelling of it), or None when the result has no such cell."""
    cell = result._by_key.get(key)
    if cell is None:
        cell = result._by_key.get(canonical_key(key))
    return cell


def latest_period(result: VisualResult) -> str | None:
    """The latest date bucket among the result's cells (for an alert pinned to "the latest period")."""
    if not result.date_field:
        return None
    fields = result.row_fields + result.column_fields
    at = fields.index(result.date_field)
    values = [
        (cell.row + cell.column)[at]
        for cell in result.cells
        if not (at < len(result.row_fields) and cell.is_total_row)
        and not (at >= len(result.row_fields) and cell.is_total_column)
    ]
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _decode(spec: VisualSpec, records: Sequence[Sequence[Any]], *, limit: int, max_columns: int) -> VisualResult:
    n_rows, n_dims, n_measures = len(spec.rows), len(spec.dimensions), len(spec.measures)
    granularity = spec.date.granularity if spec.date else None
    date_at = spec.dimensions.index(spec.date.field) if spec.date else -1
    labels = spec.labels
    pivot_without_rows = spec.type == "pivot" and not spec.rows

    kept: list[tuple[Sequence[Any], bool, bool]] = []
    row_headers: dict[int, tuple[Any, ...]] = {}
    column_headers: dict[int, tuple[Any, ...]] = {}
    truncated = columns_truncated = False
    for record in records:
        total_row, total_column = bool(record[n_dims]), bool(record[n_dims + 1])
        if total_row and total_column:
            wanted = spec.totals.grand
        elif total_column:  # without a total column it is there only to order the rows by a measure
            wanted = spec.totals.columns or (pivot_without_rows and spec.totals.grand)
        else:
            wanted = True
        if not wanted:
            continue
        rank, column_rank = record[-2], record[-1]
        if not total_row:
            if rank > limit:
                truncated = True
                continue
            row_headers.setdefault(rank, tuple(_plain(v) for v in record[:n_rows]))
        if not total_column:
            if column_rank > max_columns:
                columns_truncated = True
                continue
            column_headers.setdefault(column_rank, tuple(_plain(v) for v in record[n_rows:n_dims]))
        kept.append((record, total_row, total_column))

    row_index = {rank: i for i, rank in enumerate(sorted(row_headers))}
    column_index = {rank: j for j, rank in enumerate(sorted(column_headers))}
    total_row_at, total_column_at = len(row_index), len(column_index)
    cells: list[Cell] = []
    for record, total_row, total_column in kept:
        values = [_plain(v) for v in record[:n_dims]]
        pairs, totals = [], []
        for i, name in enumerate(spec.dimensions):
            if (total_row and i < n_rows) or (total_column and i >= n_rows):
                totals.append(name)
            else:
                pairs.append((name, values[i]))
        with_date = granularity if date_at >= 0 and spec.dimensions[date_at] not in totals else None
        tail = _key_tail(pairs, totals, with_date)
        row = (None,) * n_rows if total_row else tuple(values[:n_rows])
        column = (None,) * (n_dims - n_rows) if total_column else tuple(values[n_rows:])
        i = total_row_at if total_row else row_index[record[-2]]
        j = total_column_at if total_column else column_index[record[-1]]
        for k in range(n_measures):
            cells.append(
                Cell(
                    key='{"m":' + _dump(labels[k]) + tail,
                    measure=labels[k],
                    row=row,
                    column=column,
                    value=_plain(record[n_dims + 2 + k]),
                    is_total_row=total_row,
                    is_total_column=total_column,
                    row_index=i,
                    column_index=j,
                )
            )
    measure_index = {label: k for k, label in enumerate(labels)}
    cells.sort(key=lambda c: (c.row_index, c.column_index, measure_index[c.measure]))
    return VisualResult(
        type=spec.type,
        row_fields=spec.rows,
        column_fields=spec.columns,
        measures=labels,
        rows=tuple(row_headers[rank] for rank in sorted(row_headers)),
        columns=tuple(column_headers[rank] for rank in sorted(column_headers)) if spec.columns else ((),),
        cells=tuple(cells),
        has_total_row=any(c.is_total_row for c in cells),
        has_total_column=any(c.is_total_column for c in cells),
        truncated=truncated,
        columns_truncated=columns_truncated,
        date_field=spec.date.field if spec.date else None,
        granularity=granularity,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(result: VisualResult, *, keys: bool = True) -> dict[str, Any]:
    """A compact JSON-able form for the API.

    `grid` is row-major: grid[i][j * len(measures) + k] is the value of row i, column j, measure k, with the total
    row (if any) after the rows and the total column (if any) after the columns; a table has the one column [].
    `cells` lists [i, j, k, key] for every cell that exists (a missing combination is null in the grid and absent
    here)."""
    n_measures = len(result.measures)
    height = len(result.rows) + result.has_total_row
    width = (len(result.columns) + result.has_total_column) * n_measures
    grid: list[list[Any]] = [[None] * width for _ in range(height)]
    measure_index = {label: k for k, label in enumerate(result.measures)}
    cells = []
    for cell in result.cells:
        k = measure_index[cell.measure]
        grid[cell.row_index][cell.column_index * n_measures + k] = _json_value(cell.value)
        if keys:
            cells.append([cell.row_index, cell.column_index, k, cell.key])
    out: dict[str, Any] = {
        "type": result.type,
        "row_fields": list(result.row_fields),
        "column_fields": list(result.column_fields),
        "measures": list(result.measures),
        "rows": [[_json_value(v) for v in row] for row in result.rows],
        "columns": [[_json_value(v) for v in column] for column in result.columns],
        "total_row": result.has_total_row,
        "total_column": result.has_total_column,
        "grid": grid,
        "truncated": result.truncated,
        "columns_truncated": result.columns_truncated,
    }
    if result.date_field:
        out["date"] = {"field": result.date_field, "granularity": result.granularity}
    if keys:
        out["cells"] = cells
    return out


# ---------------------------------------------------------------------------------------------------------------
# Engines

_DUCKDB_CONFIG = {
    "autoinstall_known_extensions": False,  # never reach for the network; icu and parquet are built in
    "autoload_known_extensions": False,
}
_duckdb_lock = threading.Lock()
_duckdb_database: tuple[int, duckdb.DuckDBPyConnection] | None = None


def _duckdb_connection() -> duckdb.DuckDBPyConnection:
    """A new connection (a cursor) to this process's in-memory DuckDB database, created on first use.

    Opening a database costs ~15 ms and starts its thread pool cold; a cursor costs almost nothing and is safe to use
    from its own thread. The database holds no tables, only the buffers of running queries. A forked child (a Celery
    or gunicorn worker) opens its own."""
    global _duckdb_database
    with _duckdb_lock:
        if _duckdb_database is None or _duckdb_database[0] != os.getpid():
            _duckdb_database = (os.getpid(), duckdb.connect(":memory:", config=_DUCKDB_CONFIG))
        connection = _duckdb_database[1].cursor()
    # timestamptz values come back in UTC, and plain timestamps compared with them are read as UTC
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def evaluate_parquet(
    spec: VisualSpec,
    path: str | os.PathLike[str],
    *,
    row_filters: Iterable[tuple[str, Sequence[Any]]] = (),
    hidden_columns: Iterable[str] = frozenset(),
    max_rows: int | None = None,
    timeout_ms: int | None = None,
) -> VisualResult:
    """Evaluate `spec` with DuckDB over a Parquet snapshot. Thread-safe: each call has its own connection.

    `max_rows` lowers the spec's limit; `timeout_ms` interrupts the query (EvaluationError, status 504)."""
    row_limit = min(max_rows or spec.limit, spec.limit)
    query = build_sql(
        spec,
        dialect="duckdb",
        relation="read_parquet(?)",
        relation_params=(os.fspath(path),),
        row_filters=row_filters,
        hidden_columns=hidden_columns,
        limit=row_limit,
    )
    connection = _duckdb_connection()
    timer = threading.Timer(timeout_ms / 1000, connection.interrupt) if timeout_ms else None
    try:
        if timer:
            timer.start()
        records = connection.execute(query.sql, query.params).fetchall()
    except duckdb.InterruptException as error:
        raise EvaluationError(f"the visual took longer than {timeout_ms} ms", status_code=504) from error
    except duckdb.IOException as error:
        raise EvaluationError("the dataset snapshot cannot be read") from error
    except duckdb.Error as error:
        raise EvaluationError(f"the dataset does not match its catalogued columns ({type(error).__name__})") from error
    finally:
        if timer:
            timer.cancel()
        connection.close()
    return _decode(spec, records, limit=row_limit, max_columns=MAX_PIVOT_COLUMNS)


def evaluate_postgresql(
    spec: VisualSpec,
    conn: psycopg.Connection[Any],
    relation_sql: str,
    *,
    statement_timeout_ms: int,
    max_rows: int | None = None,
    row_filters: Iterable[tuple[str, Sequence[Any]]] = (),
    hidden_columns: Iterable[str] = frozenset(),
) -> VisualResult:
    """Push `spec` down to PostgreSQL over `relation_sql` (a quoted table name or a parenthesised query, trusted, with
    no placeholders; a literal % in it is fine).

    Runs in a read-only transaction (a savepoint if `conn` is already in one) with the caller's statement timeout and
    TimeZone UTC; both settings are put back afterwards. `max_rows` lowers the spec's limit."""
    row_limit = min(max_rows or spec.limit, spec.limit)
    query = build_sql(
        spec,
        dialect="postgresql",
        relation=relation_sql.replace("%", "%%"),
        row_filters=row_filters,
        hidden_columns=hidden_columns,
        limit=row_limit,
    )
    try:
        with conn.transaction(), conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute("SELECT current_setting('statement_timeout'), current_setting('TimeZone')")
            previous = cursor.fetchone() or ("0", "UTC")
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('TimeZone', 'UTC', true), "
                "set_config('transaction_read_only', 'on', true)",
                [str(int(statement_timeout_ms))],
            )
            cursor.execute(query.sql, query.params)
            records = cursor.fetchall()
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('TimeZone', %s, true)", previous
            )
    except psycopg.errors.QueryCanceled as error:
        raise EvaluationError(f"the visual took longer than {statement_timeout_ms} ms", status_code=504) from error
    except psycopg.Error as error:
        raise EvaluationError(
            f"the source does not match the dataset's catalogued columns ({type(error).__name__})"
        ) from error
    return _decode(spec, records, limit=row_limit, max_columns=MAX_PIVOT_COLUMNS)
