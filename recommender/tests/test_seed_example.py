"""The acceptance example, end to end on seeded-like data: browsing Customer recommends Claim on Customer_ID ↔
Cust_Nbr; Encounter only through the enriched view (Customer + its sales opportunities' emails and phones)."""

from __future__ import annotations

import pytest
from django.core.files import File

from catalog.datasets import dataset_refresh_request, dataset_refresh_run
from catalog.management.commands.seed_demo import samples_write
from recommender import services
from recommender.choices import View
from recommender.models import DataSample, Recommendation

pytestmark = pytest.mark.django_db


def _rows(mesh, candidate):
    return {r.view: r for r in Recommendation.objects.filter(asset=mesh["customer"], candidate=mesh[candidate])}


def test_customer_recommends_claim_and_encounter_only_through_the_enriched_view(mesh, api):
    # given the mesh with data, profiles and the hasSalesOpportunity relationship
    # when Customer's recommendations are computed
    services.recommendations_compute(asset=mesh["customer"])

    # then Claim joins on Customer_ID ↔ Cust_Nbr with a high score, from the plain view
    claim = _rows(mesh, "claim")
    assert claim[View.PLAIN].recommended
    assert claim[View.PLAIN].score >= 0.7
    best = next(p for p in claim[View.PLAIN].pairs if p["join"])
    assert (best["left"], best["right"]) == ("Customer_ID", "Cust_Nbr")
    assert best["right_in_left"] == 1.0
    assert claim[View.PLAIN].coverage == 1.0

    # and Encounter is below the threshold on the plain view (about 55% of its rows join) but recommended on the
    # enriched one (about 80%: the encounters known only by an opportunity's email or phone join too)
    encounter = _rows(mesh, "encounter")
    plain, enriched = encounter[View.PLAIN], encounter[View.ENRICHED]
    assert not plain.recommended
    assert 0.45 < plain.coverage < 0.62
    assert enriched.recommended
    assert 0.72 < enriched.coverage < 0.88
    gain = enriched.evidence["enrichment"]
    assert gain["rows_gained"] == enriched.evidence["rows_matched"] - plain.evidence["rows_matched"]
    assert gain["rows_gained"] > 0.15 * enriched.evidence["rows"]
    assert gain["via"] == [mesh["sales-opportunity"].pk]
    assert gain["relationships"] == [mesh.has_opportunity.pk]
    assert len(gain["examples"]) == 5

    # and the API says so, ranked, with the evidence a person reads
    api.force_authenticate(mesh.staff)
    response = api.get(f"/api/v1/assets/{mesh['customer'].pk}/recommendations/")
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    names = [r["candidate"]["name"] for r in results]
    assert "Claim" in names and "Encounter" in names
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    shown_claim = next(r for r in results if r["candidate"]["name"] == "Claim")
    assert shown_claim["view"] == "plain"
    assert shown_claim["overlap"][0]["statement"] == "100% of Claim.Cust_Nbr values appear in Customer.Customer_ID"
    assert shown_claim["overlap"][0]["examples"]
    shown_encounter = next(r for r in results if r["candidate"]["name"] == "Encounter")
    assert shown_encounter["view"] == "enriched"
    assert shown_encounter["views"]["plain"]["recommended"] is False
    assert shown_encounter["views"]["enriched"]["recommended"] is True
    assert shown_encounter["enrichment"]["via"] == [{"id": mesh["sales-opportunity"].pk, "name": "SalesOpportunity"}]
    example_columns = shown_encounter["enrichment"]["example_columns"]
    assert example_columns[0] == "Encounter_ID"
    # each example is an encounter known only by an opportunity's contact details: not a customer's own
    customer = services.sample_read(DataSample.objects.get(asset=mesh["customer"]))
    own = set(customer["Email"].dropna()) | set(customer["Phone"].dropna()) | set(customer["Customer_ID"])
    for row in shown_encounter["enrichment"]["examples"]:
        assert not own & {v for v in row if v}, row


def test_without_the_relationship_encounter_is_not_recommended(mesh):
    services.relationship_delete(relationship=mesh.has_opportunity, actor=None)
    services.recommendations_compute(asset=mesh["customer"])
    encounter = _rows(mesh, "encounter")
    assert set(encounter) == {View.PLAIN}
    assert not encounter[View.PLAIN].recommended


def test_recomputing_unchanged_data_matches_nothing_and_feedback_survives(mesh):
    assert services.recommendations_compute(asset=mesh["customer"]) >= 3
    claim = _rows(mesh, "claim")[View.PLAIN]
    services.recommendation_feedback(recommendation=claim, actor=mesh.owners["customer"], action="dismiss")
    # when nothing changed, nothing is matched again
    assert services.recommendations_compute(asset=mesh["customer"]) == 0
    # forced, the pair is matched again and its feedback kept
    services.recommendations_compute(asset=mesh["customer"], force=True)
    assert _rows(mesh, "claim")[View.PLAIN].status == "dismissed"


def test_new_data_of_a_product_recomputes_only_its_pairs(mesh, tmp_path):
    services.recommendations_compute_all()
    before = {(r.asset_id, r.candidate_id, r.view): r.computed_at for r in Recommendation.objects.all()}
    assert before
    # when Claim's data is refreshed from a new file
    files = samples_write(tmp_path, customers=500, prospects=50, encounters=100)
    dataset = mesh["claim"].dataset
    with files["claim"].open("rb") as handle:
        dataset.upload.save("claim-2.parquet", File(handle), save=True)
    run = dataset_refresh_request(dataset=dataset, actor=None)
    assert dataset_refresh_run(refresh_id=run.pk).snapshot is not None
    services.recommendations_after_data_change(asset=mesh["claim"])
    # then only pairs with Claim on one side were matched again
    after = {(r.asset_id, r.candidate_id, r.view): r.computed_at for r in Recommendation.objects.all()}
    changed = {key for key in after if key not in before or after[key] != before[key]}
    claim = mesh["claim"].pk
    assert changed
    assert all(claim in (a, c) for a, c, _ in changed), changed
    assert DataSample.objects.get(asset=mesh["claim"]).snapshot_id == dataset.refreshes.first().snapshot_id


def test_new_data_fans_the_other_products_out_over_tasks_in_chunks(mesh, monkeypatch):
    from recommender import tasks

    services.recommendations_compute_all()
    monkeypatch.setattr(services, "FANOUT_CHUNK", 1)
    chunks: list[dict] = []
    run_chunk = tasks.recommendations_others_task.delay

    def recording(**kwargs):
        chunks.append(kwargs)
        return run_chunk(**kwargs)

    monkeypatch.setattr(tasks.recommendations_others_task, "delay", recording)
    # when Claim's data changes (the same data again: the fan-out is decided before anything is matched)
    services.recommendations_after_data_change(asset=mesh["claim"])
    # then one task per product, each naming the changed product, and Customer (which lists Claim) among them
    assert chunks and all(len(c["full_ids"]) + len(c["partial_ids"]) == 1 for c in chunks)
    assert {c["changed_id"] for c in chunks} == {mesh["claim"].pk}
    touched = {pk for c in chunks for pk in (*c["full_ids"], *c["partial_ids"])}
    assert mesh["customer"].pk in touched and mesh["claim"].pk not in touched
