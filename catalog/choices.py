from django.db import models


class AssetKind(models.TextChoices):
    DATA_PRODUCT = "data_product", "Data product"
    DATA_SOURCE = "data_source", "Data source"
    DATASET = "dataset", "Dataset"
    TEMPLATE = "template", "Template"
    ANALYSIS = "analysis", "Analysis"
    DASHBOARD = "dashboard", "Dashboard"
    VISUAL = "visual", "Visual"
    FOLDER = "folder", "Folder"


class AssetStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"
    DELETED = "deleted", "Deleted"


class Environment(models.TextChoices):
    DEV = "dev", "Development"
    STAGING = "staging", "Staging"
    PROD = "prod", "Production"


class ChangeSource(models.TextChoices):
    API = "api", "API"
    UI = "ui", "Web UI"
    IMPORT = "import", "Bulk import"
    EVENT = "event", "Change event"
    SYSTEM = "system", "System"


# Kinds whose assets carry a schema (Column rows).
KINDS_WITH_COLUMNS = frozenset({AssetKind.DATA_PRODUCT, AssetKind.DATASET, AssetKind.DATA_SOURCE})
