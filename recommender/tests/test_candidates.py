"""Candidate pruning with MinHash LSH Ensemble, sketch scans and name signals (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.candidates import CandidateIndex
from recommender.profiling import profile_table


def world(seed: int = 3) -> dict[str, pd.DataFrame]:
    """Customers, orders referencing them, products, and unrelated tables with overlapping small numbers."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({"cust_id": [f"C{i:06d}" for i in range(5_000)], "segment": rng.integers(1, 5, 5_000)})
    products = pd.DataFrame({"sku": [f"P-{i:05d}" for i in range(800)], "size": rng.integers(1, 10, 800)})
    orders = pd.DataFrame(
        {
            "order_no": range(100_000, 103_000),
            "customer": rng.choice(customers["cust_id"], 3_000),
            "product_sku": rng.choice(products["sku"], 3_000),
            "quantity": rng.integers(1, 10, 3_000),
        }
    )
    frames = {"customers": customers, "products": products, "orders": orders}
    for i in range(12):
        frames[f"noise{i}"] = pd.DataFrame(
            {"code": [f"X{i}-{j}" for j in range(400)], "level": rng.integers(1, 5, 400), "n": range(400)}
        )
    return frames


def index_of(frames: dict[str, pd.DataFrame], *, build: bool = True) -> CandidateIndex:
    index = CandidateIndex()
    for key, frame in frames.items():
        index.add(key, profile_table(frame))
    if build:
        index.build()
    return index


@pytest.mark.parametrize("build", [True, False])
def test_a_foreign_key_finds_its_referenced_tables_first(build: bool) -> None:
    frames = world()
    index = index_of(frames, build=build)
    ranked = index.query("orders", profile_table(frames["orders"]), k=5)
    assert {t for t, _ in ranked[:2]} == {"customers", "products"}
    assert all(score > 0 for _, score in ranked)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert "orders" not in dict(ranked)


def test_a_key_finds_the_tables_that_reference_it() -> None:
    frames = world()
    index = index_of(frames)
    ranked = index.query("customers", profile_table(frames["customers"]), k=3)
    assert ranked[0][0] == "orders"


def test_k_limits_the_candidates() -> None:
    frames = world()
    index = index_of(frames)
    assert len(index.query("orders", profile_table(frames["orders"]), k=1)) == 1


def test_a_new_table_is_found_before_and_after_a_rebuild_and_removal_forgets_it() -> None:
    frames = world()
    index = index_of({k: v for k, v in frames.items() if k != "customers"})
    index.add("customers", profile_table(frames["customers"]))  # pending, not in the ensemble yet
    assert "customers" in dict(index.query("orders", profile_table(frames["orders"])))
    index.build()
    assert "customers" in dict(index.query("orders", profile_table(frames["orders"])))
    index.remove("customers")
    assert "customers" not in index
    assert "customers" not in dict(index.query("orders", profile_table(frames["orders"])))
    index.remove("customers")  # unknown keys are ignored
    index.build()
    assert len(index) == len(frames) - 1


def test_a_renamed_key_with_matching_name_but_sampled_values_is_still_a_candidate() -> None:
    left = pd.DataFrame({"customer_id": [f"C{i:06d}" for i in range(0, 50_000, 7)][:200]})
    right = pd.DataFrame({"customer": [f"C{i:06d}" for i in range(1_000_000, 1_000_300)]})
    index = CandidateIndex()
    index.add("right", profile_table(right))
    index.build()
    assert index.query("left", profile_table(left)) == [("right", pytest.approx(0.25 * 0.95, abs=0.06))]


def test_replacing_a_profile_replaces_its_columns() -> None:
    frames = world()
    index = index_of(frames)
    index.add("customers", profile_table(pd.DataFrame({"other": ["a", "b"]})))
    assert "customers" not in dict(index.query("orders", profile_table(frames["orders"])))


def test_threshold_is_validated() -> None:
    with pytest.raises(ValueError):
        CandidateIndex(threshold=0.0)


def test_a_bare_id_is_read_with_its_table_name() -> None:
    customers = pd.DataFrame({"id": [f"C{i:06d}" for i in range(1_000_000, 1_000_300)]})
    orders = pd.DataFrame({"customer_id": [f"C{i:06d}" for i in range(0, 2_000, 7)]})  # sampled: no overlap
    index = CandidateIndex()
    index.add("t1", profile_table(customers), name="customers")
    index.add("t2", profile_table(customers))  # the same data under no name
    index.build()
    assert [key for key, _ in index.query("orders", profile_table(orders), name="orders")] == ["t1"]
