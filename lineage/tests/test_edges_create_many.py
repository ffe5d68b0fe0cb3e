"""`edges_create_many` and `column_edges_create_many`: the set-based edge creation of bulk imports and events."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError

from catalog import services as catalog
from catalog.tests.factories import UserFactory
from config.errors import DomainError
from lineage import services
from lineage.models import ColumnEdge, Edge

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def assets(db):
    def asset(kind, name, **fields):
        return catalog.asset_create(actor=None, kind=kind, name=name, **fields)

    return {
        "source": asset("data_source", "Warehouse"),
        "orders": asset("dataset", "Orders", columns=[{"name": "amount", "data_type": "numeric"}]),
        "revenue": asset("dataset", "Revenue", columns=[{"name": "total", "data_type": "numeric"}]),
        "dashboard": asset("dashboard", "Revenue board"),
    }


def test_edges_are_created_open_from_their_time_with_one_history_row_each(assets):
    actor = UserFactory(username="importer")
    count = services.edges_create_many(
        edges=[
            services.EdgeSpec(source=assets["source"], target=assets["orders"], kind="reads_from", valid_from=AT),
            services.EdgeSpec(source=assets["orders"], target=assets["dashboard"], kind="uses_dataset", valid_from=AT),
        ],
        actor=actor,
        via="import",
    )
    assert count == 2
    edge = Edge.objects.get(target=assets["dashboard"])
    assert (edge.source, edge.kind, edge.valid_from, edge.valid_to) == (assets["orders"], "uses_dataset", AT, None)
    assert (edge.recorded_by, edge.recorded_via) == (actor, "import")
    [record] = edge.history.all()
    assert (record.history_type, record.history_source, record.history_user) == ("+", "import", actor)


def test_an_edge_between_kinds_it_cannot_join_is_refused_and_nothing_is_created(assets):
    with pytest.raises(DomainError) as refused:
        services.edges_create_many(
            edges=[
                services.EdgeSpec(source=assets["source"], target=assets["orders"], kind="reads_from", valid_from=AT),
                services.EdgeSpec(
                    source=assets["dashboard"], target=assets["orders"], kind="uses_dataset", valid_from=AT
                ),
            ],
            actor=None,
            via="import",
        )
    assert refused.value.field == "kind"
    assert not Edge.objects.exists()


def test_column_edges_are_created_and_a_second_open_one_is_refused(assets):
    amount = assets["orders"].columns.get(name="amount")
    total = assets["revenue"].columns.get(name="total")
    spec = services.ColumnEdgeSpec(
        source_id=amount.pk, target_id=total.pk, transformation="DIRECT", subtype="AGGREGATION"
    )
    assert services.column_edges_create_many(edges=[spec], actor=None, via="event") == 1
    edge = ColumnEdge.objects.get()
    assert (edge.source, edge.target, edge.subtype, edge.recorded_via) == (amount, total, "AGGREGATION", "event")
    with pytest.raises(IntegrityError):
        services.column_edges_create_many(edges=[spec], actor=None, via="event")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_id": None}, "edges[0].target"),
        ({"transformation": "MAGIC"}, "edges[0].transformation"),
        ({"subtype": "x" * 41}, "edges[0].subtype"),
    ],
)
def test_a_broken_column_edge_is_refused_by_its_position(assets, change, field):
    amount = assets["orders"].columns.get(name="amount")
    total = assets["revenue"].columns.get(name="total")
    values = {"source_id": amount.pk, "target_id": total.pk, **change}
    if values["target_id"] is None:
        values["target_id"] = amount.pk  # a self-loop
    with pytest.raises(DomainError) as refused:
        services.column_edges_create_many(edges=[services.ColumnEdgeSpec(**values)], actor=None, via="event")
    assert refused.value.field == field
    assert not ColumnEdge.objects.exists()


def test_edges_are_ended_at_their_times_with_a_history_entry_and_a_second_end_is_refused(assets):
    services.edges_create_many(
        edges=[services.EdgeSpec(source=assets["source"], target=assets["orders"], kind="reads_from", valid_from=AT)],
        actor=None,
        via="import",
    )
    edge = Edge.objects.get()
    later = datetime(2026, 3, 2, tzinfo=UTC)
    assert services.edges_end_many(ends=[(edge, later)], actor=None, via="event") == 1
    edge.refresh_from_db()
    assert edge.valid_to == later
    assert [h.history_type for h in edge.history.order_by("history_id")] == ["+", "~"]
    with pytest.raises(DomainError, match="already ended"):
        services.edges_end_many(ends=[(edge, later)], actor=None, via="event")


def test_an_edge_cannot_end_before_it_began(assets):
    services.edges_create_many(
        edges=[services.EdgeSpec(source=assets["source"], target=assets["orders"], kind="reads_from", valid_from=AT)],
        actor=None,
        via="import",
    )
    with pytest.raises(DomainError, match="before it began"):
        services.edges_end_many(ends=[(Edge.objects.get(), datetime(2026, 1, 1, tzinfo=UTC))], actor=None, via="x")
    assert Edge.objects.get().valid_to is None
