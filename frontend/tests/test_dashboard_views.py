"""Dashboard visuals as tables, a dataset's Data section, and refreshes from the web UI (Django test client)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from access.services import grant_set
from catalog import datasets
from catalog import services as catalog
from catalog.models import RefreshRun
from lineage.services import edge_end, edge_upsert

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

SALES_CSV = b"""region,dept,amount,margin
North,claims,1234.5,0.1
North,sales,-20.25,0.2
South,claims,1000000,0.3
South,sales,3,0.4
,claims,7,0.5
"""
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def board(django_user_model, media, django_capture_on_commit_callbacks):
    """A sales dataset (an uploaded CSV, refreshed) with a table and a pivot visual on a dashboard.

    Nora (north team) sees the dashboard and its visuals through a grant but only the North rows; vic views the
    dataset without edit rights; otto sees nothing.
    """
    admin = django_user_model.objects.create_user(username="admin", password=PASSWORD, is_staff=True)
    north = Group.objects.create(name="north-team")
    viewers = Group.objects.create(name="viewers")
    nora = django_user_model.objects.create_user(username="nora", password=PASSWORD)
    nora.groups.add(north, viewers)
    vic = django_user_model.objects.create_user(username="vic", password=PASSWORD)
    vic.groups.add(viewers)
    otto = django_user_model.objects.create_user(username="otto", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        sales = datasets.dataset_create(
            actor=admin, name="Sales", upload=SimpleUploadedFile("sales.csv", SALES_CSV), owner=admin
        )
    table = datasets.visual_save(
        actor=admin,
        dataset=sales,
        name="Amount by region",
        owner=admin,
        spec={
            "type": "table",
            "rows": ["region"],
            "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}],
            "totals": {"rows": True, "grand": True},
        },
    )
    pivot = datasets.visual_save(
        actor=admin,
        dataset=sales,
        name="Amount by region and dept",
        owner=admin,
        spec={
            "type": "pivot",
            "rows": ["region"],
            "columns": ["dept"],
            "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}],
            "totals": {"rows": True, "columns": True, "grand": True},
        },
    )
    dashboard = catalog.asset_create(actor=admin, kind="dashboard", name="Sales dashboard", owner=admin)
    for visual in (table, pivot):
        edge_upsert(source=dashboard, target=visual.asset, kind="contains", actor=admin)
    for asset in (dashboard, table.asset, pivot.asset, sales.asset):
        grant_set(group=viewers, permission="view", asset=asset, actor=admin)
    datasets.row_rule_create(dataset=sales, column="region", group=north, allowed_values=["North"])
    return {
        "admin": admin,
        "nora": nora,
        "vic": vic,
        "otto": otto,
        "sales": sales,
        "table": table,
        "pivot": pivot,
        "dashboard": dashboard,
    }


def fragment(client, visual):
    response = client.get(reverse("visual-fragment", args=[visual.asset_id]), **HTMX)
    assert response.status_code == 200, response.content
    return response.content.decode()


def cells(html: str) -> list[tuple[str, str]]:
    """(data-key, text) of every value cell."""
    return re.findall(r'<td[^>]* data-key="([^"]*)"[^>]*>([^<]*)</td>', html)


def test_dashboard_page_loads_each_contained_visual_on_its_own(client, board):
    client.force_login(board["admin"])
    html = client.get(reverse("asset-detail", args=[board["dashboard"].pk])).content.decode()
    assert 'id="visuals"' in html and 'href="#visuals"' in html
    for visual in (board["table"], board["pivot"]):
        url = reverse("visual-fragment", args=[visual.asset_id])
        assert f'hx-get="{url}" hx-trigger="load"' in html
    assert "frontend/visuals.js" in html
    # a visual's own page shows the visual itself
    own = client.get(reverse("asset-detail", args=[board["pivot"].asset_id])).content.decode()
    assert reverse("visual-fragment", args=[board["pivot"].asset_id]) in own
    assert reverse("visual-fragment", args=[board["table"].asset_id]) not in own


def test_table_visual_has_formatted_numbers_keys_and_a_total_row(client, board):
    client.force_login(board["admin"])
    html = fragment(client, board["table"])
    assert '<table class="visual__table visual__table--table"' in html
    assert '<button type="button" class="visual__sort">Amount' in html
    assert cells(html) == [
        ("{&quot;m&quot;:&quot;Amount&quot;,&quot;d&quot;:[[&quot;region&quot;,&quot;North&quot;]]}", "1,214.25"),
        ("{&quot;m&quot;:&quot;Amount&quot;,&quot;d&quot;:[[&quot;region&quot;,&quot;South&quot;]]}", "1,000,003.00"),
        ("{&quot;m&quot;:&quot;Amount&quot;,&quot;d&quot;:[[&quot;region&quot;,null]]}", "7.00"),
        ("{&quot;m&quot;:&quot;Amount&quot;,&quot;d&quot;:[],&quot;t&quot;:[&quot;region&quot;]}", "1,001,224.25"),
    ]
    # the NULL region is "(blank)", and the header cells carry the dimension values as JSON
    assert 'data-dimension="region" data-value="null">(blank)</th>' in html
    assert 'data-dimension="region" data-value="&quot;North&quot;">North</th>' in html
    assert '<tfoot>\n              <tr class="is-total"><th scope="row" class="is-total">Total</th>' in html
    assert "Restricted" not in html


def test_pivot_visual_has_column_headers_totals_and_negative_numbers(client, board):
    client.force_login(board["admin"])
    html = fragment(client, board["pivot"])
    assert 'visual__table--pivot" data-sortable-visual data-lead="1"' in html
    assert '<th class="visual__corner">dept</th>' in html
    assert 'data-dimension="dept" data-value="&quot;claims&quot;">claims</th>' in html
    assert '<th scope="col" class="is-total">Total</th>' in html  # one column dimension, one measure: no span
    texts = [text for _, text in cells(html)]
    # North: claims, sales, total; South; (blank) has no sales; then the total row
    assert texts[:3] == ["1,234.50", "-20.25", "1,214.25"]
    assert 'class="is-number is-negative"' in html
    assert '<td class="is-number is-missing"></td>' in html  # (blank) region has no sales
    assert texts[-1] == "1,001,224.25"
    assert 'class="is-number is-total is-grand"' in html


def test_a_restricted_reader_sees_only_their_rows_in_the_pivot(client, board):
    client.force_login(board["nora"])
    html = fragment(client, board["pivot"])
    assert "<strong>Restricted:</strong> you see a filtered view" in html
    assert ">North</th>" in html and ">South</th>" not in html and "1,000,003" not in html
    assert [text for _, text in cells(html)][-1] == "1,214.25"  # the grand total adds up only the North rows


def test_a_failing_visual_is_a_message_in_its_place(client, board, django_user_model):
    # given a visual on a dataset whose first refresh has not run, and one that reads a column hidden from nora
    admin = board["admin"]
    waiting = datasets.dataset_create(  # the on-commit refresh is never run here
        actor=admin, name="Waiting", upload=SimpleUploadedFile("w.csv", b"a,b\n1,2\n"), owner=admin
    )
    waiting.asset.columns.create(name="a", data_type="BIGINT", position=0)
    early = datasets.visual_save(
        actor=admin,
        dataset=waiting,
        name="Too early",
        owner=admin,
        spec={"type": "table", "measures": [{"agg": "count"}]},
    )
    client.force_login(admin)
    html = fragment(client, early)
    assert "This visual cannot be shown." in html and "no data yet" in html
    assert "<table" not in html

    datasets.column_rule_create(dataset=board["sales"], column="amount", group=Group.objects.get(name="north-team"))
    client.force_login(board["nora"])
    html = fragment(client, board["table"])
    assert "This visual cannot be shown." in html and "hidden" in html
    assert "1,214" not in html


def test_visuals_the_reader_may_not_see_are_left_out_and_404(client, board):
    # given a third visual that only staff see, and the pivot taken off the dashboard
    admin = board["admin"]
    secret = datasets.visual_save(
        actor=admin,
        dataset=board["sales"],
        name="Secret margins",
        owner=admin,
        spec={"type": "table", "rows": ["dept"], "measures": [{"field": "margin", "agg": "avg"}]},
    )
    edge_upsert(source=board["dashboard"], target=secret.asset, kind="contains", actor=admin)
    edge = board["dashboard"].outgoing_edges.get(target=board["pivot"].asset)
    edge_end(edge=edge, actor=admin)

    client.force_login(board["vic"])
    html = client.get(reverse("asset-detail", args=[board["dashboard"].pk])).content.decode()
    assert reverse("visual-fragment", args=[board["table"].asset_id]) in html
    assert reverse("visual-fragment", args=[board["pivot"].asset_id]) not in html  # no longer contained
    assert "Secret margins" not in html
    assert 'Visuals <span class="count">(1)</span>' in html
    assert client.get(reverse("visual-fragment", args=[secret.asset_id]), **HTMX).status_code == 404
    client.force_login(board["otto"])
    assert client.get(reverse("visual-fragment", args=[board["table"].asset_id])).status_code == 404
    # an asset without a spec is a 404 too
    client.force_login(admin)
    assert client.get(reverse("visual-fragment", args=[board["dashboard"].pk])).status_code == 404


def test_dataset_page_shows_settings_snapshot_history_and_a_preview(client, board):
    client.force_login(board["admin"])
    sales = board["sales"]
    html = client.get(reverse("asset-detail", args=[sales.asset_id])).content.decode()
    assert 'id="data"' in html and 'href="#data"' in html
    assert "An uploaded CSV file" in html and "SPICE (snapshot)" in html and "On demand only" in html
    assert "<dd data-snapshot-rows>5</dd>" in html
    history = html[html.index('id="refresh-history"') :]
    assert "Succeeded" in history and "Dataset created" in history
    assert '<td class="is-number">5</td>' in history
    assert ">Refresh now</button>" in html
    preview_url = reverse("asset-data-preview", args=[sales.asset_id])
    assert f'hx-get="{preview_url}" hx-trigger="load"' in html

    preview = client.get(preview_url, **HTMX).content.decode()
    assert '<th scope="col">region</th>' in preview and "<td>1234.5</td>" in preview
    assert '<td class="is-blank">(blank)</td>' in preview
    assert "The first 5 rows." in preview


def test_preview_applies_the_readers_rules_and_lists_hidden_columns(client, board):
    datasets.column_rule_create(dataset=board["sales"], column="margin", group=Group.objects.get(name="north-team"))
    client.force_login(board["nora"])
    html = client.get(reverse("asset-detail", args=[board["sales"].asset_id])).content.decode()
    assert "Refresh now" not in html  # nora may view, not edit
    preview = client.get(reverse("asset-data-preview", args=[board["sales"].asset_id]), **HTMX).content.decode()
    assert "Columns hidden from you: <code>margin</code>." in preview
    assert "South" not in preview and "The first 2 rows." in preview
    assert "<strong>Restricted:</strong>" in preview


def test_refresh_now_is_for_editors_only(client, board):
    url = reverse("asset-data-refresh", args=[board["sales"].asset_id])
    client.force_login(board["vic"])
    assert client.post(url, **HTMX).status_code == 403
    assert client.get(url).status_code == 405
    client.force_login(board["otto"])
    assert client.post(url).status_code == 404
    assert RefreshRun.objects.filter(dataset=board["sales"]).count() == 1


def test_refresh_now_shows_the_run_and_polls_until_it_is_over(client, board, django_capture_on_commit_callbacks):
    client.force_login(board["admin"])
    url = reverse("asset-data-refresh", args=[board["sales"].asset_id])

    # the worker has not picked it up yet: queued, and the fragment asks again every 2 seconds
    queued = client.post(url, **HTMX).content.decode()
    run = RefreshRun.objects.filter(dataset=board["sales"]).first()
    assert run.status == "queued"
    status_url = reverse("refresh-status", args=[run.pk])
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in queued
    assert 'data-refresh-status="queued"' in queued and 'aria-current="step">Queued</li>' in queued
    # the page shows it too, with the polling, while it is queued
    page = client.get(reverse("asset-detail", args=[board["sales"].asset_id])).content.decode()
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in page

    # once it ran, the status says so, stops asking, and redraws the snapshot and the history
    datasets.dataset_refresh_run(refresh_id=run.pk)
    done = client.get(status_url, **HTMX).content.decode()
    assert 'data-refresh-status="succeeded"' in done and "hx-trigger" not in done.split('id="dataset-current"')[0]
    assert "5 rows" in done
    assert '<div id="dataset-current" class="dataset-current" hx-swap-oob="true">' in done
    assert '<div id="refresh-history" hx-swap-oob="true">' in done

    # without HTMX the form posts and comes back to the page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith("#data")


def test_a_failed_refresh_shows_why(client, board):
    run = datasets.dataset_refresh_request(dataset=board["sales"], actor=board["admin"])
    board["sales"].upload.storage.delete(board["sales"].upload.name)  # the uploaded file is gone
    datasets.dataset_refresh_run(refresh_id=run.pk)
    client.force_login(board["vic"])
    html = client.get(reverse("refresh-status", args=[run.pk]), **HTMX).content.decode()
    assert 'data-refresh-status="failed"' in html and 'aria-current="step">Failed</li>' in html
    assert "The last good snapshot stays current." in html
    assert 'class="refresh-status__error">' in html
    client.force_login(board["otto"])
    assert client.get(reverse("refresh-status", args=[run.pk])).status_code == 404
