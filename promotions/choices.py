from django.db import models

from catalog.choices import AssetKind as K

# The QuickSight kinds a promotion copies, in the order they must exist in the target.
PROMOTABLE_KINDS: tuple[str, ...] = (K.DATA_SOURCE, K.DATASET, K.TEMPLATE, K.ANALYSIS, K.DASHBOARD)
# The kinds a promotion may start from (data sources differ per environment: they are mapped, not promoted alone).
ROOT_KINDS: tuple[str, ...] = (K.DATASET, K.TEMPLATE, K.ANALYSIS, K.DASHBOARD)
# Lineage edge kinds that mean "the target needs the source to exist first".
DEPENDENCY_EDGE_KINDS: tuple[str, ...] = ("reads_from", "uses_dataset", "template_of", "created_from")
# The lineage edge kind between a promoted copy and its source (recorded when lineage allows it).
PROMOTED_FROM = "promoted_from"


class PromotionKind(models.TextChoices):
    ENVIRONMENT = "environment", "Environment promotion"
    CUSTOMER_COPY = "customer_copy", "Customer copy"


class PromotionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    APPROVED = "approved", "Approved"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (rolled back)"
    ROLLED_BACK = "rolled_back", "Rolled back"


class StepAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    UNCHANGED = "unchanged", "Unchanged"
    MAP = "map", "Use mapped"
    MEMBERSHIP = "membership", "Add to folder"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


class CopyState(models.TextChoices):
    SAME = "same", "Same version"
    BEHIND = "behind", "Behind"
    DIVERGED = "diverged", "Diverged"
