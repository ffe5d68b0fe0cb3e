from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from access.services import grant_set
from catalog import services as catalog
from catalog.models import Asset
from catalog.tests.factories import BusinessUnitFactory, CustomerFactory, DomainFactory
from lineage.models import Edge, Release
from lineage.services import edge_upsert, release_apply

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def bi(django_user_model):
    """Warehouse → datasets → a reference analysis → its template → Acme's and Globex's dashboards.

    Olga's group owns the BI domain (she may edit); vic may only view it; stan sees nothing. Globex's assets sit in a
    private domain that only staff see.
    """
    admin = django_user_model.objects.create_user(username="admin", password=PASSWORD, is_staff=True)
    olga = django_user_model.objects.create_user(username="olga", password=PASSWORD, email="olga@example.com")
    vic = django_user_model.objects.create_user(username="vic", password=PASSWORD)
    stan = django_user_model.objects.create_user(username="stan", password=PASSWORD)
    bi_group = Group.objects.create(name="bi")
    olga.groups.add(bi_group)
    viewers = Group.objects.create(name="viewers")
    vic.groups.add(viewers)
    domain = DomainFactory(name="BI", slug="bi", owner_group=bi_group)
    private = DomainFactory(name="Private", slug="private")
    grant_set(group=viewers, permission="view", domain=domain, actor=admin)
    health = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    acme = CustomerFactory(name="Acme", slug="acme", business_unit=health)
    globex = CustomerFactory(name="Globex", slug="globex", business_unit=health)
    columns = [{"name": "region", "data_type": "varchar"}, {"name": "amount", "data_type": "numeric"}]

    def asset(kind, name, **fields):
        fields.setdefault("domain", domain)
        return catalog.asset_create(actor=admin, kind=kind, name=name, **fields)

    a = {
        "source": asset("data_source", "Warehouse"),
        "sales": asset("dataset", "Sales", columns=columns),
        "analysis": asset("analysis", "Sales reference", owner=olga, version=1, attributes={"is_reference": True}),
        "template": asset("template", "Sales template v1", version=1),
        "acme_sales": asset("dataset", "Acme sales", customer=acme, columns=columns),
        "globex_sales": asset("dataset", "Globex sales", customer=globex, domain=private, columns=columns[:1]),
        "acme_dash": asset("dashboard", "Acme sales dashboard", customer=acme, owner=olga, business_unit=health),
        "globex_dash": asset("dashboard", "Globex sales dashboard", customer=globex, domain=private),
    }
    for source, target, kind in [
        ("source", "sales", "reads_from"),
        ("source", "acme_sales", "reads_from"),
        ("source", "globex_sales", "reads_from"),
        ("sales", "analysis", "uses_dataset"),
        ("analysis", "template", "template_of"),
        ("sales", "template", "uses_dataset"),
        ("template", "acme_dash", "created_from"),
        ("template", "globex_dash", "created_from"),
        ("acme_sales", "acme_dash", "uses_dataset"),
        ("globex_sales", "globex_dash", "uses_dataset"),
    ]:
        edge_upsert(source=a[source], target=a[target], kind=kind, actor=admin)
    return {"admin": admin, "olga": olga, "vic": vic, "stan": stan, "assets": a, "acme": acme, "globex": globex}


def pointer(asset):
    return Edge.objects.get(target=asset, kind="created_from", valid_to__isnull=True).source


def test_asset_page_has_the_lineage_explorer_and_editors_see_release_and_fork(client, bi):
    analysis = bi["assets"]["analysis"]
    client.force_login(bi["olga"])

    response = client.get(reverse("asset-detail", args=[analysis.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    config = json.loads(html.split('id="lineage-config" type="application/json">')[1].split("</script>")[0])
    assert config["root"] == str(analysis.pk)
    assert config["lineageUrl"] == "/api/v1/assets/{id}/lineage/"
    assert config["groupThreshold"] == 25
    assert 'src="/static/vendor/cytoscape.min.js"' in html and 'src="/static/frontend/lineage.js"' in html
    assert "<script>" not in html  # no inline script: only json_script data
    assert f'href="{reverse("release-create", args=[analysis.pk])}"' in html
    assert f'href="{reverse("fork-create", args=[analysis.pk])}"' in html


def test_viewers_see_no_release_or_fork_buttons(client, bi):
    analysis = bi["assets"]["analysis"]
    client.force_login(bi["vic"])
    for url in (reverse("asset-detail", args=[analysis.pk]), reverse("lineage-page", args=[analysis.pk])):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Release new version" not in html and "Fork for a customer" not in html


def test_lineage_page_shows_impact_provenance_and_releases(client, bi):
    a = bi["assets"]
    client.force_login(bi["olga"])

    source = client.get(reverse("lineage-page", args=[a["source"].pk]))

    assert source.status_code == 200
    impact = source.context["impact"]
    assert impact.total == 7 and impact.restricted == 2  # Globex's dataset and dashboard are private
    html = source.content.decode()
    assert "7 assets downstream of Warehouse, at any depth (2 of them you may not see)" in html
    assert f'href="/api/v1/assets/{a["source"].pk}/impact/?format=csv"' in html
    assert "olga@example.com" in html  # an owner to notify
    assert "Globex" not in html
    assert source.context["provenance"] is None

    release_apply(reference_analysis=a["analysis"], description="Margin column", actor=bi["admin"], force=True)
    analysis = client.get(reverse("lineage-page", args=[a["analysis"].pk]))
    rows = analysis.context["provenance"]["rows"]
    assert [(row.name, row.template_version, row.behind) for row in rows] == [
        ("Acme sales dashboard", 2, False),
        ("restricted asset", 2, False),
    ]
    html = analysis.content.decode()
    assert "Sales reference template v2" in html
    assert "Margin column" in html  # the release is listed
    template = client.get(reverse("lineage-page", args=[a["template"].pk]))
    assert template.context["analysis"] == a["analysis"]
    assert len(template.context["provenance"]["rows"]) == 2


def test_pages_of_assets_the_user_may_not_see_are_404(client, bi):
    a = bi["assets"]
    release = release_apply(reference_analysis=a["analysis"], description="v2", actor=bi["admin"], force=True)
    client.force_login(bi["stan"])
    for url in (
        reverse("lineage-page", args=[a["analysis"].pk]),
        reverse("release-create", args=[a["analysis"].pk]),
        reverse("fork-create", args=[a["analysis"].pk]),
        reverse("release-page", args=[release.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("release-page-rollback", args=[release.pk])).status_code == 404
    assert Release.objects.get(pk=release.pk).status == "applied"


def test_only_an_analysis_is_released_or_forked(client, bi):
    client.force_login(bi["olga"])
    dashboard = bi["assets"]["acme_dash"]
    assert client.get(reverse("release-create", args=[dashboard.pk])).status_code == 404
    assert client.get(reverse("fork-create", args=[dashboard.pk])).status_code == 404


def test_viewers_may_not_release_fork_or_roll_back(client, bi):
    a = bi["assets"]
    release = release_apply(reference_analysis=a["analysis"], description="v2", actor=bi["admin"], force=True)
    client.force_login(bi["vic"])

    assert client.get(reverse("release-create", args=[a["analysis"].pk])).status_code == 403
    posted = client.post(
        reverse("release-create", args=[a["analysis"].pk]),
        {"description": "Sneaky", "force": "on", "action": "confirm"},
    )
    assert posted.status_code == 403
    assert "You may not release or fork" in posted.content.decode()
    assert client.post(reverse("fork-create", args=[a["analysis"].pk]), {"customer": "acme"}).status_code == 403
    assert client.post(reverse("release-page-rollback", args=[release.pk])).status_code == 403
    # the release page is readable, without the roll back button
    page = client.get(reverse("release-page", args=[release.pk]))
    assert page.status_code == 200 and "Roll back" not in page.content.decode()
    assert Release.objects.count() == 1 and Release.objects.get().status == "applied"
    assert Asset.objects.get(pk=a["analysis"].pk).version == 2


def test_release_preview_changes_nothing_and_hides_what_the_user_may_not_see(client, bi):
    a = bi["assets"]
    client.force_login(bi["olga"])
    url = reverse("release-create", args=[a["analysis"].pk])
    form = client.get(url)
    assert form.status_code == 200 and 'name="csrfmiddlewaretoken"' in form.content.decode()
    edges = Edge.objects.count()

    preview = client.post(url, {"description": "Margin column", "action": "preview"})

    assert preview.status_code == 200
    html = preview.content.decode()
    assert preview.context["plan"].new_version == 2
    assert [row.name for row in preview.context["changes"]] == ["Acme sales dashboard", "Restricted asset"]
    assert preview.context["customers"] == ["Acme"]
    assert "Globex" not in html
    assert "dataset for &#x27;Sales&#x27; lacks columns: amount" in html  # the problem, without the asset's name
    assert 'name="force"' in html and "Confirm release" in html
    assert Edge.objects.count() == edges and Release.objects.count() == 0


def test_release_confirm_without_force_is_refused_with_a_message_then_forced_and_rolled_back(client, bi):
    a = bi["assets"]
    client.force_login(bi["olga"])
    url = reverse("release-create", args=[a["analysis"].pk])

    refused = client.post(url, {"description": "Margin column", "action": "confirm"})

    assert refused.status_code == 400
    assert "fix them or release with force" in refused.content.decode()
    assert Release.objects.count() == 0

    done = client.post(url, {"description": "Margin column", "force": "on", "action": "confirm"})

    release = Release.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("release-page", args=[release.pk])
    assert pointer(a["acme_dash"]).name == "Sales reference template v2"
    page = client.get(done["Location"])
    html = page.content.decode()
    assert "Released version 2 of Sales reference: 2 asset(s) now made from Sales reference template v2." in html
    rows = {row.name: row.template["name"] for row in page.context["rows"]}
    assert rows == {
        "Acme sales dashboard": "Sales reference template v2",
        "Restricted asset": "Sales reference template v2",
    }
    assert "Roll back" in html

    rolled = client.post(reverse("release-page-rollback", args=[release.pk]))

    assert rolled.status_code == 302
    assert pointer(a["acme_dash"]) == a["template"] and pointer(a["globex_dash"]) == a["template"]
    page = client.get(rolled["Location"])
    assert {row.template["name"] for row in page.context["rows"]} == {"Sales template v1"}
    assert "Rolled back release" in page.content.decode()
    again = client.post(reverse("release-page-rollback", args=[release.pk]))
    assert again.status_code == 409
    assert "was already rolled back" in again.content.decode()


def test_release_form_errors_are_shown_not_raised(client, bi):
    client.force_login(bi["olga"])
    url = reverse("release-create", args=[bi["assets"]["analysis"].pk])
    empty = client.post(url, {"description": "   ", "action": "confirm"})
    assert empty.status_code == 400
    assert "Say what changed in this release" in empty.content.decode()
    bad_action = client.post(url, {"description": "x", "action": "explode"})
    assert bad_action.status_code == 400
    assert Release.objects.count() == 0


def test_a_refused_rollback_explains_why(client, bi):
    a = bi["assets"]
    first = release_apply(reference_analysis=a["analysis"], description="v2", actor=bi["admin"], force=True)
    release_apply(reference_analysis=a["analysis"], description="v3", actor=bi["admin"], force=True)
    client.force_login(bi["olga"])
    response = client.post(reverse("release-page-rollback", args=[first.pk]))
    assert response.status_code == 409
    assert "roll that back first" in response.content.decode()
    assert client.get(reverse("release-page-rollback", args=[first.pk])).status_code == 405


def test_fork_preview_then_confirm_moves_the_customers_assets(client, bi):
    a = bi["assets"]
    client.force_login(bi["olga"])
    url = reverse("fork-create", args=[a["analysis"].pk])
    assert client.get(url).status_code == 200

    preview = client.post(url, {"customer": "acme", "action": "preview"})

    assert preview.status_code == 200
    assert [row.name for row in preview.context["repoint"]] == ["Acme sales dashboard"]
    assert "Confirm fork" in preview.content.decode()
    assert not Asset.objects.filter(customer=bi["acme"], kind="analysis").exists()

    done = client.post(url, {"customer": "acme", "name": "Sales for Acme", "action": "confirm"})

    fork = Asset.objects.get(customer=bi["acme"], kind="analysis")
    assert fork.name == "Sales for Acme"
    assert done.status_code == 302 and done["Location"] == reverse("lineage-page", args=[fork.pk])
    assert pointer(a["acme_dash"]).name == "Sales for Acme template v1"
    assert "Forked Sales reference for Acme" in client.get(done["Location"]).content.decode()

    twice = client.post(url, {"customer": "acme", "action": "confirm"})
    assert twice.status_code == 400
    assert "Acme already has a fork of this analysis" in twice.content.decode()


def test_fork_form_needs_a_customer(client, bi):
    client.force_login(bi["olga"])
    url = reverse("fork-create", args=[bi["assets"]["analysis"].pk])
    missing = client.post(url, {"action": "preview"})
    assert missing.status_code == 400
    assert "Choose the customer to fork the analysis for." in missing.content.decode()
    unknown = client.post(url, {"customer": "initech", "action": "preview"})
    assert unknown.status_code == 400
    assert "That customer does not exist" in unknown.content.decode()
