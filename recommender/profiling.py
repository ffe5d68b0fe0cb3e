"""Column profiles of a table sample: the cheap, stored description the recommender matches on.

Pure computation (pandas, numpy, datasketch); nothing here touches the database. A profile holds,
per column, the inferred type, null share, distinct count, uniqueness (key-likeness), a MinHash
signature of the distinct values and a few example values, plus value-length and numeric-range
features that separate real keys from columns that merely overlap.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from datasketch import MinHash

NUM_PERM = 128
MINHASH_SCHEME = "affine32"  # datasketch permutation scheme; sketches of different schemes never compare
EXAMPLES = 5
DATA_TYPES = ("integer", "float", "string", "date", "datetime", "boolean")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_BOOL_VALUES = frozenset({"true", "false"})


@dataclass(frozen=True)
class ColumnProfile:
    """What the recommender knows about one column of a sample."""

    name: str
    data_type: str  # "integer" | "float" | "string" | "date" | "datetime" | "boolean"
    rows: int  # rows in the sample
    null_share: float  # 0..1
    distinct: int  # distinct non-null values in the sample
    uniqueness: float  # distinct / non-null rows (key-likeness, 0..1)
    minhash: tuple[int, ...]  # MinHash(num_perm=128) hash values of the distinct values as strings
    examples: tuple[str, ...]  # up to 5 example values as strings
    mean_length: float = 0.0  # mean length of the distinct values as strings
    min_value: float | None = None  # numeric columns: smallest value
    max_value: float | None = None  # numeric columns: largest value
    words: float = 0.0  # mean number of whitespace-separated words (free text has many)


@dataclass(frozen=True)
class TableProfile:
    """The profiles of all columns of one table sample, in column order."""

    rows: int
    columns: tuple[ColumnProfile, ...]

    def column(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def table_sample(frame: pd.DataFrame, *, rows: int, seed: int = 0) -> pd.DataFrame:
    """A random sample of at most ``rows`` rows (never the first rows: files are often key-sorted)."""
    if rows <= 0:
        raise ValueError("rows must be positive")
    if len(frame) <= rows:
        return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame.sample(n=rows, random_state=seed).reset_index(drop=True)


def _canonical(value: object) -> str:
    """One string form per value, so 42, 42.0 and "42" compare equal across tables."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        if math.isfinite(value) and float(value).is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.strftime("%Y-%m-%d")
        return value.isoformat()
    text = str(value).strip()
    return text


def column_values(series: pd.Series) -> list[str]:
    """The non-null values of a column as canonical strings (one per row, duplicates kept)."""
    values = series.dropna()
    if values.empty:
        return []
    kind = values.dtype.kind
    if kind in "iu":
        return values.astype("int64").astype(str).tolist()
    if kind == "b":
        return np.where(values.to_numpy(dtype=bool), "true", "false").tolist()
    if kind == "f":
        numbers = values.to_numpy(dtype="float64")
        numbers = numbers[np.isfinite(numbers)]
        if len(numbers) and np.all(np.mod(numbers, 1.0) == 0.0) and np.abs(numbers).max() < 2**53:
            return numbers.astype("int64").astype(str).tolist()
        return numbers.astype(str).tolist()
    if kind == "M":
        stamps = pd.DatetimeIndex(values)
        if stamps.tz is None and bool((stamps == stamps.normalize()).all()):
            return stamps.strftime("%Y-%m-%d").tolist()
        return [v.isoformat() for v in stamps]
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        out = values.to_numpy(dtype=object)
        return out[out != ""].tolist()
    out = [_canonical(v) for v in values.tolist()]
    return [v for v in out if v != ""]


def value_set(series: pd.Series) -> set[str]:
    """Distinct non-null values of a column as canonical strings."""
    return set(column_values(series))


def _infer_type(series: pd.Series, distinct: list[str]) -> str:
    kind = series.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer"
    if kind == "f":
        values = series.dropna()
        if len(values) and bool(np.all(np.mod(values.to_numpy(dtype="float64"), 1.0) == 0.0)):
            return "integer"
        return "float"
    if kind == "M":
        values = series.dropna()
        if len(values) and bool((values == values.dt.normalize()).all()):
            return "date"
        return "datetime"
    probe = distinct[:200]
    if not probe:
        return "string"
    if all(v.lower() in _BOOL_VALUES for v in probe):
        return "boolean"
    if all(_INT_RE.match(v) for v in probe):
        return "integer"
    if all(_FLOAT_RE.match(v) for v in probe):
        return "float"
    if all(_DATE_RE.match(v) for v in probe):
        return "date"
    if all(_DATETIME_RE.match(v) for v in probe):
        return "datetime"
    return "string"


def _identity(value: int) -> int:
    return value


def value_hashes(values: set[str] | list[str]) -> np.ndarray:
    """32-bit hashes of strings, vectorised (pandas' SipHash with its fixed key, so stable across runs)."""
    if not values:
        return np.zeros(0, dtype=np.uint32)
    hashed = pd.util.hash_array(np.asarray(list(values), dtype=object))
    return (hashed & np.uint64(0xFFFFFFFF)).astype(np.uint32)


@functools.cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutations for ``num_perm`` (the same for every sketch: seed 1), made once."""
    return MinHash(num_perm=num_perm, scheme=MINHASH_SCHEME).permutations


def minhash_of(values: set[str] | list[str], *, num_perm: int = NUM_PERM) -> MinHash:
    """A datasketch MinHash of a set of strings.

    The strings are hashed with ``value_hashes`` (vectorised) instead of datasketch's per-value SHA-1; every
    sketch in the recommender is made here, so they all compare.
    """
    sketch = MinHash(num_perm=num_perm, scheme=MINHASH_SCHEME, hashfunc=_identity, permutations=_permutations(num_perm))
    if values:
        sketch.update_batch(value_hashes(values).tolist())
    return sketch


def profile_column(name: str, series: pd.Series) -> ColumnProfile:
    """Profile one column (see ``ColumnProfile``)."""
    rows = len(series)
    values = column_values(series)
    non_null = len(values)
    distinct_values = sorted(set(values))
    distinct = len(distinct_values)
    data_type = _infer_type(series, distinct_values)
    minhash = tuple(int(h) for h in minhash_of(distinct_values).hashvalues) if distinct else ()
    examples = tuple(distinct_values[:: max(1, distinct // EXAMPLES)][:EXAMPLES]) if distinct else ()
    mean_length = float(np.mean([len(v) for v in distinct_values])) if distinct else 0.0
    words = float(np.mean([len(v.split()) for v in distinct_values[:500]])) if distinct else 0.0
    min_value = max_value = None
    if data_type in ("integer", "float") and distinct:
        raw = series if series.dtype.kind in "iuf" else pd.Series(distinct_values)
        numbers = pd.to_numeric(raw, errors="coerce").dropna()
        if len(numbers):
            min_value, max_value = float(numbers.min()), float(numbers.max())
    return ColumnProfile(
        name=str(name),
        data_type=data_type,
        rows=rows,
        null_share=(rows - non_null) / rows if rows else 0.0,
        distinct=distinct,
        uniqueness=distinct / non_null if non_null else 0.0,
        minhash=minhash,
        examples=examples,
        mean_length=mean_length,
        min_value=min_value,
        max_value=max_value,
        words=words,
    )


def profile_table(frame: pd.DataFrame) -> TableProfile:
    """Profile every column of a table (normally a ``table_sample``)."""
    return TableProfile(
        rows=len(frame),
        columns=tuple(profile_column(str(name), frame[name]) for name in frame.columns),
    )


def profile_to_dict(profile: TableProfile) -> dict:
    """A JSON-safe form of a profile (MinHash values are 32-bit integers, so JSON keeps them)."""
    return {"rows": profile.rows, "columns": [asdict(column) for column in profile.columns]}


def profile_from_dict(data: dict) -> TableProfile:
    """The inverse of ``profile_to_dict``; unknown keys are ignored, missing optional keys default."""
    known = set(ColumnProfile.__dataclass_fields__)
    columns = []
    for raw in data.get("columns", []):
        values = {k: v for k, v in raw.items() if k in known}
        values["minhash"] = tuple(int(h) for h in values.get("minhash", ()))
        values["examples"] = tuple(str(e) for e in values.get("examples", ()))
        columns.append(ColumnProfile(**values))
    return TableProfile(rows=int(data.get("rows", 0)), columns=tuple(columns))


__all__ = [
    "ColumnProfile",
    "TableProfile",
    "column_values",
    "minhash_of",
    "profile_column",
    "profile_from_dict",
    "profile_table",
    "profile_to_dict",
    "table_sample",
    "value_set",
]
