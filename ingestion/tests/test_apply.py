"""Applying received events: grouping into rounds (pure), and event-time order within one batch."""

import itertools
from datetime import UTC, datetime

import pytest

from catalog.models import Asset
from ingestion.changes import AssetChange, Membership, Plan
from ingestion.services import event_rounds

from .conftest import ACCOUNT, arn, cloudtrail


def plan(*refs, folder=None, at=1, name=None) -> Plan:
    """A plan renaming the assets (each plan to a new name unless `name` is given)."""
    return Plan(
        at=datetime(2026, 3, 1, at, tzinfo=UTC),
        assets=[AssetChange(ref=ref, name=name or f"name {next(_names)}") for ref in refs],
        memberships=[Membership(folder=folder, member=refs[0])] if folder else [],
    )


_names = itertools.count(1)


def test_plans_changing_the_same_asset_go_to_later_rounds_and_the_rest_stay_together():
    d1, d2, d3, f1 = ("dashboard", "d1"), ("dashboard", "d2"), ("dashboard", "d3"), ("folder", "f1")
    plans = [
        ("a", plan(d1)),
        ("b", plan(d2)),
        ("c", plan(d1)),  # d1 again: after a
        ("d", plan(d3, folder=f1)),
        ("e", plan(d2, folder=f1)),  # d2 and f1 again: after b and d
        ("f", plan(d3)),  # d3 again: after d, but may join c's round
    ]
    rounds = [[name for name, _ in round_] for round_ in event_rounds(plans)]
    assert rounds == [["a", "b", "d"], ["c", "e", "f"]]


def test_a_chain_of_changes_to_one_asset_keeps_its_order():
    d1 = ("dashboard", "d1")
    rounds = event_rounds([(n, plan(d1)) for n in "abc"])
    assert [[name for name, _ in round_] for round_ in rounds] == [["a"], ["b"], ["c"]]


def test_the_same_change_again_shares_the_round_of_the_one_before_and_a_different_one_waits():
    d1, d2 = ("dashboard", "d1"), ("dashboard", "d2")
    plans = [
        ("a", plan(d1, name="Revenue")),
        ("b", plan(d1, name="Revenue")),  # the same change again (a START then a COMPLETE): with a
        ("c", plan(d1, name="Revenue (EUR)")),  # a different change: after them
        ("d", plan(d1, name="Revenue (EUR)")),  # the same as c: with c
        ("e", plan(d1, d2, name="Revenue (EUR)")),  # the same to d1, but d2 is not in d's round: fine, with d
        ("f", plan(d1, name="Revenue")),  # back to the first name: after them all
    ]
    rounds = [[name for name, _ in round_] for round_ in event_rounds(plans)]
    assert rounds == [["a", "b"], ["c", "d", "e"], ["f"]]


def test_memberships_of_one_folder_wait_only_for_the_same_member_and_for_the_whole_member_list():
    d1, d2, f1 = ("dashboard", "d1"), ("dashboard", "d2"), ("folder", "f1")

    def member(ref, at=1):
        return Plan(at=datetime(2026, 3, 1, at, tzinfo=UTC), memberships=[Membership(folder=f1, member=ref)])

    plans = [
        ("a", member(d1)),
        ("b", member(d2)),  # another member: with a
        ("c", member(d1)),  # the same member again: after a
        ("d", Plan(exact_folders=[f1], memberships=[Membership(folder=f1, member=d2)])),  # the whole list: after all
        ("e", member(d2)),  # after the whole list
    ]
    rounds = [[name for name, _ in round_] for round_ in event_rounds(plans)]
    assert rounds == [["a", "b"], ["c"], ["d"], ["e"]]


@pytest.mark.django_db
def test_events_of_one_batch_are_applied_in_event_time_order_whatever_their_order_in_the_batch(events_api, admin_api):
    create = cloudtrail(
        "CreateDashboard",
        {
            "awsAccountId": ACCOUNT,
            "dashboardId": "d1",
            "name": "Revenue",
            "sourceEntity": {"sourceTemplate": {"arn": arn("template", "t1"), "dataSetReferences": []}},
        },
        event_id="c1",
        time="2026-03-01T10:00:00Z",
    )
    rename = cloudtrail(
        "UpdateDashboard",
        {
            "awsAccountId": ACCOUNT,
            "dashboardId": "d1",
            "name": "Revenue (EUR)",
            "sourceEntity": {"sourceTemplate": {"arn": arn("template", "t2"), "dataSetReferences": []}},
        },
        event_id="u1",
        time="2026-03-01T11:00:00Z",
    )
    other = cloudtrail(
        "CreateDashboard",
        {
            "awsAccountId": ACCOUNT,
            "dashboardId": "d2",
            "name": "Costs",
            "sourceEntity": {"sourceTemplate": {"arn": arn("template", "t1"), "dataSetReferences": []}},
        },
        event_id="c2",
        time="2026-03-01T10:30:00Z",
    )
    # when the newest arrives first in the batch
    response = events_api.post("/api/v1/events/", [rename, other, create], format="json")
    # then all apply, in event-time order
    statuses = [admin_api.get(f"/api/v1/ingestion/events/{e['id']}/").json() for e in response.json()["events"]]
    assert [s["status"] for s in statuses] == ["applied"] * 3
    dashboard = Asset.objects.get(external_id=arn("dashboard", "d1"))
    assert dashboard.name == "Revenue (EUR)"
    assert dashboard.attributes["source_template"] == arn("template", "t2")
    assert Asset.objects.get(external_id=arn("dashboard", "d2")).pk in statuses[1]["asset_ids"]
