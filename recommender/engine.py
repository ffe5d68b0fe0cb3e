"""Top-k joinable tables for one table: prune with the candidate index, then match the shortlist.

Pure orchestration over ``candidates`` and ``matching``; the caller supplies how a candidate's data is
loaded, so the same code serves the catalog, the benchmark command and the scale benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import pandas as pd

from .candidates import CandidateIndex
from .matching import (
    DEFAULT_CONFIG,
    NAME_WEIGHT,
    VALENTINE_WEIGHT,
    MatcherConfig,
    TableMatch,
    TableValues,
    match_tables,
)
from .profiling import TableProfile, profile_table


def recommend(
    *,
    key: str,
    frame: pd.DataFrame,
    profile: TableProfile,
    index: CandidateIndex,
    load: Callable[[str], pd.DataFrame],
    k: int = 10,
    shortlist: int = 20,
    config: MatcherConfig = DEFAULT_CONFIG,
    on_progress: Callable[[int, int, str], None] | None = None,
    names: Mapping[str, str] | None = None,
) -> list[tuple[str, TableMatch]]:
    """The ``k`` best joinable tables for ``key``, best first, each with its evidence.

    ``index`` proposes at most ``shortlist`` candidates from sketches; each is loaded with ``load`` and
    matched with ``match_tables`` on values and names; valentine then runs only for the candidates that can
    still reach the top ``k`` (an exact bound: its similarity adds at most ``VALENTINE_WEIGHT`` x the value
    evidence to a pair). Matches scoring below ``config.threshold`` are dropped.
    ``on_progress(done, total, candidate)`` is called after each match (the total grows once the
    candidates that need valentine are known). ``names`` maps keys to
    table names, so that a bare ``id`` column can be read as ``<table>_id``.
    """
    if k < 1 or shortlist < 1:
        raise ValueError("k and shortlist must be at least 1")
    wanted = max(shortlist, k)
    names = names or {}
    candidates = [candidate for candidate, _ in index.query(key, profile, k=wanted, name=names.get(key, ""))]
    if len(candidates) < wanted:
        # A small catalog: the sketches found fewer candidates than there is room for, so the matcher
        # also looks at the others (composite keys and sampled keys can escape the sketches).
        chosen = {key, *candidates}
        candidates += [other for other in sorted(index.keys()) if other not in chosen][: wanted - len(candidates)]
    frame = frame.rename(columns=str)
    left_values = TableValues(frame)
    loaded: dict[str, tuple[pd.DataFrame, TableProfile, TableValues]] = {}

    def run(candidate: str, matcher_config: MatcherConfig) -> TableMatch:
        if candidate not in loaded:
            other = load(candidate).rename(columns=str)
            other_profile = index.profile(candidate) if candidate in index else None
            if other_profile is None or [c.name for c in other_profile.columns] != list(other.columns):
                other_profile = profile_table(other)
            loaded[candidate] = (other, other_profile, TableValues(other))
        other, other_profile, other_values = loaded[candidate]
        return match_tables(
            frame,
            other,
            config=matcher_config,
            left_profile=profile,
            right_profile=other_profile,
            left_name=names.get(key, ""),
            right_name=names.get(candidate, ""),
            left_values=left_values,
            right_values=other_values,
        )

    # 1. Values and names only, for the whole shortlist.
    values_only = replace(config, matcher="none")
    first: dict[str, TableMatch] = {}
    for done, candidate in enumerate(candidates, start=1):
        first[candidate] = run(candidate, values_only)
        if on_progress is not None:
            on_progress(done, len(candidates), candidate)
    if config.matcher == "none":
        final = first
    else:
        # 2. Valentine for the candidates that can still reach the top k. Its similarity adds at most
        # VALENTINE_WEIGHT x value evidence to a pair, so a candidate whose bound stays below the k-th
        # score without valentine cannot enter the top k.
        ranked = sorted(first.values(), key=lambda m: -m.score)
        floor = max(ranked[k - 1].score if len(ranked) >= k else 0.0, config.threshold)
        final = dict(first)
        reach = [c for c in candidates if _bound(first[c]) >= floor and _bound(first[c]) > 0]
        for done, candidate in enumerate(reach, start=1):
            final[candidate] = run(candidate, config)
            if on_progress is not None:
                on_progress(len(candidates) + done, len(candidates) + len(reach), candidate)
    results = [(c, m) for c, m in final.items() if m.score >= config.threshold and m.score > 0]
    results.sort(key=lambda item: (-item[1].score, item[0]))
    return results[:k]


def _bound(match: TableMatch) -> float:
    """The highest score the match could reach once valentine's similarities are added."""
    best = max((p.score + VALENTINE_WEIGHT * p.value_evidence for p in match.pairs), default=0.0)
    if match.pairs:
        # a pair that was not kept scores at most the last kept one, and its value evidence at most
        # that score / (1 - NAME_WEIGHT - VALENTINE_WEIGHT)
        last = match.pairs[-1].score
        best = max(best, last * (1.0 + VALENTINE_WEIGHT / (1.0 - NAME_WEIGHT - VALENTINE_WEIGHT)))
    return min(1.0, best)
