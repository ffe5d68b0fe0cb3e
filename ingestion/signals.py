"""What ingestion tells other apps, without depending on them."""

from django.dispatch import Signal

# A join between two assets was seen in an imported dataset (QuickSight LogicalTableMap); sent with
# `evidence` (an ingestion.JoinEvidence) each time the join is first seen or seen again later.
join_observed = Signal()
