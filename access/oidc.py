"""Single sign-on with OpenID Connect (mozilla-django-oidc): users are matched by username (else email), created on
first sign-in, and their group memberships are made to match the identity provider's group claim at every sign-in.

Disabled unless OIDC_RP_CLIENT_ID is set (see config/settings/base.py); then the sign-in page offers single sign-on
next to local accounts.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .choices import AuditSource
from .services import user_groups_sync

logger = logging.getLogger(__name__)


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


class GroupSyncOIDCBackend(OIDCAuthenticationBackend):
    """The identity provider decides who someone is and which groups they are in; Cartograph decides what groups see."""

    def authenticate(self, request, **kwargs):
        """A provider that refuses the code, answers garbage or cannot be reached is a failed sign-in, not an error."""
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation, ValueError) as error:
            logger.warning("single sign-on failed: %s", error)
            return None

    def _username(self, claims: dict) -> str:
        claim = getattr(settings, "OIDC_USERNAME_CLAIM", "preferred_username")
        return str(claims.get(claim) or claims.get("email") or "")[:150]

    def verify_claims(self, claims: dict) -> bool:
        return bool(self._username(claims))

    def filter_users_by_claims(self, claims: dict):
        username = self._username(claims)
        users = self.UserModel.objects.filter(username=username)
        if not users.exists() and claims.get("email"):
            users = self.UserModel.objects.filter(email__iexact=claims["email"])
        return users

    def create_user(self, claims: dict):
        user = self.UserModel.objects.create_user(self._username(claims), email=claims.get("email", ""))
        return self.update_user(user, claims)

    def update_user(self, user, claims: dict):
        changed = []
        if claims.get("email") and user.email != claims["email"]:
            user.email = claims["email"]
            changed.append("email")
        if changed:
            user.save(update_fields=changed)
        groups = claims.get(getattr(settings, "OIDC_GROUPS_CLAIM", "groups")) or []
        if isinstance(groups, str):
            groups = [groups]
        user_groups_sync(
            user=user,
            claim_groups=groups,
            group_map=getattr(settings, "OIDC_GROUP_MAP", None) or None,
            source=AuditSource.UI,
        )
        return user


def sso_start(request: HttpRequest) -> HttpResponse:
    """Sends the browser to the identity provider (404 while single sign-on is not configured)."""
    if not sso_enabled():
        raise Http404("Single sign-on is not configured.")
    return OIDCAuthenticationRequestView.as_view()(request)


def sso_callback(request: HttpRequest) -> HttpResponse:
    """The identity provider sends the browser back here with a code; the backend signs the user in."""
    if not sso_enabled():
        raise Http404("Single sign-on is not configured.")
    return OIDCAuthenticationCallbackView.as_view()(request)
