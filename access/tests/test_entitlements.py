"""Entitlements: what a group sees and through which route; who sees an asset and through which grant."""

import pytest

from access.services import grant_set

pytestmark = pytest.mark.django_db


def test_what_a_group_sees_and_why(api, world):
    grant_set(group=world.analysts, permission="view", asset=world.dataset.asset, actor=world.staff)
    api.force_authenticate(world.analyst)
    body = api.get("/api/v1/entitlements/groups/analysts/").json()
    assert body["group"] == "analysts"
    assert [(a["name"], a["routes"]) for a in body["assets"]] == [("Orders", ["view grant on the asset"])]

    api.force_authenticate(world.owner)
    owned = api.get("/api/v1/entitlements/groups/sales-owners/").json()
    assert [(a["name"], a["routes"]) for a in owned["assets"]] == [("Orders", ["owns the domain"])]


def test_a_group_you_are_not_in_is_not_found_unless_staff(api, world):
    api.force_authenticate(world.analyst)
    assert api.get("/api/v1/entitlements/groups/sales-owners/").status_code == 404
    assert api.get("/api/v1/entitlements/groups/nope/").status_code == 404
    api.force_authenticate(world.staff)
    assert api.get("/api/v1/entitlements/groups/sales-owners/").status_code == 200


def test_who_sees_an_asset_and_through_which_grant(api, world):
    grant = grant_set(group=world.analysts, permission="view", domain=world.domain, actor=world.staff)
    api.force_authenticate(world.owner)
    body = api.get(f"/api/v1/entitlements/assets/{world.dataset.asset_id}/").json()
    routes = {(r["route"], r["group"]): r for r in body["routes"]}
    assert routes[("owns the domain", "sales-owners")]["users"] == ["olga"]
    assert routes[("domain grant", "analysts")]["users"] == ["ana"]
    assert routes[("domain grant", "analysts")]["grant_id"] == grant.pk
    assert routes[("staff", None)]["users"] == ["root"]
    assert routes[("owner", None)]["users"] == ["olga"]


def test_only_editors_see_who_has_access(api, world):
    grant_set(group=world.analysts, permission="view", domain=world.domain, actor=world.staff)
    api.force_authenticate(world.analyst)  # sees the asset, may not edit it
    assert api.get(f"/api/v1/entitlements/assets/{world.dataset.asset_id}/").status_code == 403
    api.force_authenticate(world.outsider)  # does not see it: not found
    assert api.get(f"/api/v1/entitlements/assets/{world.dataset.asset_id}/").status_code == 404


def test_requestable_flags_only_assets_one_could_ask_for(world):
    from access.selectors import requestable_asset_ids

    ids = [world.dataset.asset_id, world.secret.pk]
    assert requestable_asset_ids(user=world.analyst, asset_ids=ids) == {world.dataset.asset_id}
    assert requestable_asset_ids(user=world.owner, asset_ids=ids) == set()  # already sees it


def test_asset_viewers_agrees_with_the_visibility_rule(django_user_model):
    """`asset_viewers` turns the one rule around (who sees an asset); for every user and asset both must agree."""
    from django.contrib.auth.models import Group

    from access.permissions import asset_viewers
    from access.services import grant_set
    from catalog.models import Asset, Domain
    from catalog.tests.factories import UserFactory

    owners, granted, other = (Group.objects.create(name=name) for name in ("owners", "granted", "other"))
    people = [UserFactory(username=f"u{n}") for n in range(4)]
    people[0].groups.add(owners)
    people[1].groups.add(granted)
    people[2].groups.add(other)
    domain = Domain.objects.create(name="Claims", slug="claims-viewers", owner_group=owners)
    shared = Domain.objects.create(name="Shared domain", slug="shared-domain")
    grant_set(group=other, permission="view", actor=None, domain=shared)
    assets = [
        Asset.objects.create(kind="dashboard", external_id="viewers-1", name="in domain", domain=domain),
        Asset.objects.create(kind="dashboard", external_id="viewers-2", name="in a granted domain", domain=shared),
        Asset.objects.create(kind="dashboard", external_id="viewers-3", name="granted", owner=people[3]),
        Asset.objects.create(kind="dashboard", external_id="viewers-4", name="group owned", owner_group=other),
        Asset.objects.create(kind="dashboard", external_id="viewers-5", name="nobody's"),
    ]
    grant_set(group=granted, permission="view", actor=None, asset=assets[1])
    viewers = asset_viewers([asset.pk for asset in assets])
    for user in people:
        visible = set(Asset.objects.visible_to(user).filter(pk__in=[a.pk for a in assets]).values_list("pk", flat=True))
        assert {pk for pk, who in viewers.items() if who.include(user)} == visible, user.username
