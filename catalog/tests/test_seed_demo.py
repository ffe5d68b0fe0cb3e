"""`manage.py seed_demo`: a complete demo organisation with its lineage, restricted for analysts, unchanged by a
second run."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from access.models import Grant, UserAttribute
from catalog.choices import AssetKind, AssetStatus, ChangeSource, Environment
from catalog.datasets import dataset_preview, visual_data
from catalog.history import asset_history
from catalog.management.commands.seed_demo import Seeder, sales_write, samples_write
from catalog.models import (
    Asset,
    AssetView,
    BusinessUnit,
    Column,
    ColumnRule,
    Customer,
    Dataset,
    FolderMembership,
    ProductLine,
    RefreshRun,
    RowRule,
    Snapshot,
    Visual,
)
from catalog.reports import report_run
from catalog.tasks import dataset_refresh_task
from catalog.visuals import cell_key
from lineage.choices import ALLOWED_KINDS, EdgeKind, Transformation
from lineage.models import ColumnEdge, Edge, Release
from lineage.selectors import edges_at, lineage_diff, lineage_subgraph, provenance

pytestmark = pytest.mark.django_db

# The products' columns are those of their sample data.
MESH_PRODUCTS = {
    "Customer": {"Customer_ID", "First_Name", "Last_Name", "Email", "Phone", "Date_Of_Birth", "Postcode"},
    "Claim": {"Claim_ID", "Cust_Nbr", "Policy_ID", "Claim_Amount", "Loss_Date", "Status"},
    "Policy": {"Policy_ID", "Customer_ID", "Product", "Premium", "Start_Date"},
    "Encounter": {"Encounter_ID", "Customer_ID", "Inbound_Email", "Inbound_Phone", "Encounter_Date"},
    "SalesOpportunity": {"Opportunity_ID", "Customer_ID", "Contact_Email", "Contact_Phone", "Stage", "Amount"},
}
SALES_COLUMNS = ["Category", "Segment", "Ship Mode", "Order Date", "Sales", "Profit"]


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seeds once for the module (a seed takes seconds) in a transaction that is rolled back afterwards, with its
    uploads and snapshots in a temporary folder.

    Each test still runs in its own savepoint inside it, so a test that writes (seeding again) leaves nothing behind.
    """
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def user(username: str):
    return get_user_model().objects.get(username=username)


def snapshot() -> dict[str, Any]:
    """What a rerun must leave exactly as it was."""
    return {
        "assets": list(
            Asset.objects.order_by("pk").values_list(
                "pk", "kind", "external_id", "name", "version", "status", "updated_at", "view_count", "last_viewed_at"
            )
        ),
        "columns": list(Column.objects.order_by("pk").values_list("pk", "name", "data_type", "updated_at")),
        "asset history": Asset.history.count(),
        "column history": Column.history.count(),
        "folder history": FolderMembership.history.count(),
        "memberships": FolderMembership.objects.count(),
        "views": AssetView.objects.count(),
        "grants": list(Grant.objects.order_by("pk").values_list("pk", "permission", "updated_at")),
        "users": list(get_user_model().objects.order_by("pk").values_list("pk", "password")),
        "group memberships": get_user_model().groups.through.objects.count(),
        "customers": Customer.objects.count(),
        "asset tags": Asset.tags.through.objects.count(),
        "edges": list(
            Edge.objects.order_by("pk").values_list(
                "pk", "source_id", "target_id", "kind", "valid_from", "valid_to", "release_id", "updated_at"
            )
        ),
        "edge history": Edge.history.count(),
        "column edges": list(
            ColumnEdge.objects.order_by("pk").values_list("pk", "source_id", "target_id", "valid_from", "updated_at")
        ),
        "releases": list(Release.objects.order_by("pk").values_list("pk", "changes", "status", "updated_at")),
        "datasets": list(
            Dataset.objects.order_by("pk").values_list("pk", "asset_id", "current_snapshot_id", "upload", "updated_at")
        ),
        "snapshots": list(Snapshot.objects.order_by("pk").values_list("pk", "path", "rows", "updated_at")),
        "refresh runs": list(RefreshRun.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        "visuals": list(Visual.objects.order_by("pk").values_list("pk", "asset_id", "spec", "updated_at")),
        "row rules": list(RowRule.objects.order_by("pk").values_list("pk", "allowed_values", "updated_at")),
        "column rules": list(ColumnRule.objects.order_by("pk").values_list("pk", "column", "group_id")),
        "user attributes": list(UserAttribute.objects.order_by("pk").values_list("pk", "name", "value")),
    }


def test_a_failing_seed_leaves_nothing_behind(monkeypatch, tmp_path):
    # given: a seed that breaks after every asset, membership and grant was written (runs before `seeded` is built)
    def fail(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Seeder, "seed_views", fail)
    before = snapshot()

    # when
    with pytest.raises(RuntimeError), override_settings(MEDIA_ROOT=tmp_path):
        seed()

    # then
    assert snapshot() == before
    assert not list(tmp_path.rglob("*.parquet"))  # nor the uploads and snapshots it wrote


def test_seed_creates_every_kind_and_the_organisation(seeded):
    output = seeded

    assert set(Asset.objects.values_list("kind", flat=True)) == set(AssetKind.values)
    assert set(BusinessUnit.objects.values_list("slug", flat=True)) == {"healthcare", "education", "commercial"}
    assert Customer.objects.count() >= 10
    per_unit = dict(Customer.objects.values_list("business_unit__slug").annotate(n=Count("pk")))
    assert set(per_unit) == {"healthcare", "education", "commercial"}
    assert ProductLine.objects.count() >= 3
    assert "seeding mesh products... 5" in output
    assert "admin / cartograph-admin" in output
    assert "ana / cartograph-demo" in output


def test_the_claims_owners_have_a_pending_request_from_the_analysts(seeded):
    from access.models import AccessRequest
    from access.selectors import access_request_list

    request = AccessRequest.objects.get()
    assert (request.requester.username, request.group.name, request.asset.name, request.status) == (
        "ana",
        "healthcare-analysts",
        "Claim",
        "pending",
    )
    claire = request.asset.domain.owner_group.user_set.get(username="claire")
    assert list(access_request_list(user=claire, box="inbox")) == [request]


def test_mesh_products_have_realistic_columns_and_owning_domains(seeded):

    products = Asset.objects.filter(kind=AssetKind.DATA_PRODUCT).select_related("domain")

    assert {p.name for p in products} == set(MESH_PRODUCTS)
    for product in products:
        assert MESH_PRODUCTS[product.name] <= set(product.columns.values_list("name", flat=True))
        assert product.domain is not None
        assert product.domain.owner_group is not None
    email = Column.objects.get(asset__name="Customer", name="Email")
    assert set(email.tags.values_list("slug", flat=True)) == {"pii"}
    assert email.asset.dataset.current_snapshot is not None  # the catalogued columns are those of its data


def test_bi_assets_record_where_they_came_from(seeded):

    references = Asset.objects.filter(kind=AssetKind.ANALYSIS, attributes__is_reference=True)
    templates = Asset.objects.filter(kind=AssetKind.TEMPLATE)
    dashboards = Asset.objects.filter(kind=AssetKind.DASHBOARD, attributes__has_key="source_template")

    assert references.exists()
    assert {t.attributes["source_analysis"] for t in templates} <= {a.external_id for a in references}
    assert {d.attributes["source_template"] for d in dashboards} <= {t.external_id for t in templates}
    assert Asset.objects.filter(kind=AssetKind.ANALYSIS, tags__slug="customer-fork").exists()
    assert set(Asset.objects.filter(kind=AssetKind.VISUAL).values_list("attributes__visual_type", flat=True)) >= {
        "table",
        "pivot",
    }
    dashboard = Asset.objects.filter(kind=AssetKind.DASHBOARD).first()
    assert dashboard.external_id.startswith("arn:aws:quicksight:eu-west-1:111122223333:dashboard/")


def test_customer_folders_nest_under_environment_folders(seeded):

    roots = {
        f.environment: f for f in Asset.objects.filter(kind=AssetKind.FOLDER, attributes__folder_type="environment")
    }
    customer_folders = Asset.objects.filter(kind=AssetKind.FOLDER, customer__isnull=False)

    assert set(roots) == set(Environment.values)
    assert customer_folders.count() >= Customer.objects.count()
    for folder in customer_folders:
        parent = FolderMembership.objects.get(asset=folder).folder
        assert parent == roots[folder.environment]
    placed = FolderMembership.objects.filter(folder__in=customer_folders, asset__kind=AssetKind.DASHBOARD)
    assert placed.exists()


def test_ana_sees_some_but_not_all_assets(seeded):
    admin, ana = user("admin"), user("ana")

    seen = Asset.objects.visible_to(ana)

    assert 0 < seen.count() < Asset.objects.visible_to(admin).count()
    assert seen.filter(kind=AssetKind.DATA_PRODUCT, name="Encounter").exists()
    assert not seen.filter(kind=AssetKind.DATA_PRODUCT, name="Claim").exists()
    assert not seen.filter(business_unit__slug="education").exists()


def test_only_the_demo_users_can_sign_in(seeded):

    assert user("admin").is_superuser and user("admin").is_staff
    assert user("admin").check_password("cartograph-admin")
    assert user("ana").check_password("cartograph-demo")
    assert not user("ana").is_staff
    others = get_user_model().objects.exclude(username__in=["admin", "ana"])
    assert others.exists()
    assert not any(u.has_usable_password() for u in others)


def test_second_run_changes_nothing(seeded):
    # given
    before = snapshot()
    counts = (Edge.objects.count(), Edge.history.count(), ColumnEdge.objects.count(), Release.objects.count())

    # when
    output = seed()

    # then
    assert snapshot() == before
    assert (Edge.objects.count(), Edge.history.count(), ColumnEdge.objects.count(), Release.objects.count()) == counts
    assert "0 assets created" in output
    assert "seeding lineage... 0 edges (0 ended), 0 column edges, 0 releases" in output
    assert "seeding data... 0 datasets, 0 snapshots (0 refresh runs), 0 visuals, 0 row rules" in output


def test_history_is_spread_over_months_and_people(seeded):

    dates = Asset.history.values_list("history_date", flat=True)
    actors = set(Asset.history.exclude(history_user=None).values_list("history_user__username", flat=True))
    changed_often = Asset.history.values("id").annotate(n=Count("history_id")).filter(n__gte=3)

    assert max(dates) - min(dates) > timedelta(days=180)
    assert len(actors) >= 5
    assert changed_often.count() >= 3
    # the seed writes as an import; only refreshes of the assets' data write as the system
    with_data = Dataset.objects.values("asset_id")
    assert set(Asset.history.exclude(id__in=with_data).values_list("history_source", flat=True)) == {
        ChangeSource.IMPORT
    }
    assert set(Asset.history.filter(id__in=with_data).values_list("history_source", flat=True)) == {
        ChangeSource.IMPORT,
        ChangeSource.SYSTEM,
    }
    assert Column.history.filter(history_type="~").exists()  # type changes


def test_history_tells_who_renamed_a_product_and_when(seeded):
    customer = Asset.objects.get(kind=AssetKind.DATA_PRODUCT, name="Customer")

    entries = asset_history(asset=customer)

    renames = [e for e in entries if e.entity == "asset" and "name" in e.changes and e.action == "updated"]
    assert [(r.actor, r.changes["name"]) for r in renames] == [("tom", {"before": "Customers", "after": "Customer"})]
    assert renames[0].at < customer.updated_at - timedelta(days=30)
    assert {e.actor for e in entries} >= {"maria", "tom"}


def test_reports_find_stale_and_never_viewed_assets(seeded):
    everything = Asset.objects.visible_to(user("admin"))

    stale = report_run(name="stale", queryset=everything, params={})
    never_viewed = report_run(name="never-viewed", queryset=everything, params={})

    assert stale.rows
    assert never_viewed.rows
    assert stale.total < everything.not_deleted().count()
    assert never_viewed.total < everything.not_deleted().count()
    assert AssetView.objects.values("asset").distinct().count() > everything.count() / 2


# --- lineage -----------------------------------------------------------------------------------------------------


def released() -> Release:
    return Release.objects.select_related("reference_analysis", "previous_template", "new_template").get()


def pointer(asset: Asset, *, as_of=None) -> Asset:
    """The template the asset was created from at `as_of` (now when None)."""
    return edges_at(as_of=as_of, kinds=[EdgeKind.CREATED_FROM]).select_related("source").get(target=asset).source


def test_seed_reports_lineage_counts(seeded):
    output = seeded

    edges, open_edges = Edge.objects.count(), Edge.objects.filter(valid_to__isnull=True).count()
    assert edges > 200 and 0 < edges - open_edges < 20
    assert (
        f"lineage: {edges} edges ({open_edges} open), {ColumnEdge.objects.count()} column edges, 1 releases" in output
    )


def test_every_edge_joins_asset_kinds_its_kind_allows(seeded):

    rows = Edge.objects.values_list("kind", "source__kind", "target__kind").distinct()

    assert {kind for kind, *_ in rows} == set(EdgeKind.values)
    for kind, source_kind, target_kind in rows:
        sources, targets = ALLOWED_KINDS[kind]
        assert source_kind in sources and target_kind in targets, (kind, source_kind, target_kind)


def test_every_live_customer_dashboard_and_analysis_is_created_from_exactly_one_template(seeded):
    dashboards = Asset.objects.filter(kind=AssetKind.DASHBOARD, customer__isnull=False, status=AssetStatus.ACTIVE)
    analyses = Asset.objects.filter(  # built by the BI team for a customer; forks and the analyst's sandbox aside
        kind=AssetKind.ANALYSIS, customer__isnull=False, environment=Environment.STAGING, attributes__is_reference=False
    )
    forks = Asset.objects.filter(incoming_edges__kind=EdgeKind.FORKED_FROM)

    open_pointers = dict(
        Edge.objects.filter(kind=EdgeKind.CREATED_FROM, valid_to__isnull=True)
        .values_list("target")
        .annotate(n=Count("id"))
    )

    assert dashboards.count() >= 15 and analyses.count() >= 10
    assert {a.name: open_pointers.get(a.pk) for a in [*dashboards, *analyses]} == {
        a.name: 1 for a in [*dashboards, *analyses]
    }
    # forks are the customers' own reference analyses: forked from the base, and their template makes the dashboards
    assert forks.count() == 3
    for fork in forks:
        assert fork.attributes["is_reference"] is True
        template = Asset.objects.get(incoming_edges__source=fork, incoming_edges__kind=EdgeKind.TEMPLATE_OF)
        assert Edge.objects.filter(
            source=template, kind=EdgeKind.CREATED_FROM, valid_to__isnull=True, target__customer=fork.customer
        ).exists()
    # retired dashboards keep their ended lineage and point at nothing now
    retired = Asset.objects.filter(kind=AssetKind.DASHBOARD, status__in=[AssetStatus.ARCHIVED, AssetStatus.DELETED])
    assert retired.count() == 2
    for dashboard in retired:
        assert not Edge.objects.filter(target=dashboard, valid_to__isnull=True).exists()
        assert Edge.objects.filter(target=dashboard, valid_to__isnull=False).exists()


def test_dashboard_attributes_name_the_template_lineage_points_at(seeded):
    dashboards = Asset.objects.filter(kind=AssetKind.DASHBOARD, status=AssetStatus.ACTIVE, customer__isnull=False)

    for dashboard in dashboards:
        assert dashboard.attributes["source_template"] == pointer(dashboard).external_id, dashboard.name


def test_upstream_lineage_of_a_customer_dashboard_reaches_its_data_source_and_visuals_below(seeded):
    dashboard = Asset.objects.get(kind=AssetKind.DASHBOARD, name="Tailspin Insurance Claims Insight")

    up = lineage_subgraph(root=dashboard.pk, direction="upstream", depth=20)
    down = lineage_subgraph(root=dashboard.pk, direction="downstream", depth=20)

    assert not up.truncated
    reached = set(Asset.objects.filter(pk__in=up.depth).values_list("kind", "name"))
    assert (AssetKind.DATA_SOURCE, "Insurance mesh output ports") in reached
    assert {(AssetKind.DATA_PRODUCT, name) for name in ("Claim", "Policy", "Customer")} <= reached
    assert (AssetKind.TEMPLATE, "Claims Insight template") in reached
    assert (AssetKind.ANALYSIS, "Claims Insight (reference)") in reached
    assert set(Asset.objects.filter(pk__in=down.depth).exclude(pk=dashboard.pk).values_list("kind", flat=True)) == {
        AssetKind.VISUAL
    }


def test_mesh_products_derive_from_each_other(seeded):
    derived = set(
        Edge.objects.filter(kind=EdgeKind.DERIVED_FROM, source__kind=AssetKind.DATA_PRODUCT).values_list(
            "source__name", "target__name"
        )
    )

    assert {("Customer", "Claim"), ("Policy", "Claim"), ("Customer", "Encounter"), ("Customer", "Policy")} <= derived


def test_column_lineage_runs_from_mesh_products_to_dataset_columns(seeded):
    into = ColumnEdge.objects.filter(
        target__asset__name="Customer 360", target__name="lifetime_premium", valid_to__isnull=True
    )

    assert list(into.values_list("source__asset__name", "source__name", "transformation", "subtype")) == [
        ("Policy", "Premium", Transformation.DIRECT, "AGGREGATION")
    ]
    assert set(ColumnEdge.objects.values_list("transformation", flat=True)) == set(Transformation.values)
    assert (
        ColumnEdge.objects.filter(source__asset__kind=AssetKind.DATA_PRODUCT, target__asset__kind="dataset").count()
        >= 10
    )
    assert not ColumnEdge.objects.filter(valid_from__gt=timezone.now() - timedelta(days=100)).exists()


def test_lineage_history_is_spread_over_months_and_dated_like_the_edges(seeded):
    starts = list(Edge.objects.values_list("valid_from", flat=True))

    assert max(starts) - min(starts) > timedelta(days=300)
    for edge in Edge.objects.filter(valid_to__isnull=False):
        dates = list(Edge.history.filter(id=edge.pk).order_by("history_date").values_list("history_date", flat=True))
        assert dates == [edge.valid_from, edge.valid_to]
    assert set(Edge.history.values_list("history_source", flat=True)) == {ChangeSource.IMPORT}
    assert set(Edge.objects.values_list("recorded_via", flat=True)) == {ChangeSource.IMPORT}
    # some relationships ended long before the release: the 2019 extract, and retired dashboards' datasets
    release = released()
    assert Edge.objects.filter(valid_to__lt=release.created_at - timedelta(days=30)).count() >= 3


def test_past_release_repointed_customers_and_left_one_behind(seeded):
    release = released()
    staff = user("admin")

    prov = provenance(user=staff, analysis=release.reference_analysis)

    assert timedelta(days=55) < timezone.now() - release.created_at < timedelta(days=65)
    assert release.new_template.created_at < release.created_at < release.new_template.created_at + timedelta(hours=1)
    assert (release.previous_template.version, release.new_template.version) == (1, 2)
    assert release.reference_analysis.version == 2
    assert len(release.changes) >= 3 and not release.problems and not release.forced
    # the data are those a release writes: each old pointer ends exactly when its replacement begins, in the release
    for change in release.changes:
        old, new = Edge.objects.get(pk=change["old_edge"]), Edge.objects.get(pk=change["new_edge"])
        assert old.target_id == new.target_id == change["asset_id"]
        assert (old.source_id, new.source_id) == (release.previous_template_id, release.new_template_id)
        assert old.valid_to == new.valid_from == release.created_at
        assert new.release_id == release.pk and new.valid_to is None
        assert Edge.history.filter(id=new.pk, history_change_reason=f"release {release.pk}").exists()
    assert prov["behind"] >= 1
    behind = {row.customer for row in prov["rows"] if row.behind}
    assert behind == {"Riverside Clinics"}
    assert all(row.template_id == release.previous_template_id for row in prov["rows"] if row.behind)
    assert [fork["customer"] for fork in prov["forks"]] == ["St Aidan's Hospital Trust"]
    assert [
        t["name"] for t in prov["templates"] if t["latest"] and t["line"] == prov["reference_analysis"]["name"]
    ] == [release.new_template.name]


def test_diff_over_the_release_lists_the_ended_and_the_new_pointers(seeded):
    release = released()
    dashboard = Asset.objects.get(kind=AssetKind.DASHBOARD, name="Northwind Health Patient Flow")

    appeared, ended = lineage_diff(
        root=dashboard.pk,
        from_date=release.created_at - timedelta(days=1),
        to_date=release.created_at + timedelta(days=1),
    )

    assert (release.new_template_id, dashboard.pk, EdgeKind.CREATED_FROM) in {
        (e.source, e.target, e.kind) for e in appeared
    }
    assert (release.previous_template_id, dashboard.pk, EdgeKind.CREATED_FROM) in {
        (e.source, e.target, e.kind) for e in ended
    }
    assert (release.reference_analysis_id, release.previous_template_id, EdgeKind.TEMPLATE_OF) in {
        (e.source, e.target, e.kind) for e in ended
    }
    # a month before the release nothing about this dashboard changed
    quiet = lineage_diff(
        root=dashboard.pk,
        from_date=release.created_at - timedelta(days=40),
        to_date=release.created_at - timedelta(days=10),
    )
    assert quiet == ([], [])


def test_as_of_before_the_release_gives_the_old_template(seeded):
    release = released()
    dashboard = Asset.objects.get(kind=AssetKind.DASHBOARD, name="Northwind Health Patient Flow")
    before = release.created_at - timedelta(days=1)

    then = lineage_subgraph(root=dashboard.pk, direction="upstream", depth=20, as_of=before)
    now = lineage_subgraph(root=dashboard.pk, direction="upstream", depth=20)

    assert pointer(dashboard, as_of=before) == release.previous_template
    assert pointer(dashboard) == release.new_template
    assert release.previous_template_id in then.depth and release.new_template_id not in then.depth
    assert release.new_template_id in now.depth and release.previous_template_id not in now.depth
    assert pointer(dashboard, as_of=release.created_at) == release.new_template  # the new edge holds from that instant


# --- data behind the assets --------------------------------------------------------------------------------------


def data_of(asset: Asset) -> str:
    """The path of the asset's current snapshot, for DuckDB."""
    return str(Path(settings.MEDIA_ROOT) / asset.dataset.current_snapshot.path)


def sales() -> Dataset:
    return Dataset.objects.select_related("asset", "current_snapshot").get(asset__name="Retail sales")


def product(name: str) -> Asset:
    return Asset.objects.select_related("dataset__current_snapshot").get(kind=AssetKind.DATA_PRODUCT, name=name)


def test_sales_is_a_daily_spice_dataset_with_tens_of_thousands_of_rows(seeded):
    dataset = sales()

    snapshot = dataset.current_snapshot
    assert dataset.import_mode == Dataset.ImportMode.SPICE
    assert (dataset.refresh_interval, dataset.refresh_time_zone) == (Dataset.Interval.DAILY, "Europe/London")
    assert dataset.next_refresh_at > timezone.now()
    assert dataset.asset.business_unit.slug == "commercial"
    assert dataset.asset.owner_group.name == "bi-developers"
    assert 10_000 <= snapshot.rows < 100_000
    assert [c["name"] for c in snapshot.columns] == SALES_COLUMNS
    assert list(dataset.asset.columns.values_list("name", flat=True)) == SALES_COLUMNS
    assert dataset.asset.attributes["row_count"] == snapshot.rows
    assert list(dataset.refreshes.values_list("status", "snapshot")) == [(RefreshRun.Status.SUCCEEDED, snapshot.pk)]
    with duckdb.connect() as con:
        rows, days, categories, segments, modes, losses = con.execute(
            'SELECT count(*), max("Order Date") - min("Order Date"), count(DISTINCT "Category"), '
            'count(DISTINCT "Segment"), count(DISTINCT "Ship Mode"), count(*) FILTER ("Profit" < 0) '
            "FROM read_parquet(?)",
            [data_of(dataset.asset)],
        ).fetchone()
    assert rows == snapshot.rows
    assert days > 700 and (categories, segments, modes) == (4, 4, 4)
    assert 0 < losses < rows / 2


def test_sales_dashboard_contains_a_table_and_a_pivot_over_the_sales_data(seeded):
    dataset = sales()
    dashboard = Asset.objects.get(kind=AssetKind.DASHBOARD, name="Sales performance")

    contained = Asset.objects.filter(incoming_edges__source=dashboard, incoming_edges__kind=EdgeKind.CONTAINS)

    assert {v.visual.dataset_id for v in contained} == {dataset.pk}
    assert sorted(v.visual.spec["type"] for v in contained) == ["pivot", "table"]
    assert Edge.objects.filter(
        source=dataset.asset, target=dashboard, kind=EdgeKind.USES_DATASET, valid_to__isnull=True
    ).exists()


def test_sales_visuals_add_up_to_the_data(seeded):
    staff = user("admin")
    dataset = sales()
    table = Visual.objects.get(dataset=dataset, spec__type="table")
    pivot = Visual.objects.get(dataset=dataset, spec__type="pivot")

    table_data = visual_data(user=staff, visual=table)
    pivot_data = visual_data(user=staff, visual=pivot)

    with duckdb.connect() as con:
        total_sales, total_profit = con.execute(
            'SELECT sum("Sales"), sum("Profit") FROM read_parquet(?)', [data_of(dataset.asset)]
        ).fetchone()
    assert table_data["measures"] == ["Sales", "Profit"] and table_data["total_row"]
    assert len(table_data["rows"]) == 4
    assert table_data["grid"][-1] == [float(total_sales), float(total_profit)]
    assert (pivot_data["row_fields"], pivot_data["column_fields"]) == (["Category", "Segment"], ["Ship Mode"])
    assert len(pivot_data["rows"]) == 16 and len(pivot_data["columns"]) == 4
    grand = cell_key("Profit", {}, totals=["Category", "Segment", "Ship Mode"])
    [(i, j, k)] = [(i, j, k) for i, j, k, key in pivot_data["cells"] if key == grand]
    assert pivot_data["grid"][i][j * len(pivot_data["measures"]) + k] == float(total_profit)


def test_the_analyst_sees_only_her_segments_and_the_sales_team_no_profit(seeded):
    dataset = sales()

    ana = dataset_preview(user=user("ana"), dataset=dataset, limit=100_000)
    sam = dataset_preview(user=user("sam"), dataset=dataset, limit=10)
    dan = dataset_preview(user=user("dan"), dataset=dataset, limit=10)  # no rule for his group: no rows

    with duckdb.connect() as con:
        [(hers,)] = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE \"Segment\" IN ('Consumer', 'Home Office')",
            [data_of(dataset.asset)],
        ).fetchall()
    assert ana.restricted and ana.columns == SALES_COLUMNS
    assert {row[1] for row in ana.rows} == {"Consumer", "Home Office"}
    assert len(ana.rows) == hers
    assert sam.hidden_columns == ["Profit"] and "Profit" not in sam.columns and sam.rows
    assert dan.rows == []
    assert Asset.objects.visible_to(user("ana")).filter(pk=dataset.asset_id).exists()
    assert UserAttribute.objects.filter(name="department").count() >= 2


def test_every_claim_is_made_by_a_customer_and_opportunities_link_to_customers(seeded):
    customer, claim, policy, opportunity = (product(n) for n in ("Customer", "Claim", "Policy", "SalesOpportunity"))

    with duckdb.connect() as con:
        con.execute("CREATE TABLE customer AS SELECT * FROM read_parquet(?)", [data_of(customer)])
        customers, ids = con.execute('SELECT count(*), count(DISTINCT "Customer_ID") FROM customer').fetchone()
        [(claims, strangers)] = con.execute(
            'SELECT count(*), count(*) FILTER ("Cust_Nbr" IS NULL OR "Cust_Nbr" NOT IN '
            '(SELECT "Customer_ID" FROM customer)) FROM read_parquet(?)',
            [data_of(claim)],
        ).fetchall()
        [(policies, orphans)] = con.execute(
            'SELECT count(*), count(*) FILTER ("Customer_ID" NOT IN (SELECT "Customer_ID" FROM customer)) '
            "FROM read_parquet(?)",
            [data_of(policy)],
        ).fetchall()
        [(linked, unknown, same_contact)] = con.execute(
            'SELECT count("Customer_ID"), count(*) FILTER ("Customer_ID" NOT IN (SELECT "Customer_ID" FROM customer)), '
            'count(*) FILTER ("Contact_Email" IN (SELECT "Email" FROM customer) '
            'OR "Contact_Phone" IN (SELECT "Phone" FROM customer)) FROM read_parquet(?)',
            [data_of(opportunity)],
        ).fetchall()
    assert 1_000 <= customers == ids
    assert claims > 1_000 and strangers == 0
    assert policies >= customers and orphans == 0
    assert linked > 1_000 and unknown == 0
    assert same_contact == 0  # opportunities carry other contact details than the customer record


def test_encounters_match_customers_in_four_ways(seeded):
    customer, opportunity, encounter = (product(n) for n in ("Customer", "SalesOpportunity", "Encounter"))

    with duckdb.connect() as con:
        con.execute("CREATE TABLE customer AS SELECT * FROM read_parquet(?)", [data_of(customer)])
        con.execute(
            'CREATE TABLE alternate AS SELECT o.* FROM read_parquet(?) o JOIN customer c USING ("Customer_ID")',
            [data_of(opportunity)],
        )
        con.execute("CREATE TABLE encounter AS SELECT * FROM read_parquet(?)", [data_of(encounter)])
        ways = dict(
            con.execute(
                """
                SELECT CASE
                    WHEN "Customer_ID" IS NOT NULL THEN 'customer id'
                    WHEN "Inbound_Email" IN (SELECT "Email" FROM customer)
                        OR "Inbound_Phone" IN (SELECT "Phone" FROM customer) THEN 'customer contact'
                    WHEN "Inbound_Email" IN (SELECT "Contact_Email" FROM alternate)
                        OR "Inbound_Phone" IN (SELECT "Contact_Phone" FROM alternate) THEN 'opportunity contact'
                    ELSE 'nothing' END,
                    count(*)
                FROM encounter GROUP BY 1
                """
            ).fetchall()
        )
        [(unknown_ids,)] = con.execute(
            'SELECT count(*) FROM encounter WHERE "Customer_ID" NOT IN (SELECT "Customer_ID" FROM customer)'
        ).fetchall()

    total = sum(ways.values())
    assert set(ways) == {"customer id", "customer contact", "opportunity contact", "nothing"}
    assert unknown_ids == 0
    for way, share in {
        "customer id": 0.30,
        "customer contact": 0.25,
        "opportunity contact": 0.25,
        "nothing": 0.20,
    }.items():
        assert abs(ways[way] / total - share) < 0.05, (way, ways)


def test_the_refreshes_queued_by_the_seed_find_nothing_to_do(seeded):
    # given: what the on-commit tasks of the seed's refresh requests would run
    runs = list(RefreshRun.objects.values_list("pk", flat=True))
    before = snapshot()

    # when
    for pk in runs:
        dataset_refresh_task(refresh_id=pk)

    # then
    assert len(runs) == Dataset.objects.count() >= 6
    assert snapshot() == before


def test_the_generated_files_are_the_same_on_every_run(tmp_path):
    (first := tmp_path / "first").mkdir()
    (second := tmp_path / "second").mkdir()

    files = [sales_write(first), *samples_write(first).values()]
    again = [sales_write(second), *samples_write(second).values()]

    with duckdb.connect() as con:
        for one, other in zip(files, again, strict=True):
            rows = con.execute("SELECT * FROM read_parquet(?)", [str(one)]).fetchall()
            assert rows == con.execute("SELECT * FROM read_parquet(?)", [str(other)]).fetchall()
            assert rows, one.name
