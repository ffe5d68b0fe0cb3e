from datetime import timedelta

from django.db import models


class Condition(models.TextChoices):
    ABOVE = "above", "is above"
    BELOW = "below", "is below"
    EQUAL = "equal", "is equal to"


class Frequency(models.TextChoices):
    ALWAYS = "always", "as frequently as possible"
    HOURLY = "hourly", "hourly at most"
    DAILY = "daily", "daily at most"
    WEEKLY = "weekly", "weekly at most"


FREQUENCY_WINDOW = {
    Frequency.ALWAYS: timedelta(0),
    Frequency.HOURLY: timedelta(hours=1),
    Frequency.DAILY: timedelta(hours=24),
    Frequency.WEEKLY: timedelta(days=7),
}


class Period(models.TextChoices):
    FIXED = "fixed", "the clicked cell's date"
    LATEST = "latest", "the latest period"
    LATEST_COMPLETE = "latest_complete", "the latest complete period"


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"
    PAUSED = "paused", "Paused after repeated failures"


class State(models.TextChoices):
    UNKNOWN = "unknown", "Not evaluated yet"
    OK = "ok", "OK"
    BREACHED = "breached", "Breached"
    NO_DATA = "no_data", "No data"
    ERROR = "error", "Error"


class NotificationKind(models.TextChoices):
    BREACH = "breach", "Threshold crossed"
    NO_DATA = "no_data", "No data"
    PAUSED = "paused", "Alert paused"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


PAUSE_AFTER_FAILURES = 4
