"""Promotions: copies of BI assets (with their dependencies) from one environment folder into another."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalog.choices import Environment
from catalog.models import Asset, Customer

from .choices import PromotionKind, PromotionStatus, StepAction, StepStatus


class EnvironmentPolicy(models.Model):
    """How promotions into an environment are approved: with `second_person_required`, whoever planned (or
    requested) a promotion may not approve it. Environments without a row need no second person."""

    environment = models.CharField(max_length=10, choices=Environment.choices, unique=True)
    second_person_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "environment policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="environment_policy_environment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.environment}: {'second person' if self.second_person_required else 'self-approval'}"


class Promotion(models.Model):
    """One plan to copy `source` (and, with the option, what it depends on) into `target_folder`.

    The plan is fixed when it is made (its steps); nothing happens in QuickSight until it is approved and executed.
    A customer copy is a promotion requested by a customer-facing user that forks the asset into a customer's folder.
    """

    kind = models.CharField(max_length=20, choices=PromotionKind.choices, default=PromotionKind.ENVIRONMENT)
    status = models.CharField(max_length=20, choices=PromotionStatus.choices, default=PromotionStatus.PLANNED)
    source = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="promotions")
    target_folder = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="incoming_promotions")
    environment = models.CharField(max_length=10, choices=Environment.choices, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    options = models.JSONField(default=dict, blank=True)
    conflicts = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True, max_length=5000)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="promotions_planned"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("target_folder")), name="promotion_target_not_source"),
            models.CheckConstraint(condition=Q(status__in=PromotionStatus.values), name="promotion_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=PromotionKind.values), name="promotion_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=PromotionKind.ENVIRONMENT) | Q(customer__isnull=False),
                name="promotion_customer_copy_has_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "-created_at"], name="promotion_source_idx"),
            models.Index(fields=["status"], name="promotion_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Promotion {self.pk} of {self.source_id} to {self.target_folder_id}"

    @property
    def blocking_conflicts(self) -> list[dict]:
        return [c for c in self.conflicts if c.get("blocking")]


class PromotionStep(models.Model):
    """One step of a plan: create, update or keep one asset in the target (or add it to the folder).

    `request` holds the QuickSight Create*/Update* parameters the plan renders to; `previous` what an update
    replaced (its Describe*Definition output), so a rollback can restore it.
    """

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    action = models.CharField(max_length=20, choices=StepAction.choices)
    name = models.CharField(max_length=300)
    target_id = models.CharField(max_length=512)
    target_arn = models.CharField(max_length=512)
    depends_on = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True)
    request = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    previous = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["promotion_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["promotion", "position"], name="promotion_step_unique_position"),
            models.CheckConstraint(condition=Q(action__in=StepAction.values), name="promotion_step_action_valid"),
            models.CheckConstraint(condition=Q(status__in=StepStatus.values), name="promotion_step_status_valid"),
        ]

    def __str__(self) -> str:
        return f"step {self.position} of promotion {self.promotion_id}: {self.action} {self.kind} {self.target_id}"


class PromotedCopy(models.Model):
    """The copy of `source` in `target_folder`, as the last promotion left it.

    The fingerprints of both sides at that moment tell later whether the copy is the same version, behind (the
    source changed) or diverged (the copy was changed in the target).
    """

    source = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="promoted_copies")
    copy = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="promoted_origins")
    target_folder = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="copies")
    source_fingerprint = models.CharField(max_length=64)
    copy_fingerprint = models.CharField(max_length=64)
    source_version = models.PositiveIntegerField()
    promoted_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target_folder"], name="promoted_copy_one_per_folder"),
            models.CheckConstraint(condition=~Q(source=F("copy")), name="promoted_copy_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.copy_id} copies {self.source_id} in {self.target_folder_id}"
