"""Top-k recommendations: prune with the candidate index, then match the shortlist (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.candidates import CandidateIndex
from recommender.engine import recommend
from recommender.matching import MatcherConfig
from recommender.profiling import profile_table


def catalog() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(11)
    stores = pd.DataFrame(
        {"id": [f"store-{i:04d}-{i * 7919:08d}" for i in range(20)], "city": [f"c{i}" for i in range(20)]}
    )
    customers = pd.DataFrame({"id": [f"cust-{i:06d}-{i * 31:09d}" for i in range(600)], "year": 2020})
    orders = pd.DataFrame(
        {
            "id": [f"ord-{i:07d}" for i in range(3_000)],
            "customer": rng.choice(customers["id"], 3_000),
            "store_id": rng.choice(stores["id"], 3_000),
            "year": rng.choice([2019, 2020, 2021], 3_000),
        }
    )
    frames = {"stores": stores, "customers": customers, "orders": orders}
    for i in range(8):
        frames[f"other{i}"] = pd.DataFrame(
            {"id": [f"o{i}-{j:05d}" for j in range(300)], "year": [2019 + j % 3 for j in range(300)]}
        )
    return frames


def setup() -> tuple[dict[str, pd.DataFrame], CandidateIndex]:
    frames = catalog()
    index = CandidateIndex()
    for key, frame in frames.items():
        index.add(key, profile_table(frame))
    index.build()
    return frames, index


def test_recommends_the_referenced_tables_best_first_with_their_join_columns() -> None:
    frames, index = setup()
    seen: list[tuple[int, int, str]] = []
    results = recommend(
        key="orders",
        frame=frames["orders"],
        profile=index.profile("orders"),
        index=index,
        load=frames.__getitem__,
        k=5,
        shortlist=6,
        config=MatcherConfig(threshold=0.3),
        on_progress=lambda done, total, key: seen.append((done, total, key)),
        names={key: key for key in frames},
    )
    assert [key for key, _ in results] in (["customers", "stores"], ["stores", "customers"])
    pairs = {key: (m.pairs[0].left, m.pairs[0].right) for key, m in results}
    assert pairs == {"customers": ("customer", "id"), "stores": ("store_id", "id")}
    scores = [m.score for _, m in results]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.3
    assert seen and seen[-1][0] == seen[-1][1] and len(seen) <= 12
    assert [done for done, _, _ in seen] == list(range(1, len(seen) + 1))


def test_k_caps_the_results_and_threshold_drops_weak_matches() -> None:
    frames, index = setup()
    common = {"key": "orders", "frame": frames["orders"], "profile": index.profile("orders"), "index": index}
    assert len(recommend(**common, load=frames.__getitem__, k=1)) == 1
    assert recommend(**common, load=frames.__getitem__, config=MatcherConfig(threshold=1.0)) == []


def test_the_reverse_direction_a_key_finds_its_referencing_table() -> None:
    frames, index = setup()
    results = recommend(
        key="customers",
        frame=frames["customers"],
        profile=index.profile("customers"),
        index=index,
        load=frames.__getitem__,
        k=3,
    )
    assert results[0][0] == "orders"
    assert (results[0][1].pairs[0].left, results[0][1].pairs[0].right) == ("id", "customer")


def test_a_new_product_not_in_the_index_gets_recommendations() -> None:
    frames, index = setup()
    index.remove("orders")
    results = recommend(
        key="orders",
        frame=frames["orders"],
        profile=profile_table(frames["orders"]),
        index=index,
        load=frames.__getitem__,
        k=2,
        config=MatcherConfig(matcher="coma_schema"),
    )
    assert {key for key, _ in results} == {"customers", "stores"}


def test_sizes_are_validated() -> None:
    frames, index = setup()
    with pytest.raises(ValueError):
        recommend(
            key="orders",
            frame=frames["orders"],
            profile=index.profile("orders"),
            index=index,
            load=frames.__getitem__,
            k=0,
        )
