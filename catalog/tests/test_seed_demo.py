"""`manage.py seed_demo`: a complete demo organisation, restricted for analysts, unchanged by a second run."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from access.models import Grant
from catalog.choices import AssetKind, ChangeSource, Environment
from catalog.history import asset_history
from catalog.management.commands.seed_demo import Seeder
from catalog.models import Asset, AssetView, BusinessUnit, Column, Customer, FolderMembership, ProductLine
from catalog.reports import report_run

pytestmark = pytest.mark.django_db

MESH_PRODUCTS = {
    "Customer": {"customer_id", "first_name", "last_name", "email", "phone", "date_of_birth", "postcode"},
    "Claim": {"claim_id", "cust_nbr", "policy_id", "claim_amount", "loss_date", "status"},
    "Policy": {"policy_id", "customer_id", "premium_amount"},
    "Encounter": {"encounter_id", "patient_email", "patient_phone", "provider", "encounter_date"},
    "SalesOpportunity": {"opportunity_id", "customer_id", "contact_email", "contact_phone", "stage", "amount"},
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seeds once for the module (a seed takes seconds) in a transaction that is rolled back afterwards.

    Each test still runs in its own savepoint inside it, so a test that writes (seeding again) leaves nothing behind.
    """
    with django_db_blocker.unblock(), transaction.atomic():
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
    }


def test_a_failing_seed_leaves_nothing_behind(monkeypatch):
    # given: a seed that breaks after every asset, membership and grant was written (runs before `seeded` is built)
    def fail(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Seeder, "seed_views", fail)
    before = snapshot()

    # when
    with pytest.raises(RuntimeError):
        seed()

    # then
    assert snapshot() == before


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


def test_mesh_products_have_realistic_columns_and_owning_domains(seeded):

    products = Asset.objects.filter(kind=AssetKind.DATA_PRODUCT).select_related("domain")

    assert {p.name for p in products} == set(MESH_PRODUCTS)
    for product in products:
        assert MESH_PRODUCTS[product.name] <= set(product.columns.values_list("name", flat=True))
        assert product.domain is not None
        assert product.domain.owner_group is not None
    email = Column.objects.get(asset__name="Customer", name="email")
    assert set(email.tags.values_list("slug", flat=True)) == {"pii"}


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

    # when
    output = seed()

    # then
    assert snapshot() == before
    assert "0 assets created" in output


def test_history_is_spread_over_months_and_people(seeded):

    dates = Asset.history.values_list("history_date", flat=True)
    actors = set(Asset.history.exclude(history_user=None).values_list("history_user__username", flat=True))
    changed_often = Asset.history.values("id").annotate(n=Count("history_id")).filter(n__gte=3)

    assert max(dates) - min(dates) > timedelta(days=180)
    assert len(actors) >= 5
    assert changed_often.count() >= 3
    assert set(Asset.history.values_list("history_source", flat=True)) == {ChangeSource.IMPORT}
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
