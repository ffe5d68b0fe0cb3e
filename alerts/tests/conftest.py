from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import datasets
from catalog.tests.factories import UserFactory

SALES = """Category,Segment,Order Date,Profit,Label
Auto,Online,2024-01-05,100,a
Auto,Online,2024-02-10,40,b
Auto,Retail,2024-02-11,70,c
Toys,Online,2024-01-20,5,d
"""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


class Shop:
    """A dataset from an uploaded CSV, a pivot visual over it, and a way to change the data and refresh."""

    def __init__(self, owner, capture):
        self.owner = owner
        self.capture = capture
        with capture(execute=True):
            self.dataset = datasets.dataset_create(
                actor=owner, name="Sales", upload=SimpleUploadedFile("sales.csv", SALES.encode())
            )
        self.dataset.refresh_from_db()
        spec = {
            "type": "pivot",
            "rows": ["Category"],
            "columns": ["Segment"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
            "totals": {"rows": True, "columns": True, "grand": True},
        }
        self.pivot = datasets.visual_save(
            actor=owner, dataset=self.dataset, spec=spec, name="Profit pivot", owner=owner
        )
        monthly = {
            "type": "table",
            "rows": ["Category"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
            "date": {"field": "Order Date", "granularity": "month", "time_zone": "UTC"},
        }
        self.monthly = datasets.visual_save(
            actor=owner, dataset=self.dataset, spec=monthly, name="Monthly", owner=owner
        )

    def refresh(self, csv_text: str) -> str:
        """Replaces the uploaded file's content and refreshes; returns the new data version label."""
        Path(self.dataset.upload.path).write_text(csv_text)
        with self.capture(execute=False):
            run = datasets.dataset_refresh_request(dataset=self.dataset, actor=self.owner)
        done = datasets.dataset_refresh_run(refresh_id=run.pk)
        assert done.status == "succeeded", done.error
        self.dataset.refresh_from_db()
        return f"snapshot:{self.dataset.current_snapshot_id}"


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@example.com")


@pytest.fixture
def shop(owner, media, django_capture_on_commit_callbacks):
    return Shop(owner, django_capture_on_commit_callbacks)


AUTO_ONLINE = '{"m":"Profit","d":[["Category","Auto"],["Segment","Online"]]}'
