"""Profiles of table samples: types, key-likeness, sketches, JSON round trip (pure, no database)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from datasketch import MinHash

from recommender.profiling import (
    MINHASH_SCHEME,
    minhash_of,
    profile_from_dict,
    profile_table,
    profile_to_dict,
    table_sample,
    value_set,
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(1, 101),
            "customer_id": [i % 10 for i in range(100)],
            "price": [i * 1.5 for i in range(100)],
            "code": [f"SKU-{i:04d}" if i % 4 else None for i in range(100)],
            "day": pd.date_range("2024-01-01", periods=100, freq="D"),
            "flag": [i % 2 == 0 for i in range(100)],
            "when": [f"2024-01-01T10:{i % 60:02d}:00" for i in range(100)],
        }
    )


def test_table_sample_is_random_and_reproducible() -> None:
    data = pd.DataFrame({"n": range(10_000)})
    sample = table_sample(data, rows=100, seed=0)
    assert len(sample) == 100
    assert sample["n"].tolist() != list(range(100))  # not the head of the file
    assert sample["n"].max() > 5_000
    assert table_sample(data, rows=100, seed=0)["n"].tolist() == sample["n"].tolist()
    assert table_sample(data, rows=100, seed=1)["n"].tolist() != sample["n"].tolist()


def test_table_sample_of_a_small_table_keeps_every_row_shuffled() -> None:
    data = pd.DataFrame({"n": range(50)})
    sample = table_sample(data, rows=1_000)
    assert sorted(sample["n"]) == list(range(50))
    assert sample["n"].tolist() != list(range(50))


def test_table_sample_rejects_a_non_positive_size() -> None:
    with pytest.raises(ValueError, match="positive"):
        table_sample(pd.DataFrame({"n": [1]}), rows=0)


def test_column_types_nulls_and_uniqueness() -> None:
    profile = profile_table(frame())
    assert profile.rows == 100
    assert [c.name for c in profile.columns] == list(frame().columns)
    types = {c.name: c.data_type for c in profile.columns}
    assert types == {
        "id": "integer",
        "customer_id": "integer",
        "price": "float",
        "code": "string",
        "day": "date",
        "flag": "boolean",
        "when": "datetime",
    }
    key = profile.column("id")
    assert key.uniqueness == 1.0 and key.distinct == 100 and key.null_share == 0.0
    assert (key.min_value, key.max_value) == (1.0, 100.0)
    fk = profile.column("customer_id")
    assert fk.distinct == 10 and fk.uniqueness == pytest.approx(0.1)
    code = profile.column("code")
    assert code.null_share == pytest.approx(0.25)
    assert code.uniqueness == 1.0 and code.distinct == 75
    assert code.mean_length == 8.0
    with pytest.raises(KeyError):
        profile.column("nope")


def test_integers_read_as_floats_compare_equal_to_integers() -> None:
    # A CSV integer column with nulls is read as float; its values must still match 1, 2, 3 elsewhere.
    with_nulls = pd.Series([1.0, 2.0, np.nan, 3.0])
    assert value_set(with_nulls) == {"1", "2", "3"}
    profile = profile_table(pd.DataFrame({"k": with_nulls}))
    assert profile.column("k").data_type == "integer"
    assert profile.column("k").minhash == profile_table(pd.DataFrame({"k": [3, 2, 1]})).column("k").minhash


def test_minhash_is_datasketchs_sketch_of_the_distinct_values() -> None:
    profile = profile_table(frame())
    column = profile.column("customer_id")
    assert len(column.minhash) == 128
    assert list(column.minhash) == [int(h) for h in minhash_of({str(i) for i in range(10)}).hashvalues]
    # a datasketch MinHash: its Jaccard estimate works as usual
    half = minhash_of({str(i) for i in range(5)})
    restored = MinHash(num_perm=128, hashvalues=column.minhash, scheme=MINHASH_SCHEME)
    assert 0.3 <= restored.jaccard(half) <= 0.7


def test_examples_are_a_few_values_as_strings() -> None:
    profile = profile_table(frame())
    examples = profile.column("code").examples
    assert 1 <= len(examples) <= 5
    assert all(isinstance(e, str) and e.startswith("SKU-") for e in examples)


def test_free_text_has_many_words() -> None:
    text = pd.DataFrame({"comment": [f"this is a rather long comment number {i}" for i in range(20)]})
    assert profile_table(text).column("comment").words > 3


def test_empty_column() -> None:
    profile = profile_table(pd.DataFrame({"x": [None, None]}))
    column = profile.column("x")
    assert column.distinct == 0 and column.uniqueness == 0.0 and column.null_share == 1.0
    assert column.minhash == () and column.examples == ()


def test_profile_survives_a_json_round_trip() -> None:
    profile = profile_table(frame())
    data = json.loads(json.dumps(profile_to_dict(profile)))
    assert profile_from_dict(data) == profile


def test_profile_from_dict_tolerates_older_and_newer_keys() -> None:
    profile = profile_table(frame())
    data = profile_to_dict(profile)
    for column in data["columns"]:
        del column["words"]
        column["something_new"] = 1
    restored = profile_from_dict(data)
    assert restored.column("id").words == 0.0
    assert restored.column("id").minhash == profile.column("id").minhash
