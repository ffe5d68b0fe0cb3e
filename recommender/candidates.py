"""Cheap candidate pruning before the expensive column matching.

Matching every pair of data products with Valentine is quadratic and slow, so a new product is first
compared with sketches only:

* a datasketch ``MinHashLSHEnsemble`` over the value sets of key-like columns (high uniqueness) finds
  tables whose keys contain the values of one of the query's columns (the query holds a foreign key);
* a vectorised MinHash scan over all join-candidate columns finds the reverse (another table holds a
  foreign key into one of the query's key-like columns);
* column-name similarity (table prefixes stripped) with compatible types adds renamed-key evidence.

LSH Ensemble indexes are static, so additions are kept in a small pending buffer that is scanned
exactly and merged into the ensemble when it grows; removals are filtered out until the next rebuild.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSHEnsemble

from .matching import name_similarity, name_stem, table_prefix
from .profiling import MINHASH_SCHEME, ColumnProfile, TableProfile

KEY_UNIQUENESS = 0.8  # a column at least this unique may be a referenced key
_SEP = "\x1f"
_PENDING_LIMIT = 64
_CERTAIN_OVERLAP = 200


@dataclass(frozen=True)
class _Column:
    table: str
    profile: ColumnProfile


def _joinable(column: ColumnProfile) -> bool:
    """Columns that can take part in an equi-join: not empty, constant, float, boolean or free text."""
    return (
        bool(column.minhash)
        and column.distinct >= 2
        and column.data_type not in ("float", "boolean")
        and column.words <= 3
    )


def _key_like(column: ColumnProfile) -> bool:
    return _joinable(column) and column.uniqueness >= KEY_UNIQUENESS


def _specificity(column: ColumnProfile) -> float:
    if column.data_type == "string" and column.mean_length >= 8 and column.words <= 1.5:
        return 40.0
    if column.data_type == "string" and column.mean_length >= 4 and column.words <= 1.5:
        return 10.0
    return 1.0


def _evidence(containment: float, overlap: float, key: ColumnProfile, fk: ColumnProfile, name_sim: float) -> float:
    """The same shape as the matcher's value evidence, on sketch estimates."""
    if containment <= 0 or overlap <= 0:
        return 0.0
    specificity = min(_specificity(key), _specificity(fk))
    effective = overlap * specificity
    if specificity > 1.0:  # identifier-like values do not collide by chance (see matching._pair_evidence)
        containment = max(containment, 0.9 * min(1.0, effective / _CERTAIN_OVERLAP))
    cardinality = min(1.0, math.log1p(effective) / math.log1p(_CERTAIN_OVERLAP)) ** 0.5
    span = 1.0
    if None not in (key.min_value, key.max_value, fk.min_value, fk.max_value) and key.max_value > key.min_value:
        coverage = max(0.0, min(fk.max_value, key.max_value) - max(fk.min_value, key.min_value))
        span = 0.2 + 0.8 * min(1.0, coverage / (key.max_value - key.min_value))
    value = min(1.0, containment) ** 2 * key.uniqueness * cardinality * span
    if fk.uniqueness > 0.95 and fk.distinct > 20:
        value *= 0.5  # 1:1 between two unique columns: usually unrelated counters (see matching)
    return value * (0.6 + 0.4 * name_sim)


class CandidateIndex:
    """Cheap pruning: datasketch MinHash LSH Ensemble over key-like columns' value sets plus name/type signals."""

    def __init__(self, *, threshold: float = 0.5, num_perm: int = 128) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.num_perm = num_perm
        self._profiles: dict[str, TableProfile] = {}
        self._prefixes: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._ensemble: MinHashLSHEnsemble | None = None
        self._ensemble_keys: set[str] = set()
        self._pending: set[str] = set()
        # Signatures of all joinable columns, for the vectorised reverse scan.
        self._columns: list[_Column] = []
        self._signatures = np.zeros((0, num_perm), dtype=np.uint64)
        self._alive = np.zeros(0, dtype=bool)
        self._by_table: dict[str, list[int]] = defaultdict(list)
        self._row_of: dict[str, int] = {}
        self._by_stem: dict[str, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, key: str) -> bool:
        return key in self._profiles

    def profile(self, key: str) -> TableProfile:
        return self._profiles[key]

    def keys(self) -> list[str]:
        return list(self._profiles)

    # -- maintenance ------------------------------------------------------------------------

    def add(self, key: str, profile: TableProfile, *, name: str = "") -> None:
        """Add (or replace) a table's profile; ``name`` (the table's name) lets a bare ``id`` read as ``<name> id``."""
        if key in self._profiles:
            self.remove(key)
        self._profiles[key] = profile
        self._prefixes[key] = table_prefix([c.name for c in profile.columns])
        self._names[key] = name
        rows = []
        for column in profile.columns:
            if _joinable(column) and len(column.minhash) == self.num_perm:
                row = len(self._columns)
                self._by_table[key].append(row)
                self._row_of[f"{key}{_SEP}{column.name}"] = row
                stem = name_stem(column.name, self._prefixes[key], name)
                if stem:
                    self._by_stem[stem[:4]].append(row)
                self._columns.append(_Column(key, column))
                rows.append(np.asarray(column.minhash, dtype=np.uint64))
        if rows:
            self._signatures = np.vstack([self._signatures, np.vstack(rows)])
            self._alive = np.concatenate([self._alive, np.ones(len(rows), dtype=bool)])
        self._pending.add(key)  # merged into the ensemble by build(), or by the next query once there are many

    def remove(self, key: str) -> None:
        """Forget a table (no error if it is unknown)."""
        if key not in self._profiles:
            return
        del self._profiles[key]
        self._prefixes.pop(key, None)
        self._names.pop(key, None)
        for i in self._by_table.pop(key, []):
            self._alive[i] = False
            self._row_of.pop(f"{key}{_SEP}{self._columns[i].profile.name}", None)
        self._pending.discard(key)
        self._ensemble_keys.discard(key)

    def build(self) -> None:
        """(Re)build the LSH Ensemble over the key-like columns of all tables; compacts removals."""
        keep = np.flatnonzero(self._alive)
        self._columns = [self._columns[i] for i in keep]
        self._signatures = self._signatures[keep]
        self._alive = np.ones(len(self._columns), dtype=bool)
        self._by_table = defaultdict(list)
        self._row_of = {}
        self._by_stem = defaultdict(list)
        for i, column in enumerate(self._columns):
            self._by_table[column.table].append(i)
            self._row_of[f"{column.table}{_SEP}{column.profile.name}"] = i
            stem = name_stem(
                column.profile.name, self._prefixes.get(column.table, ""), self._names.get(column.table, "")
            )
            if stem:
                self._by_stem[stem[:4]].append(i)
        entries = []
        for i, column in enumerate(self._columns):
            if _key_like(column.profile):
                sketch = MinHash(num_perm=self.num_perm, hashvalues=self._signatures[i], scheme=MINHASH_SCHEME)
                entries.append((f"{column.table}{_SEP}{column.profile.name}", sketch, column.profile.distinct))
        self._ensemble = None
        if entries:
            ensemble = MinHashLSHEnsemble(threshold=self.threshold, num_perm=self.num_perm, num_part=16)
            ensemble.index(entries)
            self._ensemble = ensemble
        self._ensemble_keys = set(self._profiles)
        self._pending.clear()

    # -- query ------------------------------------------------------------------------------

    def _similarity(self, column: str, prefix: str, table: str, other: _Column) -> float:
        return name_similarity(
            column,
            other.profile.name,
            left_prefix=prefix,
            right_prefix=self._prefixes[other.table],
            left_table=table,
            right_table=self._names.get(other.table, ""),
        )

    def _estimates(self, query: np.ndarray, size: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MinHash Jaccard, then |Q ∩ X| estimates, of the query set with the given indexed columns."""
        jaccard = (self._signatures[rows] == query).mean(axis=1)
        sizes = np.array([self._columns[i].profile.distinct for i in rows], dtype=float)
        overlap = jaccard * (size + sizes) / (1.0 + jaccard)
        return jaccard, np.minimum(overlap, np.minimum(size, sizes))

    def query(self, key: str, profile: TableProfile, *, k: int = 20, name: str = "") -> list[tuple[str, float]]:
        """The ``k`` tables most likely to join with ``profile``, best first (never ``key`` itself)."""
        if self._pending and len(self._pending) > _PENDING_LIMIT:
            self.build()
        scores: dict[str, float] = defaultdict(float)
        prefix = table_prefix([c.name for c in profile.columns])
        query_columns = [c for c in profile.columns if _joinable(c) and len(c.minhash) == self.num_perm]

        def consider(table: str, score: float) -> None:
            if table != key and table in self._profiles and score > scores[table]:
                scores[table] = score

        # 1. The query holds a foreign key into an indexed key (LSH Ensemble over key-like columns).
        lsh_hits: dict[str, set[str]] = defaultdict(set)
        if self._ensemble is not None:
            for column in query_columns:
                sketch = MinHash(
                    num_perm=self.num_perm,
                    hashvalues=np.asarray(column.minhash, dtype=np.uint64),
                    scheme=MINHASH_SCHEME,
                )
                for hit in self._ensemble.query(sketch, column.distinct):
                    table, name = hit.split(_SEP, 1)
                    if table in self._ensemble_keys:
                        lsh_hits[column.name].add(f"{table}{_SEP}{name}")
        # Tables added since the last build are scanned exactly on their sketches.
        pending_rows = np.array(
            [i for t in self._pending if t != key for i in self._by_table.get(t, []) if self._alive[i]], dtype=int
        )
        alive_rows = np.flatnonzero(self._alive)

        for column in query_columns:
            signature = np.asarray(column.minhash, dtype=np.uint64)
            # a) query column -> key-like column elsewhere
            hits = {self._row_of[hit] for hit in lsh_hits.get(column.name, ()) if hit in self._row_of}
            rows = np.array(sorted(hits | set(pending_rows.tolist())), dtype=int)
            if len(rows):
                _, overlap = self._estimates(signature, column.distinct, rows)
                for i, inter in zip(rows, overlap, strict=True):
                    other = self._columns[i]
                    if not _key_like(other.profile):
                        continue
                    sim = self._similarity(column.name, prefix, name, other)
                    consider(other.table, _evidence(inter / column.distinct, inter, other.profile, column, sim))
            # b) another table's column -> this key-like query column (vectorised scan)
            if _key_like(column) and len(alive_rows):
                jaccard, overlap = self._estimates(signature, column.distinct, alive_rows)
                for position in np.flatnonzero(jaccard > 0):
                    other = self._columns[alive_rows[position]]
                    if other.table == key:
                        continue
                    inter = overlap[position]
                    sim = self._similarity(column.name, prefix, name, other)
                    consider(other.table, _evidence(inter / other.profile.distinct, inter, column, other.profile, sim))

        # 2. Name and type signals: a renamed or sampled key that the sketches miss.
        for column in query_columns:
            stem = name_stem(column.name, prefix, name)
            for row in self._by_stem.get(stem[:4], ()) if stem else ():
                other = self._columns[row]
                if not self._alive[row] or other.table == key:
                    continue
                sim = self._similarity(column.name, prefix, name, other)
                if sim < 0.85:
                    continue
                if (column.data_type == "string") != (other.profile.data_type == "string"):
                    continue
                if _key_like(column) or _key_like(other.profile):
                    consider(other.table, 0.25 * sim)

        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [(table, round(float(score), 6)) for table, score in ranked[:k] if score > 0]
