"""Hooks other apps subscribe to."""

from django.dispatch import Signal

# Sent after a refresh committed a new snapshot: sender=Dataset, dataset_id, snapshot_id, refresh_id.
dataset_refreshed = Signal()
