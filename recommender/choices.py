from django.db import models


class View(models.TextChoices):
    """Which view of the query product a recommendation was matched on."""

    PLAIN = "plain", "Plain"
    ENRICHED = "enriched", "Enriched"


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class RelationshipSource(models.TextChoices):
    """Where a known relationship between two products came from."""

    USER = "user", "Stated by a user"
    RECOMMENDATION = "recommendation", "Accepted recommendation"
    LINEAGE = "lineage", "Lineage (derived from)"
    OBSERVED = "observed", "Observed join"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Feedback(models.TextChoices):
    ACCEPT = "accept", "Accept"
    DISMISS = "dismiss", "Dismiss"
