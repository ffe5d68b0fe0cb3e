"""Event and Describe* parsing is pure: no database."""

from datetime import UTC, datetime

import pytest

from ingestion.changes import ParseError, ci_get, ci_path
from ingestion.cloudtrail import cloudtrail_plan
from ingestion.events import envelope_read
from ingestion.quicksight import UnknownEvent, arn_ref, data_set_plan, native_plan

from .conftest import ACCOUNT, REGION, arn, cloudtrail

AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_keys_are_read_in_either_spelling():
    assert ci_get({"sourceEntity": 1}, "SourceEntity") == 1
    assert ci_path({"SourceEntity": {"sourceTemplate": {"ARN": "x"}}}, "sourceEntity.SourceTemplate.Arn") == "x"


def test_arns_name_their_kind_and_drop_template_versions():
    assert arn_ref(arn("datasource", "w")) == ("data_source", arn("datasource", "w"))
    assert arn_ref(f"{arn('template', 't')}/version/3") == ("template", arn("template", "t"))
    with pytest.raises(ParseError, match="not a QuickSight ARN"):
        arn_ref("arn:aws:s3:::bucket", path="x")


@pytest.mark.parametrize(
    "detail_type",
    [
        "QuickSight Dashboard Deleted",
        "Amazon QuickSight Dashboard Deleted",
        "AWS Quick Sight Dashboard Deleted",
        "Amazon Quick Suite Dashboard Deleted",
    ],
)
def test_native_detail_types_match_whatever_the_product_is_called(detail_type):
    event = {"detail-type": detail_type, "account": ACCOUNT, "region": REGION, "detail": {"dashboardId": "d"}}
    [change] = native_plan(event, at=AT).assets
    assert change.delete and change.ref == ("dashboard", arn("dashboard", "d"))


def test_native_events_of_other_resources_are_unknown():
    with pytest.raises(UnknownEvent):
        native_plan({"detail-type": "QuickSight VPC Connection Creation Successful", "detail": {}}, at=AT)


def test_a_failed_call_changes_nothing():
    record = cloudtrail("DeleteDashboard", {"awsAccountId": ACCOUNT, "dashboardId": "d"}, event_id="e")["detail"]
    record["errorCode"] = "ResourceNotFoundException"
    plan = cloudtrail_plan(record, at=AT)
    assert plan.assets == [] and "failed" in plan.notes[0]


def test_cloudtrail_records_are_deduplicated_by_their_own_event_id():
    event = cloudtrail("DeleteDashboard", {"awsAccountId": ACCOUNT, "dashboardId": "d"}, event_id="ct-9")
    assert envelope_read(event).key == "ct:ct-9"
    assert envelope_read(event["detail"]).key == "ct:ct-9"  # the same record delivered on its own


def test_a_join_needs_operands_of_the_dataset():
    dataset = {
        "Arn": arn("dataset", "x"),
        "Name": "X",
        "PhysicalTableMap": {},
        "LogicalTableMap": {
            "j": {
                "Alias": "j",
                "Source": {"JoinInstruction": {"LeftOperand": "a", "RightOperand": "b", "OnClause": "{a} = {b}"}},
            }
        },
    }
    with pytest.raises(ParseError, match=r"DataSet\.LogicalTableMap\.j\.Source\.JoinInstruction"):
        data_set_plan(dataset, path="DataSet")
