"""Rendering plans as an asset-bundle-style document and a CloudFormation template; no database."""

from promotions.artefacts import bundle_render, cloudformation_render
from promotions.planning import Target, plan_compute

from .test_planning import A, graph


def staging_steps():
    nodes, edges = graph()
    plan = plan_compute(
        root=5,
        nodes=nodes,
        edges=edges,
        target=Target(f"{A}:folder/staging", "Staging"),
        copies={},
        mappings={1: f"{A}:datasource/wh-staging"},
    )
    return [step.as_dict() for step in plan.steps]


def test_cloudformation_has_one_resource_per_created_asset_referencing_each_other():
    template = cloudformation_render(description="d", folder_arn=f"{A}:folder/staging", steps=staging_steps())
    resources = template["Resources"]
    assert [r["Type"] for r in resources.values()] == [
        "AWS::QuickSight::DataSet",
        "AWS::QuickSight::Analysis",
        "AWS::QuickSight::Template",
        "AWS::QuickSight::Dashboard",
    ]
    dataset_id, _analysis, template_id, dashboard_id = resources
    dashboard = resources[dashboard_id]
    assert dashboard["DependsOn"] == sorted([dataset_id, template_id])
    source = dashboard["Properties"]["SourceEntity"]["SourceTemplate"]
    assert source["Arn"] == {"Fn::GetAtt": [template_id, "Arn"]}
    assert source["DataSetReferences"][0]["DataSetArn"] == {"Fn::GetAtt": [dataset_id, "Arn"]}
    assert dashboard["Properties"]["FolderArns"] == [f"{A}:folder/staging"]
    assert "FolderArns" not in resources[template_id]["Properties"]  # templates live outside folders
    # the mapped data source is referenced by its ARN, not created
    table = resources[dataset_id]["Properties"]["PhysicalTableMap"]["table-1"]["RelationalTable"]
    assert table["DataSourceArn"] == f"{A}:datasource/wh-staging"
    assert set(template["Outputs"]) == set(resources)


def test_cloudformation_of_a_plan_that_changes_nothing_is_still_a_valid_template():
    template = cloudformation_render(description="d", folder_arn=f"{A}:folder/staging", steps=[])
    assert template["Resources"] == {"NothingToChange": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}


def test_bundle_lists_resources_by_section_in_creation_order_with_memberships():
    bundle = bundle_render(promotion={"Id": 1}, steps=staging_steps(), conflicts=[])
    resources = bundle["Resources"]
    assert [r["Id"] for r in resources["DataSets"]] == ["sales--staging"]
    assert [r["Id"] for r in resources["Dashboards"]] == ["sales-dashboard--staging"]
    assert resources["DataSources"] == []
    assert bundle["Existing"] == [{"Arn": f"{A}:datasource/wh-staging", "Kind": "data_source", "Action": "map"}]
    assert [m["MemberId"] for m in bundle["FolderMemberships"]] == [
        "sales--staging",
        "sales-analysis--staging",
        "sales-dashboard--staging",
    ]
    dashboard = resources["Dashboards"][0]
    assert dashboard["Parameters"]["DashboardId"] == "sales-dashboard--staging"
    assert f"{A}:template/sales-template--staging" in dashboard["DependsOn"]
