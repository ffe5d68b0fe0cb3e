"""Bearer-token authentication of event sources (EventBridge API destinations, OpenLineage clients)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from config.errors import DomainError

from . import services


class EventSourceAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` of an event source; the view says which kind of source it accepts."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("use one header: Authorization: Bearer <event source token>")
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("the token has characters a token cannot have") from None
        kind = getattr(request.parser_context.get("view"), "event_source_kind", None)
        try:
            source = services.event_source_authenticate(token=token, kind=kind)
        except DomainError as error:
            if error.status_code == 403:
                raise exceptions.PermissionDenied(error.message) from None
            raise exceptions.AuthenticationFailed(error.message) from None
        return AnonymousUser(), source

    def authenticate_header(self, request):
        return 'Bearer realm="event sources"'


class IsEventSource(permissions.BasePermission):
    message = "send the event source's token: Authorization: Bearer <token>"

    def has_permission(self, request, view):
        return request.auth is not None and getattr(request.auth, "kind", None) == view.event_source_kind


class EventSourceAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "ingestion.authentication.EventSourceAuthentication"
    name = "eventSourceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "an event source token (issued on the ingestion page)",
        }
