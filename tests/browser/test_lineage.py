from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from access.services import grant_set
from catalog import services as catalog
from catalog.tests.factories import BusinessUnitFactory, CustomerFactory, DomainFactory
from lineage.models import Edge, Release
from lineage.services import edge_upsert

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

IDLE = "() => window.cartographLineage !== undefined && window.cartographLineage.idle()"
DRAWN = """() => window.cartographLineage.cy.nodes().map((node) => ({
  id: node.id(), label: node.data("label"), classes: node.classes(),
}))"""


@pytest.fixture
def bi(django_user_model):
    """Warehouse → Sales → a reference analysis → its template → Acme's and Globex's dashboards, all in the BI domain
    that olga's group owns; Globex's dataset lacks a column the template needs."""
    admin = django_user_model.objects.create_user(username="admin", password=PASSWORD, is_staff=True)
    olga = django_user_model.objects.create_user(username="olga", password=PASSWORD)
    group = Group.objects.create(name="bi")
    olga.groups.add(group)
    domain = DomainFactory(name="BI", slug="bi", owner_group=group)
    health = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    acme = CustomerFactory(name="Acme", slug="acme", business_unit=health)
    globex = CustomerFactory(name="Globex", slug="globex", business_unit=health)
    columns = [{"name": "region", "data_type": "varchar"}, {"name": "amount", "data_type": "numeric"}]

    def asset(kind, name, **fields):
        return catalog.asset_create(actor=admin, kind=kind, name=name, domain=domain, **fields)

    a = {
        "source": asset("data_source", "Warehouse"),
        "sales": asset("dataset", "Sales", columns=columns),
        "analysis": asset("analysis", "Sales reference", owner=olga, version=1, attributes={"is_reference": True}),
        "template": asset("template", "Sales template v1", version=1),
        "acme_sales": asset("dataset", "Acme sales", customer=acme, columns=columns),
        "globex_sales": asset("dataset", "Globex sales", customer=globex, columns=columns[:1]),
        "acme_dash": asset("dashboard", "Acme sales dashboard", customer=acme, owner=olga),
        "globex_dash": asset("dashboard", "Globex sales dashboard", customer=globex),
        "acme_visual": asset("visual", "Revenue table", customer=acme),
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
        ("acme_dash", "acme_visual", "contains"),
    ]:
        edge_upsert(source=a[source], target=a[target], kind=kind, actor=admin)
    return {"admin": admin, "olga": olga, "domain": domain, "assets": a}


def drawn(page: Page) -> dict[str, dict]:
    """The nodes Cytoscape draws, by the first line of their label."""
    return {node["label"].split("\n")[0]: node for node in page.evaluate(DRAWN)}


def click_node(page: Page, node_id: str) -> None:
    """Clicks the node where Cytoscape drew it, as a person would."""
    graph = page.locator("#lineage-graph")
    graph.scroll_into_view_if_needed()
    # Cytoscape learns where its canvas moved from the scroll event, which comes with the next frames
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    box = graph.bounding_box()
    position = page.evaluate("(id) => window.cartographLineage.cy.getElementById(id).renderedPosition()", node_id)
    page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])


def pointer(asset) -> str:
    return Edge.objects.get(target=asset, kind="created_from", valid_to__isnull=True).source.name


def test_expand_a_dashboards_lineage_upstream_until_its_data_source(page: Page, sign_in, bi):
    a = bi["assets"]
    sign_in("olga")
    page.goto(f"/assets/{a['acme_dash'].pk}/lineage/")
    page.wait_for_function(IDLE)

    # one hop each way: the template it is made from, its dataset, and the visual it contains
    nodes = drawn(page)
    assert set(nodes) == {"Acme sales dashboard", "Sales template v1", "Acme sales", "Revenue table"}
    assert "root" in nodes["Acme sales dashboard"]["classes"]
    assert "◀ 2" in nodes["Sales template v1"]["label"]  # the analysis and the dataset behind it are not shown yet
    expect(page.get_by_role("status").filter(has_text="3 assets one step from Acme sales dashboard")).to_be_visible()

    # clicking upstream nodes loads what lies further upstream, until the data source is there
    for _ in range(4):
        if "Warehouse" in drawn(page):
            break
        upstream = page.evaluate(
            """() => {
              const lineage = window.cartographLineage;
              const node = [...lineage.state.nodes.values()].find((n) =>
                n.direction === "upstream" && !n.restricted && !lineage.state.pinned.has(n.id));
              return node ? node.id : null;
            }"""
        )
        assert upstream is not None, drawn(page)
        click_node(page, upstream)
        page.wait_for_function(IDLE)
    assert "Warehouse" in drawn(page)

    # the text alternative says the same, and selecting there fills the side panel
    page.get_by_text("The graph as text").click()
    table = page.locator("[data-lineage-nodes]")
    expect(table.get_by_role("row", name=re.compile(r"^Warehouse Data source"))).to_be_visible()
    table.get_by_role("button", name="Select Warehouse").click()
    side = page.get_by_role("complementary", name="Warehouse")
    expect(side.get_by_text("Data source")).to_be_visible()
    expect(side.get_by_role("link", name="Open the page of Warehouse")).to_have_attribute(
        "href", f"/assets/{a['source'].pk}/"
    )

    # a path between two chosen assets is highlighted
    page.get_by_label("Path from").select_option(label="Warehouse (Data source)")
    page.get_by_label("to", exact=True).select_option(label="Acme sales dashboard (Dashboard)")
    page.get_by_role("button", name="Highlight path").click()
    expect(
        page.get_by_role("status").filter(has_text="Path, downstream: Warehouse → Acme sales → Acme sales dashboard")
    ).to_be_visible()
    assert page.evaluate("() => window.cartographLineage.cy.edges('.on-path').length") == 2

    # the link filter and the as-of date load the graph again from the dashboard
    page.get_by_label("created from").uncheck()
    page.wait_for_function(IDLE)
    assert set(drawn(page)) == {"Acme sales dashboard", "Acme sales", "Revenue table"}
    page.get_by_label("As of date").fill("2020-01-01")
    page.get_by_role("button", name="Show lineage as of this date").click()
    page.wait_for_function(IDLE)
    assert set(drawn(page)) == {"Acme sales dashboard"}  # nothing was linked yet then
    expect(page.get_by_role("status").filter(has_text="as of 2020-01-01")).to_be_visible()


def test_release_dry_run_confirm_and_roll_back(page: Page, sign_in, bi):
    a = bi["assets"]
    sign_in("olga")
    page.goto(f"/assets/{a['analysis'].pk}/")
    page.get_by_role("link", name="Release new version").click()
    page.get_by_label("What changed in this version").fill("Adds a margin column")

    # the dry run lists who would change and the dataset problem, and changes nothing
    page.get_by_role("button", name="Preview changes").click()
    preview = page.get_by_role("region", name="What this release would change")
    expect(preview.locator("[data-release-customers]")).to_have_text("Acme, Globex")
    expect(preview.get_by_role("row", name=re.compile("Globex sales dashboard"))).to_contain_text(
        "lacks columns: amount"
    )
    force = page.get_by_label(re.compile("Release anyway"))
    expect(force).to_be_visible()
    assert Release.objects.count() == 0

    # confirming without force is refused on the form
    page.get_by_role("button", name="Confirm release").click()
    expect(page.get_by_role("alert")).to_contain_text("fix them or release with force")
    assert Release.objects.count() == 0

    # forced, the release repoints both customer dashboards to the new template
    page.get_by_label(re.compile("Release anyway")).check()
    page.get_by_role("button", name="Confirm release").click()
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Release \d+ of Sales reference$"))).to_be_visible()
    assets = page.locator("[data-release-assets]")
    for name in ("Acme sales dashboard", "Globex sales dashboard"):
        expect(assets.get_by_role("row", name=re.compile(name))).to_contain_text("Sales reference template v2")
    assert pointer(a["acme_dash"]) == pointer(a["globex_dash"]) == "Sales reference template v2"

    # rolling back points them at the previous template again
    page.get_by_role("button", name="Roll back").click()
    expect(page.locator("[data-release-status]")).to_have_text("Rolled back")
    for name in ("Acme sales dashboard", "Globex sales dashboard"):
        expect(assets.get_by_role("row", name=re.compile(name))).to_contain_text("Sales template v1")
    expect(page.get_by_role("button", name="Roll back")).to_have_count(0)
    assert pointer(a["acme_dash"]) == pointer(a["globex_dash"]) == "Sales template v1"
    assert Release.objects.get().status == "rolled_back"


def test_a_hub_with_hundreds_of_dashboards_is_drawn_grouped(page: Page, sign_in, bi):
    admin, domain, source = bi["admin"], bi["domain"], bi["assets"]["source"]
    hub = catalog.asset_create(actor=admin, kind="dataset", name="Claims hub", domain=domain)
    edge_upsert(source=source, target=hub, kind="reads_from", actor=admin)
    for i in range(312):
        dashboard = catalog.asset_create(actor=admin, kind="dashboard", name=f"Claims board {i:03}", domain=domain)
        edge_upsert(source=hub, target=dashboard, kind="uses_dataset", actor=admin)
    for i in range(3):
        analysis = catalog.asset_create(actor=admin, kind="analysis", name=f"Claims study {i}", domain=domain)
        edge_upsert(source=hub, target=analysis, kind="uses_dataset", actor=admin)
    sign_in("olga")

    started = time.monotonic()
    page.goto(f"/assets/{hub.pk}/lineage/")
    page.wait_for_function(IDLE)
    elapsed = time.monotonic() - started

    nodes = drawn(page)
    assert "group" in nodes["312 dashboards"]["classes"]
    assert {"Claims hub", "Warehouse", "Claims study 0", "Claims study 1", "Claims study 2"} <= set(nodes)
    assert page.evaluate("() => window.cartographLineage.cy.elements().length") <= 60
    assert elapsed < 10, f"the hub took {elapsed:.1f}s to draw"

    # the group lists its members; one can be pulled out into the graph
    click_node(page, nodes["312 dashboards"]["id"])
    side = page.get_by_role("complementary", name="312 dashboards")
    expect(side.locator("[data-lineage-members] li")).to_have_count(312)
    side.get_by_label("Filter the list").fill("board 007")
    expect(side.locator("[data-lineage-members] li:visible")).to_have_count(1)
    side.get_by_role("button", name="Show Claims board 007 in the graph").click()
    expect(page.get_by_role("complementary", name="Claims board 007")).to_be_visible()
    nodes = drawn(page)
    assert "Claims board 007" in nodes and "311 dashboards" in nodes
    assert page.evaluate("() => window.cartographLineage.cy.elements().length") <= 60


def test_a_restricted_asset_is_a_placeholder_without_its_name(page: Page, sign_in, django_user_model, bi):
    admin, domain = bi["admin"], bi["domain"]
    vic = django_user_model.objects.create_user(username="vic", password=PASSWORD)
    viewers = Group.objects.create(name="viewers")
    vic.groups.add(viewers)
    grant_set(group=viewers, permission="view", domain=domain, actor=admin)
    private = DomainFactory(name="Private", slug="private")
    secret = catalog.asset_create(actor=admin, kind="dataset", name="Secret salaries", domain=private)
    board = catalog.asset_create(actor=admin, kind="dashboard", name="Team costs", domain=domain)
    edge_upsert(source=secret, target=board, kind="uses_dataset", actor=admin)
    edge_upsert(source=bi["assets"]["source"], target=secret, kind="reads_from", actor=admin)
    sign_in("vic")

    page.goto(f"/assets/{board.pk}/")
    page.wait_for_function(IDLE)

    nodes = drawn(page)
    assert set(nodes) == {"Team costs", "Restricted asset"}
    placeholder = nodes["Restricted asset"]
    assert "restricted" in placeholder["classes"]
    assert placeholder["id"].startswith("restricted-")
    assert "Secret salaries" not in page.evaluate("() => JSON.stringify(window.cartographLineage.cy.json())")
    expect(page.get_by_text("Secret salaries")).to_have_count(0)

    # selecting it explains why, and offers nothing to expand
    click_node(page, placeholder["id"])
    side = page.get_by_role("complementary", name="Restricted asset")
    expect(side).to_contain_text("You may not see this asset")
    expect(side.get_by_role("button")).to_have_count(0)
    page.wait_for_function(IDLE)
    assert set(drawn(page)) == {"Team costs", "Restricted asset"}
    expect(page.get_by_text("Secret salaries")).to_have_count(0)
