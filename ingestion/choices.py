from django.db import models


class SourceKind(models.TextChoices):
    """What an event source sends; its token is accepted only by the endpoint for that kind."""

    QUICKSIGHT = "quicksight", "QuickSight (EventBridge / CloudTrail)"
    OPENLINEAGE = "openlineage", "OpenLineage"


class EventFormat(models.TextChoices):
    QUICKSIGHT = "quicksight", "QuickSight native event"
    CLOUDTRAIL = "cloudtrail", "CloudTrail record"
    OPENLINEAGE_RUN = "ol_run", "OpenLineage RunEvent"
    OPENLINEAGE_DATASET = "ol_dataset", "OpenLineage DatasetEvent"
    OPENLINEAGE_JOB = "ol_job", "OpenLineage JobEvent"
    UNKNOWN = "unknown", "Unknown"


class EventStatus(models.TextChoices):
    """What became of a received event. `pending` events are stored and wait for the apply task."""

    PENDING = "pending", "Pending (stored, not yet applied)"
    APPLIED = "applied", "Applied"
    DUPLICATE = "duplicate", "Duplicate"
    STALE = "stale", "Older than the state it would change"
    REJECTED = "rejected", "Rejected"
    UNKNOWN = "unknown", "Unknown type (stored only)"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ItemOutcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged"
    REJECTED = "rejected", "Rejected"


class EventAnswer(models.TextChoices):
    """What the receiving endpoint answers for each event, before it is applied."""

    ACCEPTED = "accepted", "Accepted (stored; applied shortly)"
    DUPLICATE = "duplicate", "Duplicate of an event already received"
    REJECTED = "rejected", "Rejected (malformed; stored with the reason)"
    UNKNOWN = "unknown", "Unknown type (stored only)"
