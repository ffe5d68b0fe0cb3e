from django.db import models


class Permission(models.TextChoices):
    VIEW = "view", "View"
    EDIT = "edit", "Edit"


class AuditSource(models.TextChoices):
    API = "api", "API"
    UI = "ui", "Web UI"
    TASK = "task", "Background task"
    SYSTEM = "system", "System (command, migration, admin)"


class AuditAction(models.TextChoices):
    DATA_PREVIEW = "data.preview", "Previewed data"
    DATA_VISUAL = "data.visual", "Read a visual's data"
    DATA_EXPORT = "data.export", "Exported data"
    ALERT_EVALUATE = "alert.evaluate", "Evaluated an alert"
    GRANT_SET = "grant.set", "Set a grant"
    GRANT_REVOKE = "grant.revoke", "Revoked a grant"
    REQUEST_CREATE = "request.create", "Requested access"
    REQUEST_APPROVE = "request.approve", "Approved a request"
    REQUEST_REJECT = "request.reject", "Rejected a request"
    REQUEST_WITHDRAW = "request.withdraw", "Withdrew a request"
    REQUEST_EXTEND = "request.extend", "Extended a grant"
    REQUEST_REVOKE = "request.revoke", "Revoked a request's grant"
    REQUEST_EXPIRE = "request.expire", "A request's grant expired"
    SIGN_IN_SSO = "sign_in.sso", "Signed in with single sign-on"
    RULE_SET = "rule.set", "Added a row or column rule"
    RULE_DELETE = "rule.delete", "Removed a row or column rule"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


# Which status a request may move to from which: anything not listed is refused (no approving a withdrawn request).
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.PENDING: frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.WITHDRAWN}),
    RequestStatus.APPROVED: frozenset({RequestStatus.EXPIRED, RequestStatus.REVOKED}),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
    RequestStatus.EXPIRED: frozenset(),
    RequestStatus.REVOKED: frozenset(),
}

# Kinds of asset a sharing request may be for.
REQUESTABLE_KINDS = ("data_product", "dataset", "dashboard")
