"""python manage.py sync_quicksight --account 123456789012 --region eu-west-1"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.errors import DomainError
from ingestion import services
from ingestion.connector import connector_sync
from ingestion.models import QuickSightConnector


class Command(BaseCommand):
    help = (
        "Lists and describes every QuickSight data source, dataset, analysis, template, dashboard and folder of an "
        "account and region, imports them and marks assets gone upstream as deleted. AWS credentials come from the "
        "usual environment variables or profile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="the 12-digit AWS account id")
        parser.add_argument("--region", required=True, help="the AWS region, e.g. eu-west-1")
        parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")

    def handle(self, *args, account: str, region: str, no_progress: bool, **options):
        if not re.fullmatch(r"\d{12}", account):
            raise CommandError(f"--account {account!r} is not a 12-digit AWS account id")
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
            raise CommandError(f"--region {region!r} is not an AWS region name such as eu-west-1")
        try:
            services.require_postgresql()
        except DomainError as error:
            raise CommandError(error.message) from None
        connector, _ = QuickSightConnector.objects.get_or_create(account_id=account, region=region)
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if no_progress:
                return
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="asset", file=self.stderr._out)
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        report = connector_sync(connector=connector, progress=progress)
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
            f"deleted {report.deleted}, rejected {len(report.rejected)}"
            f" ({report.template_versions} template versions read)"
        )
        for rejected in report.rejected:
            self.stdout.write(f"  rejected {rejected['path']}: {rejected['reason']}")
