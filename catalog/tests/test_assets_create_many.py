"""`assets_create_many`: the set-based creation bulk imports use, checked against what `asset_create` records."""

import pytest
from django.db import connection

from catalog import services
from catalog.models import Asset, Column
from catalog.tests.factories import UserFactory
from config.errors import DomainError

pytestmark = pytest.mark.django_db


def specs() -> list[services.AssetSpec]:
    return [
        services.AssetSpec(
            kind="dataset",
            external_id="arn:ds/orders",
            name="Orders",
            description="Every order line, refreshed nightly",
            attributes={"import_mode": "spice"},
            tags=("Sales", "sales", "finance"),
            columns=(("order_id", "INTEGER"), ("amount", "DECIMAL")),
        ),
        services.AssetSpec(kind="dashboard", external_id="arn:d/revenue", name="Revenue", version=3),
    ]


def test_assets_columns_tags_history_and_search_documents_are_created_in_one_go():
    actor = UserFactory(username="importer")
    # when
    ids = services.assets_create_many(specs=specs(), actor=actor, source="import")
    # then
    orders = Asset.objects.get(pk=ids[("dataset", "arn:ds/orders")])
    revenue = Asset.objects.get(pk=ids[("dashboard", "arn:d/revenue")])
    assert (orders.name, orders.status, orders.attributes) == ("Orders", "active", {"import_mode": "spice"})
    assert revenue.version == 3
    assert sorted(orders.tags.values_list("slug", flat=True)) == ["finance", "sales"]
    assert list(orders.columns.order_by("position").values_list("name", "data_type")) == [
        ("order_id", "INTEGER"),
        ("amount", "DECIMAL"),
    ]
    [record] = orders.history.all()
    assert (record.history_type, record.history_source, record.history_user) == ("+", "import", actor)
    assert revenue.history.count() == 1
    column = Column.objects.get(asset=orders, name="amount")
    assert [(h.history_type, h.history_source) for h in column.history.all()] == [("+", "import")]


def _lexemes(pk: int) -> set[tuple[str, str]]:
    """The words of an asset's search document with their weights (positions depend on tag order)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT lexeme, weights::text FROM catalog_asset, unnest(search_vector) WHERE id = %s", [pk])
        return set(cursor.fetchall())


def test_the_search_document_is_the_one_the_catalog_would_build():
    ids = services.assets_create_many(specs=specs(), actor=None, source="import")
    pk = ids[("dataset", "arn:ds/orders")]
    created = _lexemes(pk)
    services.search_index_refresh(asset_ids=[pk])
    assert _lexemes(pk) == created
    assert ("sales", "{B}") in created  # a tag given twice (by slug) counts once
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM catalog_asset WHERE search_vector @@ plainto_tsquery('english', 'refreshed')"
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "spreadsheet"}, "assets[1].kind"),
        ({"name": ""}, "assets[1].name"),
        ({"name": "x" * 301}, "assets[1].name"),
        ({"version": -1}, "assets[1].version"),
        ({"columns": (("a", "INTEGER"),)}, "assets[1].columns"),
        ({"attributes": {"published_version": "three"}}, "assets[1].attributes"),
    ],
)
def test_a_broken_spec_is_refused_by_its_position_and_nothing_is_created(change, field):
    given = specs()
    given[1] = services.AssetSpec(**{**given[1].__dict__, **change})
    with pytest.raises(DomainError) as refused:
        services.assets_create_many(specs=given, actor=None, source="import")
    assert refused.value.field == field
    assert not Asset.objects.exists()


def test_columns_named_twice_are_refused():
    given = specs()
    given[0].columns = (("a", "INTEGER"), ("a", "STRING"))
    with pytest.raises(DomainError, match="'a' appears twice"):
        services.assets_create_many(specs=given, actor=None, source="import")


def test_many_assets_are_updated_with_one_history_entry_each_and_unchanged_ones_are_not_written():
    ids = services.assets_create_many(specs=specs(), actor=None, source="import")
    orders = Asset.objects.get(pk=ids[("dataset", "arn:ds/orders")])
    revenue = Asset.objects.get(pk=ids[("dashboard", "arn:d/revenue")])
    actor = UserFactory(username="importer")
    # when
    written = services.assets_update_many(
        changes=[(orders, {"name": "Order lines", "version": 2}), (revenue, {"name": "Revenue"})],
        actor=actor,
        source="event",
    )
    # then
    assert [a.name for a in written] == ["Order lines", "Revenue"]
    orders.refresh_from_db()
    assert (orders.name, orders.version) == ("Order lines", 2)
    assert [(h.history_type, h.name, h.history_source) for h in orders.history.order_by("history_id")] == [
        ("+", "Orders", "import"),
        ("~", "Order lines", "event"),
    ]
    assert revenue.history.count() == 1  # nothing changed, nothing written
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_asset WHERE search_vector @@ to_tsquery('simple', 'lines')")
        assert cursor.fetchone()[0] == 1


def test_a_broken_update_is_refused_by_its_position_and_nothing_changes():
    ids = services.assets_create_many(specs=specs(), actor=None, source="import")
    orders = Asset.objects.get(pk=ids[("dataset", "arn:ds/orders")])
    revenue = Asset.objects.get(pk=ids[("dashboard", "arn:d/revenue")])
    with pytest.raises(DomainError) as refused:
        services.assets_update_many(
            changes=[(orders, {"name": "Renamed"}), (revenue, {"status": "gone"})], actor=None, source="event"
        )
    assert refused.value.field == "changes[1].status"
    orders.refresh_from_db()
    assert orders.name == "Orders"


def test_assets_without_columns_get_their_first_schema_with_history_and_search_words():
    ids = services.assets_create_many(
        specs=[services.AssetSpec(kind="dataset", external_id="arn:ds/empty", name="Placeholder")],
        actor=None,
        source="event",
    )
    pk = ids[("dataset", "arn:ds/empty")]
    services.columns_create_many(
        columns={pk: [("region", "STRING"), ("amount", "DECIMAL")]}, actor=None, source="import"
    )
    assert list(Column.objects.filter(asset_id=pk).order_by("position").values_list("name", flat=True)) == [
        "region",
        "amount",
    ]
    assert Column.history.filter(asset_id=pk, history_type="+", history_source="import").count() == 2
    assert ("region", "{C}") in _lexemes(pk)
    # a second first schema is refused
    with pytest.raises(DomainError, match="has columns already"):
        services.columns_create_many(columns={pk: [("other", "STRING")]}, actor=None, source="import")
