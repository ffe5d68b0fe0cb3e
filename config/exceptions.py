"""One exception handler for the API: every error is `{"detail": ...}` plus field errors, never a 500 for bad input."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .errors import DomainError


def _summary(detail) -> str:
    """A one-line message naming the first field that is wrong."""
    if isinstance(detail, dict):
        for field, errors in detail.items():
            inner = _summary(errors)
            return inner if field in ("non_field_errors", "detail") else f"{field}: {inner}"
        return "invalid input"
    if isinstance(detail, list) and detail:
        return _summary(detail[0])
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is too large; send less data or split it into several requests."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": f"Rejected request: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, (IntegrityError, DataError)):
        return Response(
            {"detail": f"The data conflicts with what is stored: {str(exc).splitlines()[0]}"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        data = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _summary(data), **data}
    return response
