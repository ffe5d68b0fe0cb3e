from __future__ import annotations

import json

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import Asset

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _pages(catalog_data) -> list[str]:
    return [
        reverse("home"),
        reverse("search") + "?q=ledger",
        reverse("asset-detail", args=[catalog_data["ledger"].pk]),
        reverse("folders"),
        reverse("folder-detail", args=[catalog_data["root"].pk]),
        reverse("reports"),
    ]


def test_every_page_renders_for_a_signed_in_user(signed_in, catalog_data):
    for url in _pages(catalog_data):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert b'href="#main"' in response.content  # the skip link of the base template


def test_every_page_sends_an_anonymous_visitor_to_sign_in(client, catalog_data):
    for url in _pages(catalog_data):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_sign_in_page_renders_and_signs_in(client, ana):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_bad_password_shows_a_clear_error(client, ana):
    response = client.post(reverse("login"), {"username": "ana", "password": "wrong"})
    assert response.status_code == 200
    assert "That username and password do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_goes_back_to_sign_in(signed_in):
    assert signed_in.get(reverse("logout")).status_code == 405
    response = signed_in.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signed_in.get(reverse("home")).status_code == 302


def test_navigation_has_every_section_and_a_sign_out_form(signed_in, catalog_data):
    html = signed_in.get(reverse("home")).content.decode()
    for label in ("Home", "Search", "Folders", "Reports", "API docs"):
        assert f">{label}</a>" in html
    assert 'href="/api/docs/"' in html
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert "Signed in as <strong>ana</strong>" in html


def test_home_lists_recent_and_most_viewed_without_deleted_or_restricted(signed_in, catalog_data, ana):
    services.asset_view_record(
        asset_id=catalog_data["dashboard"].pk, user_id=ana.pk, viewed_at=catalog_data["ledger"].created_at
    )
    gone = services.asset_create(actor=ana, kind="dataset", name="Old extract", owner=ana)
    services.asset_delete(asset=gone, actor=ana)

    response = signed_in.get(reverse("home"))

    recent = [a.name for a in response.context["recently_updated"]]
    assert recent[0] == "Claims team"  # the newest change comes first
    assert "Claims ledger" in recent
    assert "Old extract" not in recent
    assert "Payroll ledger" not in recent
    assert [a.name for a in response.context["most_viewed"]] == ["Claims ledger overview"]
    assert "Payroll ledger" not in response.content.decode()


def test_search_shows_ranked_results_and_facets_of_visible_assets_only(signed_in, catalog_data):
    response = signed_in.get(reverse("search"), {"q": "ledger"})

    assert response.status_code == 200
    html = response.content.decode()
    assert {a.name for a in response.context["page"].object_list} == {"Claims ledger", "Claims ledger overview"}
    assert "2 results for “ledger”" in html
    facets = {group.name: {v.label: v.count for v in group.values} for group in response.context["facets"]}
    assert facets["kind"] == {"Dataset": 1, "Dashboard": 1}
    assert facets["owner"] == {"ana": 2}
    assert facets["business_unit"] == {"Healthcare": 1}
    assert facets["tag"] == {"claims": 1, "gold": 1}
    for hidden in ("Payroll", "Treasury", "fiona", "payroll-secret"):
        assert hidden not in html


def test_a_facet_link_filters_and_an_htmx_request_gets_only_the_results(signed_in, catalog_data):
    page = signed_in.get(reverse("search"), {"q": "ledger"})
    kind_link = next(
        v.url for g in page.context["facets"] if g.name == "kind" for v in g.values if v.label == "Dataset"
    )
    assert kind_link == "?q=ledger&kind=dataset"

    response = signed_in.get(reverse("search") + kind_link, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert not html.lstrip().startswith("<!doctype")
    assert html.lstrip().startswith('<div id="search-results"')
    assert [a.name for a in response.context["page"].object_list] == ["Claims ledger"]
    assert "HX-Request" in response["Vary"]
    assert "Kind: Dataset" in html  # the active filter, with a link to remove it

    full = signed_in.get(reverse("search") + kind_link)
    assert full.content.decode().lstrip().lower().startswith("<!doctype html>")


def test_search_without_words_or_without_results_explains_what_to_do(signed_in, catalog_data):
    empty = signed_in.get(reverse("search")).content.decode()
    assert "Type one or more words to search" in empty

    symbols = signed_in.get(reverse("search"), {"q": "%%%"}).content.decode()
    assert "has no letters or digits to search for" in symbols

    none = signed_in.get(reverse("search"), {"q": "zebra"})
    assert none.status_code == 200
    assert "Nothing you may see matches “zebra”" in none.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "ledger", "kind": "spaceship"}, "Kind: Select a valid choice. spaceship is not one of"),
        ({"q": "ledger", "owner": "nobody"}, "Owner: Select a valid choice"),
        ({"q": "ledger", "business_unit": "no-such-unit"}, "Select a valid choice"),
        ({"q": "ledger", "tag": "x" * 300}, "Select a valid choice"),
        ({"q": "ledger", "folder": "99999999999999999999999"}, "Select a valid choice"),
        ({"q": "ledger", "created_after": "yesterday"}, "Enter a valid date/time"),
        ({"q": "ledger", "owner": "a\x00b"}, "cannot be searched for"),
        ({"q": "x" * 501}, "The search is too long"),
    ],
)
def test_bad_search_input_is_a_message_not_a_500(signed_in, catalog_data, params, message):
    response = signed_in.get(reverse("search"), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html


def test_search_tolerates_odd_queries_and_pages(signed_in, catalog_data):
    for params in ({"q": "ledger", "page": "abc"}, {"q": "ledger", "page": "999"}, {"q": "a:b & !c | d"}, {"q": "é_ü"}):
        assert signed_in.get(reverse("search"), params).status_code == 200, params


def test_asset_detail_shows_overview_columns_folders_and_history(signed_in, catalog_data, ana):
    ledger = catalog_data["ledger"]
    services.asset_update(asset=ledger, actor=ana, name="Claims ledger v2", environment="prod")

    response = signed_in.get(reverse("asset-detail", args=[ledger.pk]))

    html = response.content.decode()
    for text in ("Dataset", "Healthcare", "gold", "claim_id", "numeric", "Claims team", 'href="#history"'):
        assert text in html
    latest = response.context["history"][0]
    assert latest.actor == "ana"
    assert latest.changes["name"] == {"before": "Claims ledger", "after": "Claims ledger v2"}
    assert '<td class="changes__before">Claims ledger</td>' in html
    assert '<td class="changes__after">Claims ledger v2</td>' in html
    assert '<td class="changes__after">Production</td>' in html


def test_opening_an_asset_records_a_view(signed_in, catalog_data, django_capture_on_commit_callbacks):
    ledger = catalog_data["ledger"]
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.get(reverse("asset-detail", args=[ledger.pk]))
    ledger.refresh_from_db()
    assert ledger.view_count == 1
    assert ledger.last_viewed_at is not None


def test_restricted_and_missing_assets_are_the_404_page(signed_in, catalog_data):
    for url in (
        reverse("asset-detail", args=[catalog_data["secret"].pk]),
        reverse("asset-detail", args=[10**9]),
        reverse("folder-detail", args=[catalog_data["secret"].pk]),
        "/assets/not-a-number/",
    ):
        response = signed_in.get(url)
        assert response.status_code == 404, url
        assert "There is nothing here, or it is something you may not see" in response.content.decode()
    assert Asset.objects.get(pk=catalog_data["secret"].pk).view_count == 0


def test_a_grant_makes_the_restricted_asset_visible(client, catalog_data, django_user_model):
    auditor = django_user_model.objects.create_user(username="audrey", password=PASSWORD)
    auditor.groups.add(catalog_data["auditors"])
    client.force_login(auditor)

    assert client.get(reverse("asset-detail", args=[catalog_data["secret"].pk])).status_code == 200
    results = client.get(reverse("search"), {"q": "payroll"}).context["page"].object_list
    assert [a.name for a in results] == ["Payroll ledger"]


def test_folder_browser_shows_roots_children_and_breadcrumbs(signed_in, catalog_data):
    roots = signed_in.get(reverse("folders"))
    assert [a.name for a in roots.context["folders"]] == ["Shared"]

    child = signed_in.get(reverse("folder-detail", args=[catalog_data["child"].pk]))
    assert [a.name for a in child.context["path"]] == ["Shared"]
    assert [a.name for a in child.context["page"].object_list] == ["Claims ledger"]
    assert f'href="{reverse("folder-detail", args=[catalog_data["root"].pk])}">Shared</a>' in child.content.decode()

    not_a_folder = signed_in.get(reverse("folder-detail", args=[catalog_data["ledger"].pk]))
    assert not_a_folder.status_code == 302
    assert not_a_folder["Location"] == reverse("asset-detail", args=[catalog_data["ledger"].pk])


def _chart_data(html: str, name: str) -> dict:
    start = html.index(f'<script id="chart-data-{name}" type="application/json">') + len(
        f'<script id="chart-data-{name}" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_reports_page_embeds_chart_data_of_visible_assets_and_csv_links(signed_in, catalog_data):
    response = signed_in.get(reverse("reports"))

    html = response.content.decode()
    by_kind = _chart_data(html, "by-kind")
    assert dict(zip(by_kind["labels"], by_kind["counts"], strict=True)) == {"Folder": 2, "Dashboard": 1, "Dataset": 1}
    assert _chart_data(html, "by-owner") == {
        "title": "Assets by owner",
        "label": "assets",
        "labels": ["ana"],
        "counts": [4],
    }
    assert "Treasury" not in _chart_data(html, "by-business-unit")["labels"]
    assert html.count("<canvas") == 3
    assert 'href="/api/v1/reports/by-kind/?format=csv"' in html
    assert 'href="/api/v1/reports/stale/?format=csv&amp;days=90"' in html
    assert 'href="/api/v1/reports/never-viewed/?format=csv"' in html
    assert "Assets never viewed" in html
    assert "Payroll ledger" not in html


def test_stale_report_uses_the_days_field(signed_in, catalog_data):
    response = signed_in.get(reverse("reports"), {"days": "0"})
    assert response.status_code == 200
    assert "Assets not updated for 0 days" in response.content.decode()
    assert {row.name for row in response.context["stale_rows"]} == {
        "Claims ledger",
        "Claims ledger overview",
        "Shared",
        "Claims team",
    }


@pytest.mark.parametrize("days", ["abc", "-5", "99999999", ""])
def test_bad_stale_days_is_a_message_not_a_500(signed_in, catalog_data, days):
    response = signed_in.get(reverse("reports"), {"days": days})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()


def test_a_search_matching_more_than_the_cap_says_so(signed_in, catalog_data, monkeypatch):
    from catalog import selectors

    monkeypatch.setattr(selectors, "SEARCH_EXACT_LIMIT", 1)
    html = signed_in.get(reverse("search"), {"q": "ledger"}).content.decode()
    assert "1+ result for “ledger”" in html and "most recently updated" in html
