import pytest

from catalog import services
from catalog.models import Asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def searchable(staff, claims, owner, healthcare, claim_product, secret_asset):
    services.asset_create(
        actor=staff,
        kind="dataset",
        name="Policy register",
        description="Policies with their premiums",
        domain=claims,
        owner=owner,
        business_unit=healthcare,
        columns=[{"name": "claim_reference"}],
    )
    services.asset_create(actor=staff, kind="dashboard", name="Enrolment overview", domain=claims, tags=["claimsfeed"])
    services.asset_create(actor=staff, kind="dashboard", name="Unrelated", description="nothing to see", domain=claims)


def search(api, query):
    response = api.get(f"/api/v1/search/?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_search_ranks_name_over_tags_columns_and_description(api, staff, searchable):
    api.force_authenticate(staff)
    body = search(api, "q=claim")
    names = [r["name"] for r in body["results"]]
    # Name match first, then tag, then column; the secret asset matches on its description only.
    assert names[0] == "Claim"
    assert names.index("Enrolment overview") < names.index("Policy register") < names.index("Secret merger dashboard")
    assert "Unrelated" not in names
    assert body["count"] == 4


def test_search_matches_prefixes_and_every_word(api, staff, searchable):
    api.force_authenticate(staff)
    assert [r["name"] for r in search(api, "q=polic regis")["results"]] == ["Policy register"]
    assert search(api, "q=policy unicorn")["count"] == 0


def test_search_facets_count_matches(api, staff, searchable):
    api.force_authenticate(staff)
    facets = search(api, "q=claim")["facets"]
    assert {f["value"]: f["count"] for f in facets["kind"]} == {"dashboard": 2, "data_product": 1, "dataset": 1}
    assert {f["value"]: f["count"] for f in facets["owner"]} == {"olga": 2}
    assert {f["value"]: f["count"] for f in facets["business_unit"]} == {"healthcare": 2}
    assert {f["value"]: f["count"] for f in facets["tag"]} == {"claimsfeed": 1, "finance": 1, "gold": 1}


def test_search_combines_with_filters(api, staff, searchable):
    api.force_authenticate(staff)
    body = search(api, "q=claim&kind=dashboard")
    assert sorted(r["name"] for r in body["results"]) == ["Enrolment overview", "Secret merger dashboard"]


def test_search_hides_what_the_user_may_not_see_including_facets(api, analyst, searchable):
    api.force_authenticate(analyst)
    body = search(api, "q=claim")
    assert "Secret merger dashboard" not in [r["name"] for r in body["results"]]
    assert body["count"] == 3
    assert {f["value"]: f["count"] for f in body["facets"]["kind"]} == {"dashboard": 1, "data_product": 1, "dataset": 1}
    assert "merger" not in str(body)


def test_search_finds_renamed_assets_by_their_new_name(api, staff, searchable, claim_product):
    api.force_authenticate(staff)
    services.asset_update(asset=claim_product, actor=staff, name="Reimbursement")
    assert [r["name"] for r in search(api, "q=reimburse")["results"]] == ["Reimbursement"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%21%21", "q"),
        ("q=" + "a" * 501, "q"),
        ("q=x&kind=rocket", "kind"),
        ("q=x&limit=abc", "limit"),
        ("q=x&limit=0", "limit"),
        ("q=x&offset=-1", "offset"),
    ],
)
def test_bad_search_input_is_a_400(api, staff, query, field):
    api.force_authenticate(staff)
    response = api.get(f"/api/v1/search/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]


def test_hostile_search_input_is_harmless(api, staff, searchable):
    api.force_authenticate(staff)
    for query in ["q=claim'); DROP TABLE catalog_asset; --", "q=a:* | !b", "q=%00claim", "q=<script>"]:
        response = api.get(f"/api/v1/search/?{query}")
        assert response.status_code in (200, 400), (query, response.content)
    assert search(api, "q=claim")["count"] == 4


def test_a_search_matching_more_than_the_limit_is_capped_to_the_most_recently_updated(
    api, staff, searchable, monkeypatch
):
    # given four matches, and a limit of two
    api.force_authenticate(staff)
    every_match = [r["id"] for r in search(api, "q=claim")["results"]]
    newest_first = Asset.objects.filter(pk__in=every_match).order_by("-updated_at", "-id")
    monkeypatch.setattr("catalog.selectors.SEARCH_EXACT_LIMIT", 2)
    # when
    body = search(api, "q=claim")
    # then count, results and facets cover the two most recently updated matches, and say so
    assert body["count"] == 2
    assert body["count_capped"] is True
    assert sorted(r["name"] for r in body["results"]) == sorted(newest_first.values_list("name", flat=True)[:2])
    assert sum(f["count"] for f in body["facets"]["kind"]) == 2


def test_a_search_within_the_limit_is_exact_and_says_so(api, staff, searchable):
    api.force_authenticate(staff)
    body = search(api, "q=claim")
    assert body["count"] == 4
    assert body["count_capped"] is False
