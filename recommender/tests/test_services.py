"""Refresh-driven profiles, relationships from every source, and the product-level scoring."""

from __future__ import annotations

import pandas as pd
import pytest

from catalog.datasets import dataset_refresh_request
from catalog.models import Column
from lineage.choices import EdgeKind
from lineage.services import column_edge_upsert, edge_upsert
from recommender import evidence, services
from recommender.matching import PairEvidence, TableMatch
from recommender.models import DataSample, Recommendation, Relationship
from recommender.profiling import profile_table
from recommender.tasks import sample_refresh_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh_size():
    return (200, 30, 300)


def test_a_data_refresh_makes_a_new_profile_and_recomputes_once(mesh, django_capture_on_commit_callbacks):
    dataset = mesh["customer"].dataset
    old = DataSample.objects.get(asset=mesh["customer"])
    # when the data is refreshed (the refresh and the receiver's task run as Celery tasks, eagerly here)
    with django_capture_on_commit_callbacks(execute=True):
        dataset_refresh_request(dataset=dataset, actor=None)
    dataset.refresh_from_db()
    sample = DataSample.objects.get(asset=mesh["customer"])
    # then the sample and profile come from the new snapshot
    assert sample.data_version == f"snapshot:{dataset.current_snapshot_id}" != old.data_version
    assert sample.snapshot_id == dataset.current_snapshot_id
    assert {c["name"] for c in sample.profile["columns"]} >= {"Customer_ID", "Email", "Phone"}
    assert sample.rows == sample.source_rows == 200
    # and Customer's recommendations were computed from it
    rows = Recommendation.objects.filter(asset=mesh["customer"])
    assert rows.exists() and {r.asset_version.split("+")[0] for r in rows} == {sample.data_version}
    # a duplicate delivery of the task changes nothing
    stamp = {r.pk: r.computed_at for r in rows}
    sample_refresh_task(dataset_id=dataset.pk, version=sample.data_version)
    assert {r.pk: r.computed_at for r in Recommendation.objects.filter(asset=mesh["customer"])} == stamp


def test_samples_are_random_rows_of_the_configured_size(mesh, settings):
    sample = services.sample_refresh(asset=mesh["encounter"], rows=50)
    frame = services.sample_read(sample)
    assert len(frame) == sample.rows == 50 and sample.source_rows == 300
    # not the first rows of the file
    assert frame["Encounter_ID"].tolist() != [f"ENC-{900001 + i:08d}" for i in range(50)]
    assert services.sample_refresh(asset=mesh["encounter"], rows=50).pk == sample.pk
    with pytest.raises(Exception, match="from 1 to 10,000,000"):
        services.sample_refresh(asset=mesh["encounter"], rows=0)


def test_observed_joins_become_a_relationship_that_counts_them(mesh):
    for _ in range(2):
        relationship = services.relationship_observe(
            from_asset=mesh["claim"], to_asset=mesh["policy"], key_columns=[{"from": "Policy_ID", "to": "Policy_ID"}]
        )
    assert (relationship.name, relationship.source, relationship.observations) == ("joinsWith", "observed", 2)
    assert relationship.last_observed_at is not None
    with pytest.raises(Exception, match="has no column 'Policy'"):
        services.relationship_observe(
            from_asset=mesh["claim"], to_asset=mesh["policy"], key_columns=[{"from": "Policy", "to": "Policy_ID"}]
        )


def test_lineage_with_column_identity_becomes_a_derived_from_relationship(mesh):
    edge_upsert(source=mesh["customer"], target=mesh["claim"], kind=EdgeKind.DERIVED_FROM, actor=None)
    edge_upsert(source=mesh["customer"], target=mesh["policy"], kind=EdgeKind.DERIVED_FROM, actor=None)
    column_edge_upsert(
        source=Column.objects.get(asset=mesh["customer"], name="Customer_ID"),
        target=Column.objects.get(asset=mesh["claim"], name="Cust_Nbr"),
        transformation="DIRECT",
        subtype="IDENTITY",
        actor=None,
    )
    assert services.relationships_from_lineage() == 1  # Policy has no column lineage to say how it joins
    relationship = Relationship.objects.get(name="derivedFrom")
    assert (relationship.from_asset, relationship.to_asset) == (mesh["claim"], mesh["customer"])
    assert relationship.key_columns == [{"from": "Cust_Nbr", "to": "Customer_ID"}]
    assert relationship.source == "lineage"
    assert services.relationships_from_lineage() == 0


def _pair(left, right, **fields):
    base = {
        "score": 0.5,
        "coma": 0.5,
        "left_in_right": 1.0,
        "right_in_left": 1.0,
        "right_rows_matched": 1,
        "key_likeness": 1.0,
        "name_similarity": 1.0,
        "examples": (),
    }
    return PairEvidence(left=left, right=right, **{**base, **fields})


def test_coverage_counts_the_rows_of_the_referencing_side_through_key_pairs_only():
    customers = pd.DataFrame({"id": ["a", "b", "c", "d"], "since": pd.to_datetime(["2024-01-01"] * 4)})
    orders = pd.DataFrame({"customer": ["a", "a", "b", "x"], "day": pd.to_datetime(["2024-01-01"] * 4)})
    match = TableMatch(
        score=0.9,
        pairs=(_pair("since", "day", score=0.9), _pair("id", "customer", key_side="left")),
        components={"score": 0.9},
    )
    result, mask, keys = evidence.outcome(
        view="plain",
        match=match,
        left=customers,
        right=orders,
        left_profile=profile_table(customers),
        right_profile=profile_table(orders),
    )
    # the dates overlap but are no way to join; three of the four orders find their customer
    assert [(k.left, k.right) for k in keys] == [("id", "customer")]
    assert mask.tolist() == [True, True, True, False]
    assert (result.coverage, result.evidence["coverage_of"], result.recommended) == (0.75, "candidate", True)
    assert result.score == round(0.9 * 0.75, 4)
    # from the orders' side the customers are the key: the coverage still counts the orders
    back = TableMatch(score=0.9, pairs=(_pair("customer", "id", key_side="right"),), components={})
    result, _, _ = evidence.outcome(
        view="plain",
        match=back,
        left=orders,
        right=customers,
        left_profile=profile_table(orders),
        right_profile=profile_table(customers),
    )
    assert (result.coverage, result.evidence["coverage_of"]) == (0.75, "asset")


def test_the_best_view_is_a_recommended_one_then_the_higher_score_then_plain():
    plain = evidence.Outcome("plain", 0.5, 0.55, False, 1, [], {})
    enriched = evidence.Outcome("enriched", 0.7, 0.8, True, 1, [], {})
    assert evidence.best_view([plain, enriched]).view == "enriched"
    tie = evidence.Outcome("enriched", 0.5, 0.55, False, 1, [], {})
    assert evidence.best_view([tie, plain]).view == "plain"
