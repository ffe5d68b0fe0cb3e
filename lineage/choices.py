from django.db import models

from catalog.choices import AssetKind as K


class EdgeKind(models.TextChoices):
    READS_FROM = "reads_from", "reads from"
    USES_DATASET = "uses_dataset", "uses dataset"
    TEMPLATE_OF = "template_of", "template of"
    CREATED_FROM = "created_from", "created from"
    FORKED_FROM = "forked_from", "forked from"
    CONTAINS = "contains", "contains"
    DERIVED_FROM = "derived_from", "derived from"
    PROMOTED_FROM = "promoted_from", "promoted from"


class Transformation(models.TextChoices):
    """OpenLineage column-lineage transformation types."""

    DIRECT = "DIRECT", "Direct"
    INDIRECT = "INDIRECT", "Indirect"


class ReleaseStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    ROLLED_BACK = "rolled_back", "Rolled back"


_PROMOTABLE = frozenset({K.DATA_SOURCE, K.DATASET, K.TEMPLATE, K.ANALYSIS, K.DASHBOARD})

# Which asset kinds each edge kind may join: source kinds → target kinds ("data or design flows source → target").
ALLOWED_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    EdgeKind.READS_FROM: (frozenset({K.DATA_SOURCE, K.DATA_PRODUCT}), frozenset({K.DATASET})),
    EdgeKind.USES_DATASET: (frozenset({K.DATASET}), frozenset({K.ANALYSIS, K.TEMPLATE, K.DASHBOARD, K.VISUAL})),
    EdgeKind.TEMPLATE_OF: (frozenset({K.ANALYSIS, K.TEMPLATE}), frozenset({K.TEMPLATE})),
    EdgeKind.CREATED_FROM: (frozenset({K.TEMPLATE}), frozenset({K.ANALYSIS, K.DASHBOARD})),
    EdgeKind.FORKED_FROM: (frozenset({K.ANALYSIS}), frozenset({K.ANALYSIS})),
    EdgeKind.CONTAINS: (frozenset({K.DASHBOARD, K.ANALYSIS}), frozenset({K.VISUAL})),
    EdgeKind.DERIVED_FROM: (frozenset({K.DATA_PRODUCT, K.DATASET}), frozenset({K.DATA_PRODUCT, K.DATASET})),
    # a copy in another environment (dev → staging → production) and the asset it was promoted from
    EdgeKind.PROMOTED_FROM: (_PROMOTABLE, _PROMOTABLE),
}
