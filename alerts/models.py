"""Threshold alerts on one cell of a table or pivot visual, their evaluations, breach episodes and email outbox."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import Asset, Dataset

from .choices import Condition, Frequency, NotificationKind, NotificationStatus, Period, State, Status


class Alert(models.Model):
    """A reader's threshold on one cell: the visual's spec is captured at creation, so later edits or deletion of the
    visual do not change the alert. `cell_key` is the cell's stable key in that spec's results."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    name = models.CharField(max_length=300)
    visual = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="alerts")
    spec = models.JSONField()
    cell_key = models.TextField(max_length=5000)
    measure = models.CharField(max_length=300)
    dimensions = models.JSONField(default=dict, blank=True)
    condition = models.CharField(max_length=10, choices=Condition.choices)
    threshold = models.DecimalField(max_digits=24, decimal_places=6)
    tolerance = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    notify_no_data = models.BooleanField(default=False)
    period = models.CharField(max_length=20, choices=Period.choices, default=Period.FIXED)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.UNKNOWN)
    status_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("create_alerts", "Can create alerts")]
        constraints = [
            models.CheckConstraint(condition=Q(condition__in=Condition.values), name="alert_condition_valid"),
            models.CheckConstraint(condition=Q(frequency__in=Frequency.values), name="alert_frequency_valid"),
            models.CheckConstraint(condition=Q(period__in=Period.values), name="alert_period_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="alert_status_valid"),
            models.CheckConstraint(condition=Q(tolerance__isnull=True) | Q(tolerance__gte=0), name="alert_tolerance"),
        ]
        indexes = [models.Index(fields=["dataset", "status"], name="alert_dataset_status_idx")]

    def __str__(self) -> str:
        return self.name


class Evaluation(models.Model):
    """One evaluation of an alert against one version of its dataset's data. One per alert and version: a
    redelivered task finds it done."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evaluations")
    dataset_version = models.CharField(max_length=100)
    data_as_of = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    period = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "dataset_version"], name="evaluation_once_per_version"),
        ]
        indexes = [models.Index(fields=["alert", "-evaluated_at"], name="evaluation_recent_idx")]

    def __str__(self) -> str:
        return f"{self.alert_id} @ {self.dataset_version}: {self.state}"


class Episode(models.Model):
    """A run of consecutive breached evaluations; it opens on a breach and closes when the value is back to normal."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="episodes")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["alert"], condition=Q(closed_at__isnull=True), name="episode_one_open"),
        ]

    def __str__(self) -> str:
        return f"episode of {self.alert_id} from {self.opened_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An email in the outbox: written in the same transaction as the evaluation that caused it, then sent with
    retries. One per evaluation and kind, so a redelivered evaluation never emails twice."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    evaluation = models.ForeignKey(Evaluation, null=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    to_email = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "kind"], name="notification_once_per_evaluation"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]), name="outbox_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email}: {self.status}"

    @property
    def message_id(self) -> str:
        """Stable across retries, so a receiving server can recognise a resend of the same email."""
        return f"<alert-notification-{self.pk}@cartograph>"


class AlertSchedule(models.Model):
    """When the alerts on a direct-query dataset are evaluated: daily at a minute picked at random between 18:00 and
    08:00 in the dataset's time zone, or hourly at that minute past the hour (the dataset owner decides)."""

    class Interval(models.TextChoices):
        DAILY = "daily", "Daily"
        HOURLY = "hourly", "Hourly"

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="alert_schedule")
    interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.DAILY)
    minute_of_day = models.PositiveIntegerField(help_text="minutes after local midnight")
    time_zone = models.CharField(max_length=64, default="UTC")
    next_run_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(minute_of_day__lt=1440), name="alert_schedule_minute_range"),
        ]

    def __str__(self) -> str:
        return f"alerts of dataset {self.dataset_id}: {self.interval} at minute {self.minute_of_day}"
