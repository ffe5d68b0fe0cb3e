"""The planner on plain data: order, actions, conflicts, bad input; no database."""

import pytest

from promotions.planning import Copy, Node, PlanError, Target, dependency_order, fingerprint, plan_compute

A = "arn:aws:quicksight:eu-west-1:111122223333"
STAGING = Target(folder_arn=f"{A}:folder/staging", environment="Staging")


def graph():
    nodes = {
        1: Node(1, "data_source", "Warehouse", f"{A}:datasource/warehouse", attributes={"type": "postgresql"}),
        2: Node(2, "dataset", "Sales", f"{A}:dataset/sales", columns=(("region", "varchar"), ("amount", "numeric"))),
        3: Node(3, "analysis", "Sales analysis", f"{A}:analysis/sales-analysis"),
        4: Node(4, "template", "Sales template", f"{A}:template/sales-template"),
        5: Node(5, "dashboard", "Sales dashboard", f"{A}:dashboard/sales-dashboard"),
    }
    edges = [
        (1, 2, "reads_from"),
        (2, 3, "uses_dataset"),
        (3, 4, "template_of"),
        (2, 4, "uses_dataset"),
        (4, 5, "created_from"),
        (2, 5, "uses_dataset"),
    ]
    return nodes, edges


def test_plan_orders_dependencies_first_and_adds_folder_memberships():
    nodes, edges = graph()
    plan = plan_compute(
        root=5, nodes=nodes, edges=edges, target=STAGING, copies={}, mappings={1: f"{A}:datasource/wh-staging"}
    )
    assert [(s.kind, s.action) for s in plan.steps] == [
        ("data_source", "map"),
        ("dataset", "create"),
        ("analysis", "create"),
        ("template", "create"),
        ("dashboard", "create"),
        ("dataset", "membership"),
        ("analysis", "membership"),
        ("dashboard", "membership"),
    ]
    assert plan.conflicts == []
    dataset, analysis, template, dashboard = plan.steps[1:5]
    assert dataset.target_arn == f"{A}:dataset/sales--staging"
    table = dataset.request["PhysicalTableMap"]["table-1"]["RelationalTable"]
    assert table["DataSourceArn"] == f"{A}:datasource/wh-staging"
    assert table["InputColumns"] == [{"Name": "region", "Type": "STRING"}, {"Name": "amount", "Type": "DECIMAL"}]
    # the template is made from the promoted analysis; the dashboard from the promoted template
    assert template.request["SourceEntity"]["SourceAnalysis"]["Arn"] == analysis.target_arn
    assert dashboard.request["SourceEntity"]["SourceTemplate"] == {
        "Arn": template.target_arn,
        "DataSetReferences": [{"DataSetPlaceholder": "sales", "DataSetArn": dataset.target_arn}],
    }
    assert dashboard.depends_on == [1, 3]


def test_missing_data_source_mapping_is_a_blocking_conflict():
    nodes, edges = graph()
    plan = plan_compute(root=5, nodes=nodes, edges=edges, target=STAGING, copies={})
    assert [(c["kind"], c["asset_id"], c["blocking"]) for c in plan.conflicts] == [("missing_mapping", 1, True)]


def test_unchanged_copies_are_kept_changed_sources_updated_and_target_changes_conflict():
    nodes, edges = graph()

    def copy(asset_id, *, source_changed=False, copy_changed=False):
        node = nodes[asset_id]
        arn = node.external_id.replace(node.external_id.rsplit("/", 1)[1], "old--staging")
        return Copy(asset_id + 100, arn, node.name, "", 1, {}, source_changed, copy_changed)

    copies = {1: copy(1), 2: copy(2), 3: copy(3, source_changed=True), 4: copy(4, copy_changed=True)}
    plan = plan_compute(root=5, nodes=nodes, edges=edges, target=STAGING, copies=copies)
    actions = {s.asset_id: s.action for s in plan.steps if s.action != "membership"}
    assert actions == {1: "unchanged", 2: "unchanged", 3: "update", 4: "update", 5: "create"}
    assert [(c["kind"], c["asset_id"], c["blocking"]) for c in plan.conflicts] == [("changed_in_target", 4, True)]
    # an update keeps the copy's ARN, and dependants point at it
    assert plan.steps[2].target_arn == f"{A}:analysis/old--staging"
    overwritten = plan_compute(root=5, nodes=nodes, edges=edges, target=STAGING, copies=copies, overwrite=True)
    assert [c["blocking"] for c in overwritten.conflicts] == [False]


def test_without_dependencies_missing_ones_conflict():
    nodes, edges = graph()
    plan = plan_compute(
        root=5,
        nodes=nodes,
        edges=edges,
        target=STAGING,
        copies={},
        include_dependencies=False,
        mappings={1: f"{A}:datasource/wh"},
    )
    assert [s.action for s in plan.steps if s.asset_id != 1][:4] == ["unchanged"] * 3 + ["create"]
    assert {c["asset_id"] for c in plan.conflicts if c["kind"] == "missing_dependency"} == {2, 3, 4}


def test_a_cycle_is_refused_naming_it():
    with pytest.raises(PlanError) as error:
        dependency_order(nodes=[1, 2, 3, 4], edges=[(1, 2), (2, 3), (3, 2), (3, 4)], rank={n: (n,) for n in range(5)})
    assert error.value.message == "the dependencies form a cycle: 3 → 2 → 3"


def test_a_cycle_in_a_plan_is_named_by_its_assets():
    nodes, edges = graph()
    edges.append((4, 3, "created_from"))  # the analysis made from its own template
    with pytest.raises(PlanError) as error:
        plan_compute(root=5, nodes=nodes, edges=edges, target=STAGING, copies={})
    assert error.value.message == (
        "the dependencies form a cycle: Sales template (template 4) → Sales analysis (analysis 3) → "
        "Sales template (template 4)"
    )


def test_an_asset_without_an_arn_is_refused():
    nodes, edges = graph()
    nodes[2] = Node(2, "dataset", "Sales", "cartograph:1234")
    with pytest.raises(PlanError, match="no QuickSight ARN"):
        plan_compute(root=5, nodes=nodes, edges=edges, target=STAGING, copies={})


def test_ids_of_promoted_copies_do_not_grow_from_environment_to_environment():
    nodes = {7: Node(7, "dataset", "Sales", f"{A}:dataset/sales--staging")}
    plan = plan_compute(root=7, nodes=nodes, edges=[], target=Target(f"{A}:folder/production", "Production"), copies={})
    assert plan.steps[0].target_arn == f"{A}:dataset/sales--production"


def test_fingerprint_ignores_the_arn_but_not_the_content():
    base = fingerprint(name="a", description="", version=1, attributes={"arn": "x", "sheets": ["s"]})
    assert base == fingerprint(name="a", description="", version=1, attributes={"arn": "y", "sheets": ["s"]})
    assert base != fingerprint(name="a", description="", version=2, attributes={"arn": "x", "sheets": ["s"]})
