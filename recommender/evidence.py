"""Product-level scoring on top of the matching engine: which column pairs are join keys, how many of the
candidate's rows join, how the plain and the enriched view compare, and what enrichment added.

Pure: data frames and the engine's `TableMatch` in, plain dicts out (JSON-safe, stored as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .matching import PairEvidence, TableMatch
from .profiling import TableProfile

JOIN_TYPES = frozenset({"string", "integer"})


@dataclass(frozen=True)
class ScoringConfig:
    """When a candidate is recommended: at least `min_coverage` of its rows join the query product through the key
    pairs the engine found, and the engine's overall score is at least `min_score`.

    A key pair joins text or integer columns (dates or amounts that happen to overlap are not ways to join), has a
    pair score of at least `min_pair_score`, and one side is key-like: unique and rarely empty
    (`min_key_likeness`), judged on the plain data (an enriched view repeats rows, so its own uniqueness is lower).
    The engine's score rests on the share of distinct values found, so a candidate whose few known keys all match
    scores high; the row share is what tells "most of its rows join" from "some of its rows join".
    """

    min_coverage: float = 0.65
    min_score: float = 0.3
    min_pair_score: float = 0.05
    min_key_likeness: float = 0.8
    examples: int = 5


@dataclass
class Outcome:
    """One (P, Q, view) result, ready to store."""

    view: str
    score: float
    coverage: float
    recommended: bool
    rows_matched: int
    pairs: list[dict[str, Any]]
    components: dict[str, float]
    evidence: dict[str, Any] = field(default_factory=dict)


def text_values(series: pd.Series) -> pd.Series:
    """Values as stripped text (integral floats without `.0`), nulls kept as <NA>: how keys are compared."""
    if pd.api.types.is_float_dtype(series):
        finite = series.dropna()
        if len(finite) and np.isfinite(finite).all() and (finite == finite.round()).all():
            series = series.astype("Int64")
    return series.astype("string").str.strip()


def _column(profile: TableProfile | None, name: str):
    if profile is None:
        return None
    try:
        return profile.column(name)
    except KeyError:
        return None


def _key_likeness(column) -> float:
    return float(column.uniqueness) * (1.0 - float(column.null_share)) if column is not None else 0.0


def join_pairs(
    match: TableMatch,
    *,
    left_profile: TableProfile | None,
    right_profile: TableProfile | None,
    config: ScoringConfig = ScoringConfig(),
) -> list[PairEvidence]:
    """The pairs that read as join keys (see `ScoringConfig`); `left_profile` is the plain query product's."""
    out = []
    for pair in match.pairs:
        left, right = _column(left_profile, pair.left), _column(right_profile, pair.right)
        types = {c.data_type for c in (left, right) if c is not None}
        if not types or not types <= JOIN_TYPES:
            continue
        key_likeness = max(_key_likeness(left), _key_likeness(right))
        if pair.score < config.min_pair_score or key_likeness < config.min_key_likeness:
            continue
        if pair.right_rows_matched <= 0:
            continue
        out.append(pair)
    return out


def rows_matched(left: pd.DataFrame, right: pd.DataFrame, pairs: Sequence[PairEvidence]) -> np.ndarray:
    """For each row of `right`, whether its value in any pair's right column is a value of the pair's left column."""
    matched = np.zeros(len(right), dtype=bool)
    for pair in pairs:
        if pair.left not in left.columns or pair.right not in right.columns:
            continue
        known = set(text_values(left[pair.left]).dropna().tolist())
        values = text_values(right[pair.right])
        matched |= values.isin(known).fillna(False).to_numpy(dtype=bool)
    return matched


def _pair_dict(pair: PairEvidence, *, join: bool) -> dict[str, Any]:
    return {
        "left": pair.left,
        "right": pair.right,
        "score": round(float(pair.score), 4),
        "coma": round(float(pair.coma), 4),
        "left_in_right": round(float(pair.left_in_right), 4),
        "right_in_left": round(float(pair.right_in_left), 4),
        "right_rows_matched": int(pair.right_rows_matched),
        "key_likeness": round(float(pair.key_likeness), 4),
        "name_similarity": round(float(pair.name_similarity), 4),
        "examples": [str(v) for v in pair.examples][:5],
        "join": join,
    }


def outcome(
    *,
    view: str,
    match: TableMatch,
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_profile: TableProfile | None,
    right_profile: TableProfile | None,
    config: ScoringConfig = ScoringConfig(),
    extra_keys: Sequence[PairEvidence] = (),
    strength_floor: float = 0.0,
    allow_asset_side: bool = True,
) -> tuple[Outcome, np.ndarray, list[PairEvidence]]:
    """Scores one view of P against Q; also returns which rows of Q join and through which pairs.

    The product-level score is the engine's joinability (`strength`) times the share of Q's rows that join
    (`coverage`). `extra_keys` and `strength_floor` carry what the plain view found into the enriched one: the
    enriched view holds every plain row, so its plain keys still join (its repeated rows only lower the engine's
    key-likeness on it)."""
    keys = join_pairs(match, left_profile=left_profile, right_profile=right_profile, config=config)
    seen = {(p.left, p.right) for p in keys}
    keys += [p for p in extra_keys if (p.left, p.right) not in seen]
    # Coverage counts the rows of the referencing side: the candidate's rows when the product holds the key (claims
    # that find their customer), the product's rows when the candidate does (a lookup). The enriched view only ever
    # adds keys, so it counts the candidate's rows.
    of = "asset" if allow_asset_side and keys and keys[0].key_side == "right" else "candidate"
    if of == "asset":
        swapped = [PairEvidence(**{**p.__dict__, "left": p.right, "right": p.left}) for p in keys]
        mask = rows_matched(right, left, swapped)
    else:
        mask = rows_matched(left, right, keys)
    coverage = float(mask.mean()) if len(mask) else 0.0
    strength = float(min(max(match.score, strength_floor, 0.0), 1.0))
    key_set = {(p.left, p.right) for p in keys}
    found = {(p.left, p.right) for p in match.pairs}
    listed = [*match.pairs, *(p for p in keys if (p.left, p.right) not in found)]
    result = Outcome(
        view=view,
        score=round(strength * coverage, 4),
        coverage=round(coverage, 4),
        recommended=bool(keys) and coverage >= config.min_coverage and strength >= config.min_score,
        rows_matched=int(mask.sum()),
        pairs=[_pair_dict(p, join=(p.left, p.right) in key_set) for p in listed],
        components={
            **{k: round(float(v), 4) for k, v in match.components.items()},
            "strength": round(strength, 4),
            "coverage": round(coverage, 4),
        },
        evidence={
            "rows": len(mask),
            "rows_matched": int(mask.sum()),
            "coverage": round(coverage, 4),
            "coverage_of": of,
        },
    )
    return result, mask, keys


def enrichment_gain(
    *,
    plain_left: pd.DataFrame,
    enriched_left: pd.DataFrame,
    right: pd.DataFrame,
    pairs: Sequence[PairEvidence],
    examples: int = 5,
) -> dict[str, Any]:
    """How many more rows of Q join through `pairs` on the enriched view than on the plain one, with examples of
    those rows (Q's join columns, and its first column to name the row)."""
    before = rows_matched(plain_left, right, pairs)
    after = rows_matched(enriched_left, right, pairs)
    gained = after & ~before
    columns = list(dict.fromkeys([right.columns[0], *(p.right for p in pairs)])) if len(right.columns) else []
    rows = right.loc[gained, columns].head(examples) if columns else right.iloc[0:0]
    return {
        "rows_matched_plain": int(before.sum()),
        "rows_matched_enriched": int(after.sum()),
        "rows_gained": int(gained.sum()),
        "example_columns": columns,
        "examples": [[None if pd.isna(v) else str(v) for v in row] for row in rows.itertuples(index=False)],
    }


def best_view(outcomes: Sequence[Outcome]) -> Outcome:
    """The view a candidate is shown from: a recommended one before one that is not, then the higher score; the
    plain view wins ties (it needs no relationship to explain)."""
    order = {"plain": 0, "enriched": 1}
    return sorted(outcomes, key=lambda o: (not o.recommended, -o.score, order.get(o.view, 2)))[0]
