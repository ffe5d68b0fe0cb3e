from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import services as catalog
from lineage.models import Edge
from lineage.services import edge_end, edge_upsert

pytestmark = pytest.mark.django_db


def lineage(api, asset, query=""):
    response = api.get(f"/api/v1/assets/{asset.pk}/lineage/?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def names(body):
    return sorted(n["name"] for n in body["nodes"])


def test_one_hop_both_ways_with_counts_of_what_is_not_expanded(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    body = lineage(api, a["analysis"])
    assert names(body) == ["Sales", "Sales reference", "Sales template v1"]
    by_name = {n["name"]: n for n in body["nodes"]}
    assert by_name["Sales reference"]["depth"] == 0
    assert by_name["Sales"]["depth"] == -1 and by_name["Sales template v1"]["depth"] == 1
    # Sales → template is drawn (both ends are in the graph); Sales' own source is not expanded
    assert by_name["Sales"]["hidden_upstream"] == 1
    assert by_name["Sales template v1"]["hidden_downstream"] == 2
    assert {(e["kind"]) for e in body["edges"]} == {"uses_dataset", "template_of"}
    assert len(body["edges"]) == 3
    assert body["truncated"] is False


def test_upstream_from_a_visual_reaches_the_data_source(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    body = lineage(api, a["acme_visual"], "direction=upstream&depth=20")
    assert "Warehouse" in names(body)
    assert all(n["depth"] <= 0 for n in body["nodes"])
    assert {n["name"]: n["depth"] for n in body["nodes"]}["Warehouse"] == -3


def test_kind_filter(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    body = lineage(api, a["source"], "direction=downstream&depth=5&kinds=reads_from")
    assert names(body) == ["Acme sales", "Globex sales", "Sales", "Warehouse"]


def test_node_cap_truncates_explicitly(api, org):
    a, admin = org["assets"], org["admin"]
    for i in range(30):
        dash = catalog.asset_create(actor=admin, kind="dashboard", name=f"Hub child {i}", domain=a["sales"].domain)
        edge_upsert(source=a["sales"], target=dash, kind="uses_dataset", actor=admin)
    api.force_authenticate(admin)
    body = lineage(api, a["sales"], "direction=downstream&depth=3&node_cap=10")
    assert body["truncated"] is True
    assert len(body["nodes"]) == 10
    assert lineage(api, a["sales"], "direction=downstream&depth=1&node_cap=500")["truncated"] is False


def test_cycles_are_stored_and_traversal_terminates(api, org):
    admin = org["admin"]
    p = [catalog.asset_create(actor=admin, kind="data_product", name=f"P{i}") for i in range(3)]
    for x, y in [(0, 1), (1, 2), (2, 0)]:
        edge_upsert(source=p[x], target=p[y], kind="derived_from", actor=admin)
    api.force_authenticate(admin)
    body = lineage(api, p[0], "direction=both&depth=20")
    assert names(body) == ["P0", "P1", "P2"]
    assert len(body["edges"]) == 3
    assert len(body["cycles"]) == 1
    impact = api.get(f"/api/v1/assets/{p[0].pk}/impact/").json()
    assert impact["total"] == 2  # P1, P2; the root is not its own impact


def test_one_hop_query_count_does_not_grow_with_fan_out(api, org):
    a, admin = org["assets"], org["admin"]
    api.force_authenticate(admin)
    with CaptureQueriesContext(connection) as small:
        lineage(api, a["sales"], "direction=downstream")
    for i in range(40):
        dash = catalog.asset_create(actor=admin, kind="dashboard", name=f"Fan {i}")
        edge_upsert(source=a["sales"], target=dash, kind="uses_dataset", actor=admin)
    with CaptureQueriesContext(connection) as large:
        body = lineage(api, a["sales"], "direction=downstream")
    assert len(body["nodes"]) == 43
    assert len(large.captured_queries) == len(small.captured_queries) <= 8


def test_restricted_assets_are_placeholders_and_counts_add_up(api, org):
    a = org["assets"]
    api.force_authenticate(org["analyst"])
    body = lineage(api, a["template"], "direction=downstream&depth=3")
    restricted = [n for n in body["nodes"] if n["restricted"]]
    assert len(restricted) == 1
    assert restricted[0]["name"] == "Restricted asset" and restricted[0]["kind"] == ""
    assert "details" not in restricted[0]
    assert str(a["globex_dash"].pk) not in {n["id"] for n in body["nodes"]}
    assert "Globex" not in str(body)
    assert len(body["nodes"]) == 4  # template, two dashboards (one restricted), visual
    assert any(e["target"] == restricted[0]["id"] for e in body["edges"])
    # the restricted asset itself is a 404
    assert api.get(f"/api/v1/assets/{a['globex_dash'].pk}/lineage/").status_code == 404


def test_as_of_and_diff(api, org):
    a, admin = org["assets"], org["admin"]
    edge = Edge.objects.get(source=a["template"], target=a["acme_dash"])
    past = timezone.now() - timedelta(days=10)
    Edge.objects.filter(pk=edge.pk).update(valid_from=past)
    edge_end(edge=edge, actor=admin, at=timezone.now() - timedelta(days=2))
    api.force_authenticate(admin)
    now_names = names(lineage(api, a["acme_dash"], "direction=upstream"))
    assert "Sales template v1" not in now_names
    day = (timezone.now() - timedelta(days=5)).date().isoformat()
    then_names = names(lineage(api, a["acme_dash"], f"direction=upstream&as_of={day}"))
    assert "Sales template v1" in then_names

    start = (timezone.now() - timedelta(days=3)).date().isoformat()
    diff = api.get(
        f"/api/v1/assets/{a['acme_dash'].pk}/lineage/diff/?from_date={start}&to_date={timezone.now().date()}"
    )
    assert diff.status_code == 200, diff.content
    ended = diff.json()["ended"]
    assert [(e["source"], e["target"]) for e in ended] == [(str(a["template"].pk), str(a["acme_dash"].pk))]


def test_impact_groups_and_notifies_owners(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    body = api.get(f"/api/v1/assets/{a['sales'].pk}/impact/").json()
    assert body["total"] == 5  # analysis, template, two dashboards, visual
    assert {g["label"]: g["count"] for g in body["by_kind"]} == {
        "analysis": 1,
        "template": 1,
        "dashboard": 2,
        "visual": 1,
    }
    assert {g["label"]: g["count"] for g in body["by_customer"]} == {"Acme": 2, "Globex": 1, "(no customer)": 2}
    assert {"type": "user", "name": "olga", "email": "olga@example.com", "assets": 2} in body["notify"]

    api.force_authenticate(org["analyst"])
    restricted = api.get(f"/api/v1/assets/{a['sales'].pk}/impact/").json()
    assert restricted["total"] == 5 and restricted["restricted"] == 1 and restricted["visible"] == 4
    assert "Globex" not in str(restricted)
    csv_text = b"".join(api.get(f"/api/v1/assets/{a['sales'].pk}/impact/?format=csv").streaming_content).decode()
    lines = csv_text.strip().splitlines()
    assert len(lines) == 1 + 5
    assert "Globex" not in csv_text and lines[-1].startswith(",restricted asset")


def test_path_between_assets(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    body = api.get(f"/api/v1/lineage/path/?from={a['source'].pk}&to={a['acme_visual'].pk}").json()
    assert body["direction"] == "downstream"
    ids = [a["source"].pk, a["acme_sales"].pk, a["acme_dash"].pk, a["acme_visual"].pk]
    assert [list(map(int, p)) for p in body["paths"]] == [ids]
    reverse = api.get(f"/api/v1/lineage/path/?from={a['acme_visual'].pk}&to={a['source'].pk}").json()
    assert reverse["direction"] == "upstream"
    none = api.get(f"/api/v1/lineage/path/?from={a['acme_visual'].pk}&to={a['globex_dash'].pk}").json()
    assert none == {"direction": None, "paths": [], "nodes": [], "edges": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("depth=0", "depth"),
        ("depth=21", "depth"),
        ("depth=abc", "depth"),
        ("direction=sideways", "direction"),
        ("kinds=reads_from,teleports", "kinds"),
        ("as_of=yesterday", "as_of"),
        ("node_cap=0", "node_cap"),
        ("node_cap=10001", "node_cap"),
        ("colour=blue", "colour"),
    ],
)
def test_bad_lineage_queries_are_400s(api, org, query, field):
    api.force_authenticate(org["admin"])
    response = api.get(f"/api/v1/assets/{org['assets']['sales'].pk}/lineage/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]


def test_bad_path_and_diff_queries(api, org):
    api.force_authenticate(org["admin"])
    assert api.get("/api/v1/lineage/path/?from=1").status_code == 400
    assert api.get("/api/v1/lineage/path/?from=x&to=2").status_code == 400
    assert api.get("/api/v1/lineage/path/?from=999999&to=999998").status_code == 404
    pk = org["assets"]["sales"].pk
    backwards = api.get(f"/api/v1/assets/{pk}/lineage/diff/?from_date=2025-02-01&to_date=2025-01-01")
    assert backwards.status_code == 400 and "to_date" in backwards.json()["detail"]
    assert api.get(f"/api/v1/assets/{pk}/lineage/diff/?from_date=2025-02-01").status_code == 400


def test_edges_api_checks_kinds_and_upserts(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    bad = api.post("/api/v1/edges/", {"source": a["acme_dash"].pk, "target": a["sales"].pk, "kind": "reads_from"})
    assert bad.status_code == 400
    assert "reads_from edge goes from" in bad.json()["detail"]
    loop = api.post("/api/v1/edges/", {"source": a["sales"].pk, "target": a["sales"].pk, "kind": "derived_from"})
    assert loop.status_code == 400
    again = api.post("/api/v1/edges/", {"source": a["sales"].pk, "target": a["analysis"].pk, "kind": "uses_dataset"})
    assert again.status_code == 200
    created = api.post("/api/v1/edges/", {"source": a["sales"].pk, "target": a["acme_dash"].pk, "kind": "uses_dataset"})
    assert created.status_code == 201
    edge_id = created.json()["id"]
    ended = api.post(f"/api/v1/edges/{edge_id}/end/", {}, format="json")
    assert ended.status_code == 200 and ended.json()["valid_to"] is not None
    assert api.post(f"/api/v1/edges/{edge_id}/end/", {}, format="json").status_code == 400
    assert Edge.objects.filter(pk=edge_id).exists()  # ended, not deleted
    history = Edge.history.filter(id=edge_id).order_by("history_date")
    assert [h.history_type for h in history] == ["+", "~"]


def test_viewers_cannot_add_edges(api, org):
    a = org["assets"]
    api.force_authenticate(org["analyst"])
    response = api.post(
        "/api/v1/edges/", {"source": a["sales"].pk, "target": a["acme_dash"].pk, "kind": "uses_dataset"}
    )
    assert response.status_code == 403
    hidden = api.post(
        "/api/v1/edges/", {"source": a["globex_sales"].pk, "target": a["acme_dash"].pk, "kind": "uses_dataset"}
    )
    assert hidden.status_code == 404


def test_column_lineage(api, org):
    a = org["assets"]
    api.force_authenticate(org["admin"])
    src = a["sales"].columns.get(name="amount")
    dst = a["acme_sales"].columns.get(name="amount")
    created = api.post(
        f"/api/v1/assets/{a['acme_sales'].pk}/column-lineage/",
        {"source": src.pk, "target": dst.pk, "transformation": "INDIRECT", "subtype": "AGGREGATION"},
        format="json",
    )
    assert created.status_code == 201, created.content
    listed = api.get(f"/api/v1/assets/{a['sales'].pk}/column-lineage/").json()
    assert [(e["source"]["name"], e["target"]["asset_name"], e["transformation"]) for e in listed] == [
        ("amount", "Acme sales", "INDIRECT")
    ]
    wrong = api.post(
        f"/api/v1/assets/{a['sales'].pk}/column-lineage/", {"source": src.pk, "target": dst.pk}, format="json"
    )
    assert wrong.status_code == 400 and "target" in wrong.json()["detail"]
    bad = api.post(
        f"/api/v1/assets/{a['acme_sales'].pk}/column-lineage/",
        {"source": src.pk, "target": dst.pk, "transformation": "MAGIC"},
        format="json",
    )
    assert bad.status_code == 400
