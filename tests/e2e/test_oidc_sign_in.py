"""Single sign-on against a real OpenID Connect provider served over HTTP by the test (tests/e2e/fake_idp.py):
the whole code flow runs (authorize redirect, token exchange, RS256 ID token checked against the JWKS, userinfo),
and the provider's group claim decides the user's Cartograph groups at each sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from access.models import AuditEvent

from .fake_idp import FakeIdentityProvider

pytestmark = pytest.mark.django_db

BACKENDS = ["access.oidc.GroupSyncOIDCBackend", "django.contrib.auth.backends.ModelBackend"]


@pytest.fixture
def idp() -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, idp):
    for name, value in idp.settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    settings.OIDC_GROUP_MAP = {}
    return idp


def sign_in(client, idp: FakeIdentityProvider, **person):
    idp.person = person
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302 and start["Location"].startswith(idp.issuer)
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=5)  # the browser visits the provider
    assert at_idp.status_code == 302
    back = urlparse(at_idp.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_single_sign_on_creates_the_user_with_the_claimed_groups(client, sso):
    done = sign_in(client, sso, sub="u-1", preferred_username="dana", email="dana@example.com", groups=["analysts"])
    assert done.status_code == 302 and done["Location"] == "/"
    user = get_user_model().objects.get(username="dana")
    assert user.email == "dana@example.com"
    assert list(user.groups.values_list("name", flat=True)) == ["analysts"]
    assert client.get("/api/v1/me/").json()["groups"] == ["analysts"]
    assert [r for r in sso.requests if r != "GET /authorize"][-3:] == ["POST /token", "GET /jwks", "GET /userinfo"]
    event = AuditEvent.objects.get(action="sign_in.sso")
    assert event.actor_name == "dana" and event.detail == {"added": ["analysts"], "removed": []}


def test_memberships_follow_the_claim_at_each_sign_in(client, sso):
    sign_in(client, sso, sub="u-1", preferred_username="dana", email="dana@example.com", groups=["analysts", "bi"])
    client.logout()
    sign_in(client, sso, sub="u-1", preferred_username="dana", email="dana@example.com", groups=["bi", "finance"])
    user = get_user_model().objects.get(username="dana")
    assert sorted(user.groups.values_list("name", flat=True)) == ["bi", "finance"]
    assert AuditEvent.objects.filter(action="sign_in.sso").order_by("-id").first().detail == {
        "added": ["finance"],
        "removed": ["analysts"],
    }


def test_with_a_group_map_only_mapped_groups_are_managed(client, sso, settings):
    settings.OIDC_GROUP_MAP = {"idp-claims-team": "claims-analysts", "idp-finance": "finance"}
    local = Group.objects.create(name="local-admins")
    user = get_user_model().objects.create_user("erin", email="erin@example.com")
    user.groups.add(local, Group.objects.create(name="finance"))
    sign_in(
        client, sso, sub="u-2", preferred_username="erin", email="erin@example.com", groups=["idp-claims-team", "x"]
    )
    assert sorted(user.groups.values_list("name", flat=True)) == ["claims-analysts", "local-admins"]


def test_a_forged_code_does_not_sign_anyone_in(client, sso):
    client.get("/oidc/authenticate/")
    state = client.session["oidc_states"]
    forged = client.get(f"/oidc/callback/?code=made-up&state={next(iter(state))}")
    assert forged.status_code == 302 and forged["Location"] == "/sign-in/?sso=failed"
    assert b"Single sign-on did not succeed" in client.get(forged["Location"]).content
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert not get_user_model().objects.exclude(username="").exists()


def test_single_sign_on_is_off_unless_configured(client, settings):
    settings.OIDC_RP_CLIENT_ID = ""
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=a&state=b").status_code == 404
    assert b"single sign-on" not in client.get("/sign-in/").content


def test_the_sign_in_page_offers_single_sign_on_when_configured(client, sso):
    assert b"Sign in with single sign-on" in client.get("/sign-in/").content
