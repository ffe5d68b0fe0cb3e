"""Joinability of two tables: Valentine's column matching combined with value and key evidence.

Valentine (COMA with instances by default) proposes similar column pairs, but on its own it rewards
same-named columns that do not join (``year``/``year``, ``comment``/``comment``, ``id``/``id``) and
misses renamed keys. The score here therefore rests on the values: the share of the foreign-key side's
distinct values found in a key-like referenced side, weighted by how much a match of that many values
means (a few small integers overlap everywhere; a few UUIDs never do), with name similarity
(after stripping table prefixes such as ``o_``/``c_``) and Valentine's similarity as supporting
evidence. Every part is returned so users can see why a table was recommended.

Pure computation: pandas, valentine, rapidfuzz; no Django models.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import nltk
import pandas as pd
from rapidfuzz import fuzz

from .profiling import ColumnProfile, TableProfile, column_values, profile_table

NLTK_DATA = Path(__file__).resolve().parent / "nltk_data"

MATCHERS = ("coma_instances", "coma_schema", "jaccard", "distribution", "cupid", "similarity_flooding", "none")
SHUFFLE_SEED = 0

# How many overlapping values make a match "certain" for short codes and small integers, and how
# much more a long identifier-like string value (UUIDs, SKUs, e-mails) is worth than such a value.
_CERTAIN_OVERLAP = 200
_IDENTIFIER_WEIGHT = 40.0
_COMPOSITE_CANDIDATES = (
    6  # contained column pairs (by name, then value evidence) combined two by two into candidate composite keys
)
_MIN_KEY_UNIQUENESS = 0.05  # below this on both sides, a pair's value evidence is negligible
NAME_WEIGHT = 0.25  # share of a pair's score that name similarity can add to the value evidence
VALENTINE_WEIGHT = 0.15  # share that valentine's similarity can add
_VALENTINE_PAIRS = 5  # column pairs whose columns valentine compares
_WEAK_TYPE_FACTOR = {"float": 0.2, "date": 0.25, "datetime": 0.25, "boolean": 0.05}


def register_nltk_data() -> None:
    """Make the stop-word list shipped with this app visible to NLTK (nothing is downloaded)."""
    path = str(NLTK_DATA)
    if path not in nltk.data.path:
        nltk.data.path.insert(0, path)


register_nltk_data()


@dataclass(frozen=True)
class MatcherConfig:
    """How two tables are matched."""

    matcher: str = "coma_instances"  # valentine matcher name (see MATCHERS); "none" skips valentine
    threshold: float = 0.5  # minimum overall score to recommend
    max_pairs: int = 5  # column pairs kept per table pair
    instance_rows: int = 1000  # rows handed to valentine (shuffled with a fixed seed)

    def __post_init__(self) -> None:
        if self.matcher not in MATCHERS:
            raise ValueError(f"unknown matcher {self.matcher!r}; use one of {', '.join(MATCHERS)}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        if self.max_pairs < 1:
            raise ValueError("max_pairs must be at least 1")
        if self.instance_rows < 1:
            raise ValueError("instance_rows must be at least 1")


DEFAULT_CONFIG = MatcherConfig()


@dataclass(frozen=True)
class PairEvidence:
    """Why one column pair looks joinable."""

    left: str  # column of the left (query) table
    right: str  # column of the right (candidate) table
    score: float  # combined joinability of this column pair, 0..1
    coma: float  # valentine's similarity for the pair (0 when valentine did not propose it)
    left_in_right: float  # share of left's distinct non-null values found in right
    right_in_left: float  # share of right's distinct non-null values found in left
    right_rows_matched: int  # rows of the right table whose value appears in left
    key_likeness: float  # uniqueness of the referenced (key) side
    name_similarity: float  # 0..1
    examples: tuple[str, ...]  # up to 5 overlapping values
    key_side: str = ""  # "right" when the right column is the referenced key, else "left"
    value_evidence: float = 0.0  # containment x key-likeness x specificity, before names/valentine


@dataclass(frozen=True)
class TableMatch:
    """How well a candidate table joins with the query table."""

    score: float  # overall joinability 0..1 (the ranking score)
    pairs: tuple[PairEvidence, ...]  # best first
    components: dict[str, float]  # named parts of the score, shown to users


# ---------------------------------------------------------------------------------------------
# Values


class TableValues:
    """Per-column canonical values of a frame (row values and distinct set), computed on first use."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.columns = [str(name) for name in frame.columns]
        self._rows: dict[str, list[str]] = {}
        self._distinct: dict[str, set[str]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def rows(self, name: str) -> list[str]:
        if name not in self._rows:
            self._rows[name] = column_values(self.frame[name])
        return self._rows[name]

    def distinct(self, name: str) -> set[str]:
        if name not in self._distinct:
            self._distinct[name] = set(self.rows(name))
        return self._distinct[name]


# ---------------------------------------------------------------------------------------------
# Names

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT_RE = re.compile(r"[^a-zA-Z0-9]+")
_KEY_WORDS = frozenset({"id", "key", "code", "no", "num", "nr", "pk", "fk", "uuid", "sk"})


def name_tokens(name: str) -> list[str]:
    """Lower-case word tokens of a column name (camelCase and separators split)."""
    return [t for t in _SPLIT_RE.split(_CAMEL_RE.sub("_", name).lower()) if t]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ses") and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def table_prefix(columns: list[str]) -> str:
    """A short prefix shared by most columns of a table (``o_`` in TPC-H's orders), or ""."""
    firsts = Counter()
    for column in columns:
        tokens = column.lower().split("_", 1)
        if len(tokens) == 2 and 1 <= len(tokens[0]) <= 3 and tokens[1]:
            firsts[tokens[0] + "_"] += 1
    if not firsts:
        return ""
    prefix, count = firsts.most_common(1)[0]
    return prefix if count >= max(2, math.ceil(0.6 * len(columns))) else ""


@functools.lru_cache(maxsize=65536)
def _core(name: str, prefix: str, table: str) -> tuple[str, ...]:
    """Tokens of a column name without the table prefix; a bare ``id`` becomes ``<table> id``."""
    lowered = name.lower()
    if prefix and lowered.startswith(prefix) and len(lowered) > len(prefix):
        name = name[len(prefix) :]
    tokens = [_singular(t) for t in name_tokens(name)]
    if table and (not tokens or all(t in _KEY_WORDS for t in tokens)):
        table_tokens = [_singular(t) for t in name_tokens(table.split("__")[-1].split(".")[-1])]
        tokens = table_tokens + tokens
    return tuple(tokens)


def _stem(tokens: tuple[str, ...]) -> str:
    """Tokens joined, without trailing key words: ``cust key`` -> ``cust``, ``customer id`` -> ``customer``."""
    core = list(tokens)
    while len(core) > 1 and core[-1] in _KEY_WORDS:
        core.pop()
    joined = "".join(core)
    if joined.endswith("key") and len(joined) > 5:
        joined = joined[:-3]
    if joined.endswith("id") and len(joined) > 4:
        joined = joined[:-2]
    return joined


def name_stem(name: str, prefix: str = "", table: str = "") -> str:
    """A column name reduced to its entity: ``o_custkey`` -> ``cust``, ``customer_id`` -> ``customer``.

    Bare key words (``id``, ``key``) have no entity and give "", unless ``table`` names it (``customers``).
    """
    tokens = _core(name, prefix, table)
    if not tokens or all(t in _KEY_WORDS for t in tokens):
        return ""
    return _stem(tokens)


@functools.lru_cache(maxsize=262144)
def name_similarity(
    left: str,
    right: str,
    *,
    left_prefix: str = "",
    right_prefix: str = "",
    left_table: str = "",
    right_table: str = "",
) -> float:
    """Similarity of two column names in 0..1, after table-prefix stripping and key-word removal."""
    a = _core(left, left_prefix, left_table)
    b = _core(right, right_prefix, right_table)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    sa, sb = _stem(a), _stem(b)
    if sa and sa == sb:
        return 0.95
    best = fuzz.ratio("".join(a), "".join(b)) / 100.0
    if sa and sb:
        best = max(best, 0.9 * fuzz.ratio(sa, sb) / 100.0)
        short, long_ = sorted((sa, sb), key=len)
        if len(short) >= 3 and long_.startswith(short):
            best = max(best, 0.85)
    return float(min(1.0, best))


# ---------------------------------------------------------------------------------------------
# Valentine


def _valentine_matcher(name: str):
    from valentine.algorithms import Coma, Cupid, DistributionBased, JaccardDistanceMatcher, SimilarityFlooding

    if name == "coma_instances":
        return Coma(use_instances=True)
    if name == "coma_schema":
        return Coma(use_instances=False)
    if name == "jaccard":
        return JaccardDistanceMatcher()
    if name == "distribution":
        return DistributionBased()
    if name == "cupid":
        return Cupid()
    return SimilarityFlooding()


def valentine_scores(left: pd.DataFrame, right: pd.DataFrame, *, config: MatcherConfig) -> dict[tuple[str, str], float]:
    """Valentine's similarity per (left column, right column) on shuffled samples of both frames."""
    if config.matcher == "none" or left.shape[1] == 0 or right.shape[1] == 0:
        return {}
    register_nltk_data()
    from valentine import valentine_match

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        sample = frame.sample(n=min(len(frame), config.instance_rows), random_state=SHUFFLE_SEED)
        return sample.reset_index(drop=True).rename(columns=str)

    matches = valentine_match(
        [prepare(left), prepare(right)],
        _valentine_matcher(config.matcher),
        df_names=["left", "right"],
        instance_sample_size=None,
    )
    scores: dict[tuple[str, str], float] = {}
    for pair, similarity in matches.items():
        if pair.source_table == "left":
            key = (pair.source_column, pair.target_column)
        else:
            key = (pair.target_column, pair.source_column)
        scores[key] = max(scores.get(key, 0.0), float(similarity))
    return scores


# ---------------------------------------------------------------------------------------------
# Scoring


def _compatible(a: ColumnProfile, b: ColumnProfile) -> bool:
    numeric = {"integer", "float"}
    if a.data_type in numeric and b.data_type in numeric:
        return True
    return a.data_type == b.data_type or {a.data_type, b.data_type} <= {"string", "integer"}


def _specificity(column: ColumnProfile) -> float:
    """How much one shared value of this column means: long identifier-like strings mean a lot."""
    if column.data_type == "string" and column.mean_length >= 8 and column.words <= 1.5:
        return _IDENTIFIER_WEIGHT
    if column.data_type == "string" and column.mean_length >= 4 and column.words <= 1.5:
        return _IDENTIFIER_WEIGHT / 4
    if column.data_type == "integer" and column.max_value is not None and column.max_value >= 10**6:
        return _IDENTIFIER_WEIGHT / 4
    return 1.0


def _cardinality_factor(overlap: int, key: ColumnProfile, fk: ColumnProfile) -> float:
    """Evidence from ``overlap`` shared values: few small integers or short codes mean little."""
    effective = overlap * min(_specificity(key), _specificity(fk))
    return min(1.0, math.log1p(effective) / math.log1p(_CERTAIN_OVERLAP)) ** 0.5


def _range_factor(key: ColumnProfile, fk: ColumnProfile) -> float:
    """A foreign key spreads over its key's range; 1..100 inside 1..1500 is a coincidence of counters."""
    if key.min_value is None or fk.min_value is None or key.max_value is None or fk.max_value is None:
        return 1.0
    key_span = key.max_value - key.min_value
    if key_span <= 0:
        return 1.0
    coverage = max(0.0, min(fk.max_value, key.max_value) - max(fk.min_value, key.min_value)) / key_span
    return 0.2 + 0.8 * min(1.0, coverage)


def _weak(column: ColumnProfile) -> bool:
    """Columns that are almost never join keys: fractional numbers, free text, flags, empty columns."""
    return column.distinct < 2 or column.data_type in ("float", "boolean") or column.words > 3


def _disjoint_ranges(a: ColumnProfile, b: ColumnProfile) -> bool:
    """Numeric columns whose value ranges do not meet share no value (no need to compare them)."""
    if None in (a.min_value, a.max_value, b.min_value, b.max_value):
        return False
    return a.max_value < b.min_value or b.max_value < a.min_value


def _text_factor(column: ColumnProfile) -> float:
    """Free text (comments, descriptions) does not join."""
    if column.words > 3:
        return 0.1
    if column.words > 1.8:
        return 0.4
    return 1.0


def _pair_evidence(
    left_name: str,
    right_name: str,
    lp: ColumnProfile,
    rp: ColumnProfile,
    lv: TableValues,
    rv: TableValues,
    *,
    coma: float,
    name_sim: float,
) -> PairEvidence | None:
    a, b = lv.distinct(left_name), rv.distinct(right_name)
    if not a or not b:
        return None
    common = a & b if len(a) <= len(b) else b & a
    overlap = len(common)
    left_in_right = overlap / len(a)
    right_in_left = overlap / len(b)
    # The referenced (key) side is the more unique one; ties go to the side with more values.
    right_is_key = (rp.uniqueness, rp.distinct) >= (lp.uniqueness, lp.distinct)
    key, fk = (rp, lp) if right_is_key else (lp, rp)
    containment = left_in_right if right_is_key else right_in_left
    key_likeness = key.uniqueness * (1.0 - key.null_share)
    value_evidence = 0.0
    if overlap:
        support = containment
        specificity = min(_specificity(key), _specificity(fk))
        if specificity > 1.0:
            # Identifier-like values (UUIDs, codes) do not collide by chance: sharing enough of them shows a
            # common domain even when containment is partial because a side is only a sample.
            support = max(containment, 0.9 * min(1.0, overlap * specificity / _CERTAIN_OVERLAP))
        value_evidence = (
            support**2
            * key_likeness
            * _cardinality_factor(overlap, key, fk)
            * _range_factor(key, fk)
            * _text_factor(key)
            * _text_factor(fk)
            * min(_WEAK_TYPE_FACTOR.get(key.data_type, 1.0), _WEAK_TYPE_FACTOR.get(fk.data_type, 1.0))
        )
        # A foreign key repeats (many rows per key). Two unique columns (1:1) are usually two unrelated
        # counters (``id``/``id``, ``row_no``/``row_no``), whatever their names say.
        if fk.uniqueness > 0.95 and fk.distinct > 20:
            value_evidence *= 0.5 if name_sim >= 0.8 else 0.6
    score = value_evidence * (1.0 - NAME_WEIGHT - VALENTINE_WEIGHT + NAME_WEIGHT * name_sim + VALENTINE_WEIGHT * coma)
    return PairEvidence(
        left=left_name,
        right=right_name,
        score=round(float(min(1.0, score)), 6),
        coma=round(float(coma), 6),
        left_in_right=round(left_in_right, 6),
        right_in_left=round(right_in_left, 6),
        right_rows_matched=0,  # filled in for the pairs kept (see _with_rows)
        key_likeness=round(float(key_likeness), 6),
        name_similarity=round(float(name_sim), 6),
        examples=(),
        key_side="right" if right_is_key else "left",
        value_evidence=round(float(value_evidence), 6),
    )


def _with_rows(pair: PairEvidence, lv: TableValues, rv: TableValues) -> PairEvidence:
    """The pair with its overlapping examples and the count of right rows whose value appears on the left."""
    left, right = lv.distinct(pair.left), rv.distinct(pair.right)
    common = left & right if len(left) <= len(right) else right & left
    if not common:
        return pair
    rows = sum(1 for value in rv.rows(pair.right) if value in common)
    examples = tuple(sorted(common)[:5])
    return replace(pair, right_rows_matched=int(rows), examples=examples)


def _tuples(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, ...]]:
    """Rows of ``columns`` without nulls, as tuples of canonical strings."""
    part = frame[columns].dropna()
    return list(zip(*(column_values(part[c]) for c in columns), strict=True)) if len(part) else []


def _composite_key(
    pairs: list[PairEvidence],
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_profile: TableProfile,
    right_profile: TableProfile,
) -> tuple[list[PairEvidence], float]:
    """Two column pairs that together reference a multi-column key (``lineitem(l_partkey, l_suppkey)`` ->
    ``partsupp(ps_partkey, ps_suppkey)``): neither referenced column is unique alone, but the pair is.

    When the value tuples of the referencing side are contained in a jointly unique pair of columns, both column
    pairs get the evidence of that composite key. Returns the pairs (re-sorted) and the composite evidence (0
    when there is none).
    """

    def contained(p: PairEvidence) -> float:
        return p.left_in_right if p.key_side == "right" else p.right_in_left

    def may_be_key(p: PairEvidence) -> bool:
        # a column of a composite key: not unique alone, and of a type keys have (no dates, amounts, text)
        key = right_profile.column(p.right) if p.key_side == "right" else left_profile.column(p.left)
        fk = left_profile.column(p.left) if p.key_side == "right" else right_profile.column(p.right)
        keyish = all(c.data_type in ("integer", "string") and not _weak(c) for c in (key, fk))
        return p.key_likeness < 0.95 and keyish

    partial = [p for p in pairs if contained(p) >= 0.9 and p.value_evidence > 0 and may_be_key(p)]
    partial.sort(key=lambda p: (-p.name_similarity, -p.value_evidence, p.left, p.right))
    partial = partial[:_COMPOSITE_CANDIDATES]
    best: tuple[float, PairEvidence, PairEvidence] | None = None
    for i, first in enumerate(partial):
        for second in partial[i + 1 :]:
            if first.left == second.left or first.right == second.right or first.key_side != second.key_side:
                continue
            profiles = (right_profile, first.right, second.right) if first.key_side == "right" else None
            if profiles is None:
                profiles = (left_profile, first.left, second.left)
            owner, a, b = profiles
            if owner.column(a).distinct * owner.column(b).distinct < 0.95 * owner.rows:
                continue  # too few value combinations for a key
            fk_frame, key_frame = (left, right) if first.key_side == "right" else (right, left)
            fk_cols = [first.left, second.left] if first.key_side == "right" else [first.right, second.right]
            key_cols = [first.right, second.right] if first.key_side == "right" else [first.left, second.left]
            key_part = key_frame[key_cols].dropna()
            if len(key_part) == 0 or key_part.duplicated().mean() > 0.05:
                continue  # the two referenced columns are not a key together
            key_rows = _tuples(key_frame, key_cols)
            key_set = set(key_rows)
            fk_set = set(_tuples(fk_frame, fk_cols))
            if not fk_set:
                continue
            overlap = len(fk_set & key_set)
            containment = overlap / len(fk_set)
            uniqueness = len(key_set) / len(key_rows)
            cardinality = min(1.0, math.log1p(overlap) / math.log1p(_CERTAIN_OVERLAP)) ** 0.5
            evidence = containment**2 * uniqueness * cardinality
            name_sim = (first.name_similarity + second.name_similarity) / 2
            coma = (first.coma + second.coma) / 2
            score = evidence * (1.0 - NAME_WEIGHT - VALENTINE_WEIGHT + NAME_WEIGHT * name_sim + VALENTINE_WEIGHT * coma)
            if score > max(first.score, second.score) and (best is None or score > best[0]):
                best = (score, first, second)
    if best is None:
        return pairs, 0.0
    score, first, second = best
    boosted = {
        (p.left, p.right): replace(p, score=round(float(min(1.0, score)), 6), key_likeness=1.0) for p in (first, second)
    }
    out = [boosted.get((p.left, p.right), p) for p in pairs]
    out.sort(key=lambda p: (-p.score, -p.coma, -p.name_similarity, p.left, p.right))
    return out, score


def match_tables(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    config: MatcherConfig = MatcherConfig(),
    left_profile: TableProfile | None = None,
    right_profile: TableProfile | None = None,
    left_name: str = "",
    right_name: str = "",
    left_values: TableValues | None = None,
    right_values: TableValues | None = None,
) -> TableMatch:
    """Score how well ``right`` joins with ``left`` and list the column pairs that carry the join.

    ``left_name``/``right_name`` (table names) let a bare ``id`` column be read as ``<table>_id``;
    ``left_values``/``right_values`` let a caller reuse the value sets of a frame across many calls.
    """
    left = left.rename(columns=str)
    right = right.rename(columns=str)
    lprof = left_profile or profile_table(left)
    rprof = right_profile or profile_table(right)
    lv = left_values or TableValues(left)
    rv = right_values or TableValues(right)
    lcols = [c.name for c in lprof.columns if c.name in lv]
    rcols = [c.name for c in rprof.columns if c.name in rv]
    lpre, rpre = table_prefix(lcols), table_prefix(rcols)

    # Value and name evidence for every type-compatible pair (set intersections are cheap).
    names: dict[tuple[str, str], float] = {}
    candidates: list[tuple[str, str]] = []
    for lc in lcols:
        lp = lprof.column(lc)
        for rc in rcols:
            rp = rprof.column(rc)
            if not _compatible(lp, rp) or _disjoint_ranges(lp, rp):
                continue
            sim = name_similarity(
                lc, rc, left_prefix=lpre, right_prefix=rpre, left_table=left_name, right_table=right_name
            )
            names[(lc, rc)] = sim
            if sim >= 0.8:
                candidates.append((lc, rc))
            elif _weak(lp) or _weak(rp) or max(lp.uniqueness, rp.uniqueness) < _MIN_KEY_UNIQUENESS:
                continue  # floats, free text, and pairs without a key-like side: only when the names agree
            elif not lv.distinct(lc).isdisjoint(rv.distinct(rc)):
                candidates.append((lc, rc))

    def evidence_for(lc: str, rc: str, coma: float) -> PairEvidence | None:
        return _pair_evidence(lc, rc, lprof.column(lc), rprof.column(rc), lv, rv, coma=coma, name_sim=names[(lc, rc)])

    # Valentine only sees the columns of the most promising pairs (by values and names).
    first = [e for e in (evidence_for(lc, rc, 0.0) for lc, rc in candidates) if e is not None]
    first.sort(key=lambda p: (-p.score, -p.name_similarity, p.left, p.right))
    promising = [p for p in first if p.score > 0 or p.name_similarity >= 0.8][:_VALENTINE_PAIRS]
    coma: dict[tuple[str, str], float] = {}
    if promising:
        lsel = sorted({p.left for p in promising}, key=lcols.index)
        rsel = sorted({p.right for p in promising}, key=rcols.index)
        coma = valentine_scores(left[lsel], right[rsel], config=config)

    pairs: list[PairEvidence] = []
    for pair in first:
        similarity = coma.get((pair.left, pair.right), 0.0)
        evidence = evidence_for(pair.left, pair.right, similarity) if similarity else pair
        if evidence is not None:
            pairs.append(evidence)
    pairs.sort(key=lambda p: (-p.score, -p.coma, -p.name_similarity, p.left, p.right))
    pairs, composite = _composite_key(pairs, left, right, lprof, rprof)
    pairs = [_with_rows(p, lv, rv) for p in pairs[: config.max_pairs]]

    best = pairs[0] if pairs else None
    score = best.score if best else 0.0
    components = {
        "score": round(score, 6),
        "value_containment": best.left_in_right
        if best and best.key_side == "right"
        else (best.right_in_left if best else 0.0),
        "key_likeness": best.key_likeness if best else 0.0,
        "name_similarity": best.name_similarity if best else 0.0,
        "valentine": best.coma if best else 0.0,
        "value_evidence": best.value_evidence if best else 0.0,
        "valentine_best": round(max(coma.values(), default=0.0), 6),
        "composite_key": round(composite, 6),
    }
    return TableMatch(score=round(float(score), 6), pairs=tuple(pairs), components=components)
