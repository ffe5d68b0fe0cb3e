"""Joinability of table pairs: value containment, key-likeness, names and Valentine together (pure)."""

from __future__ import annotations

import uuid

import nltk
import numpy as np
import pandas as pd
import pytest

from recommender.matching import (
    NLTK_DATA,
    MatcherConfig,
    match_tables,
    name_similarity,
    name_stem,
    register_nltk_data,
    table_prefix,
)

rng = np.random.default_rng(7)


def uuids(n: int) -> list[str]:
    return [str(uuid.UUID(int=int(rng.integers(0, 2**62)) * 7919 + i)) for i in range(n)]


def shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers keyed by a UUID `id`; orders reference them through a column named `customer`."""
    ids = uuids(200)
    customers = pd.DataFrame({"id": ids, "name": [f"Customer {i}" for i in range(200)], "year": 2020})
    orders = pd.DataFrame(
        {
            "id": uuids(2_000),
            "customer": rng.choice(ids, 2_000),
            "year": rng.choice([2019, 2020, 2021], 2_000),
            "total": rng.integers(1, 500, 2_000),
        }
    )
    return orders, customers


def test_stop_words_ship_with_the_app() -> None:
    words = (NLTK_DATA / "corpora" / "stopwords" / "english").read_text().split("\n")
    words = [w for w in words if w]
    assert len(words) == 179 and len(set(words)) == 179
    assert {"the", "and", "wouldn't", "ourselves"} <= set(words)
    register_nltk_data()
    assert str(NLTK_DATA) == nltk.data.path[0] or str(NLTK_DATA) in nltk.data.path
    from nltk.corpus import stopwords

    assert len(stopwords.words("english")) == 179


def test_a_renamed_uuid_key_is_found_and_same_named_non_keys_are_not() -> None:
    orders, customers = shop()
    match = match_tables(orders, customers, left_name="orders", right_name="customers")
    best = match.pairs[0]
    assert (best.left, best.right) == ("customer", "id")
    assert best.left_in_right == 1.0
    assert best.key_likeness == 1.0
    assert best.key_side == "right"
    assert best.right_rows_matched <= len(customers)
    assert best.right_rows_matched == customers["id"].isin(orders["customer"]).sum()
    assert match.score == best.score and match.score > 0.7
    assert set(best.examples) <= set(customers["id"])
    # `id`/`id` and `year`/`year` share a name, but ids do not overlap and a year is no key.
    others = {(p.left, p.right): p.score for p in match.pairs}
    assert others.get(("id", "id"), 0.0) == 0.0
    assert others.get(("year", "year"), 0.0) < 0.1
    for name in ("score", "value_containment", "key_likeness", "name_similarity", "valentine", "value_evidence"):
        assert name in match.components
    assert match.components["value_containment"] == 1.0


def test_same_named_columns_that_share_no_values_do_not_join() -> None:
    a = pd.DataFrame({"id": range(1, 101), "comment": [f"a note about thing {i} and more" for i in range(100)]})
    b = pd.DataFrame({"id": range(1_000, 1_100), "comment": [f"a note about thing {i} and more" for i in range(100)]})
    match = match_tables(a, b)
    assert match.score < 0.1


def test_low_cardinality_counters_lose_to_a_real_foreign_key() -> None:
    nation = pd.DataFrame({"n_nationkey": range(25), "n_name": [f"nation {i}" for i in range(25)]})
    customer = pd.DataFrame({"c_custkey": range(1, 1501), "c_nationkey": rng.integers(0, 25, 1500)})
    lineitem = pd.DataFrame({"l_orderkey": rng.integers(1, 60_000, 3_000), "l_linenumber": rng.integers(1, 8, 3_000)})
    real = match_tables(customer, nation)
    fake = match_tables(lineitem, nation)
    assert (real.pairs[0].left, real.pairs[0].right) == ("c_nationkey", "n_nationkey")
    assert real.score > fake.score + 0.2


def test_counter_ranges_that_merely_overlap_score_below_a_spread_foreign_key() -> None:
    customer = pd.DataFrame({"c_custkey": range(1, 1501)})
    orders = pd.DataFrame({"o_custkey": rng.integers(1, 1501, 5_000)})
    supplier = pd.DataFrame({"s_suppkey": range(1, 101)})
    fk = match_tables(orders, customer, config=MatcherConfig(matcher="none"))
    counters = match_tables(supplier, customer, config=MatcherConfig(matcher="none"))
    assert fk.score > counters.score + 0.3


def test_free_text_and_floats_are_not_join_keys() -> None:
    text = [f"some words here number {i}" for i in range(300)]
    a = pd.DataFrame({"note": text, "amount": [i / 7 for i in range(300)]})
    b = pd.DataFrame({"note": text, "amount": [i / 7 for i in range(300)]})
    assert match_tables(a, b, config=MatcherConfig(matcher="none")).score < 0.2


def test_valentine_scores_are_reported_per_pair() -> None:
    orders, customers = shop()
    with_coma = match_tables(orders, customers)
    without = match_tables(orders, customers, config=MatcherConfig(matcher="none"))
    assert without.pairs[0].coma == 0.0
    assert any(p.coma > 0 for p in with_coma.pairs)
    assert with_coma.components["valentine_best"] > 0


def test_max_pairs_limits_the_pairs_returned() -> None:
    orders, customers = shop()
    assert len(match_tables(orders, customers, config=MatcherConfig(max_pairs=1)).pairs) == 1


def test_tables_without_any_common_values_score_zero() -> None:
    a = pd.DataFrame({"x": ["a", "b", "c"]})
    b = pd.DataFrame({"y": [1.5, 2.5]})
    match = match_tables(a, b)
    assert match.score == 0.0 and match.pairs == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"matcher": "magic"}, "unknown matcher"),
        ({"threshold": 1.5}, "threshold"),
        ({"max_pairs": 0}, "max_pairs"),
        ({"instance_rows": 0}, "instance_rows"),
    ],
)
def test_config_is_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MatcherConfig(**kwargs)


def test_names_compare_without_table_prefixes_and_key_words() -> None:
    assert table_prefix(["o_orderkey", "o_custkey", "o_comment"]) == "o_"
    assert table_prefix(["id", "customer", "store_id"]) == ""
    assert name_similarity("o_custkey", "c_custkey", left_prefix="o_", right_prefix="c_") == 1.0
    assert name_similarity("customer", "customer_id") >= 0.9
    assert name_similarity("customer", "id", right_table="customers") >= 0.9
    assert name_similarity("custkey", "customer_id") >= 0.8
    assert name_similarity("o_custkey", "p_partkey", left_prefix="o_", right_prefix="p_") < 0.6
    assert name_similarity("CustomerId", "customer_id") == 1.0
    assert name_stem("o_custkey", "o_") == "cust"
    assert name_stem("customer_id") == "customer"
    assert name_stem("id") == ""


def test_a_composite_key_is_recognised_when_no_column_is_unique_alone() -> None:
    parts, suppliers = 200, 4
    partsupp = pd.DataFrame(
        {
            "ps_partkey": np.repeat(np.arange(1, parts + 1), suppliers),
            "ps_suppkey": np.tile(np.arange(1, suppliers + 1), parts),
            "ps_availqty": rng.integers(1, 10_000, parts * suppliers),
        }
    )
    chosen = rng.integers(0, len(partsupp), 3_000)
    lineitem = pd.DataFrame(
        {
            "l_partkey": partsupp["ps_partkey"].to_numpy()[chosen],
            "l_suppkey": partsupp["ps_suppkey"].to_numpy()[chosen],
            "l_quantity": rng.integers(1, 50, 3_000),
        }
    )
    match = match_tables(lineitem, partsupp, config=MatcherConfig(matcher="none"))
    assert {(p.left, p.right) for p in match.pairs[:2]} == {("l_partkey", "ps_partkey"), ("l_suppkey", "ps_suppkey")}
    assert match.components["composite_key"] > 0.5
    assert match.score == match.pairs[0].score > 0.5
    # Without the second component the same column is only a quarter unique: a weak match.
    alone = match_tables(lineitem[["l_partkey"]], partsupp, config=MatcherConfig(matcher="none"))
    assert alone.components["composite_key"] == 0.0 and alone.score < 0.4
