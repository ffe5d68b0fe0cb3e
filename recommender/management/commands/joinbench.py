"""`manage.py joinbench`: the recommender measured on the joinbench benchmark (make_bench.py / score.py).

Each table of a built benchmark becomes a data product in the catalog (through `catalog.services.asset_upsert`),
its CSV is attached as the product's data (`catalog.datasets.dataset_create` and a first refresh, as a user
uploading the file would), and the recommender engine ranks, for every product, the others by joinability on the
products' refreshed data. The rankings are written in joinbench's format and scored with the benchmark's scorer:

    python manage.py joinbench --bench <built bench dir> --scorer <path to score.py> [--out rankings.json]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from time import monotonic
from typing import Any

import duckdb
import pandas as pd
from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.choices import AssetKind, ChangeSource
from catalog.datasets import dataset_create, dataset_refresh_run
from catalog.models import Asset, Dataset, RefreshRun
from catalog.services import asset_upsert
from recommender.candidates import CandidateIndex
from recommender.engine import recommend
from recommender.matching import MATCHERS, MatcherConfig
from recommender.profiling import TableProfile, profile_table, table_sample

EXTERNAL_PREFIX = "joinbench:"


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # a measurement: it needs the catalog and the engine, not the URLs
    help = (
        "Loads a built joinbench benchmark as data products, ranks joinable products with the recommender, scores it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bench", required=True, help="a benchmark folder built by make_bench.py")
        parser.add_argument("--scorer", required=True, help="the benchmark's score.py")
        parser.add_argument("--out", default="", help="where to write the rankings (default: a temporary file)")
        parser.add_argument("--matcher", default="coma_instances", choices=MATCHERS, help="valentine matcher")
        parser.add_argument("--sample-rows", type=int, default=100_000, help="rows of each product's sample")
        parser.add_argument("--shortlist", type=int, default=0, help="candidates matched per product (0: all)")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        bench = Path(options["bench"])
        scorer = Path(options["scorer"])
        truth_path = bench / "ground_truth.json"
        if not truth_path.is_file() or not (bench / "tables").is_dir():
            raise CommandError(f"{bench} is not a built benchmark: expected ground_truth.json and tables/")
        if not scorer.is_file():
            raise CommandError(f"{scorer} does not exist: pass the benchmark's score.py")
        if options["sample_rows"] < 1:
            raise CommandError("--sample-rows must be at least 1")
        truth = json.loads(truth_path.read_text())
        tables = sorted(truth.get("tables", {}))
        if not tables:
            raise CommandError(f"{truth_path} lists no tables")
        started = monotonic()

        frames: dict[str, pd.DataFrame] = {}
        for position, table in enumerate(tables, start=1):
            path = bench / "tables" / f"{table}.csv"
            if not path.is_file():
                raise CommandError(f"{path} is missing")
            asset = self._product(table, path)
            frames[table] = table_sample(self._data(asset), rows=options["sample_rows"])
            self.say(f"loading products... {position}/{len(tables)} {table}: {len(frames[table]):,} rows")

        profiles: dict[str, TableProfile] = {}
        index = CandidateIndex()
        for table, frame in frames.items():
            profiles[table] = profile_table(frame)
            index.add(table, profiles[table], name=table)
        index.build()
        self.say(f"profiled and indexed {len(tables)} products in {monotonic() - started:.1f}s")

        config = MatcherConfig(matcher=options["matcher"], threshold=0.0)
        shortlist = options["shortlist"] or len(tables)
        rankings: dict[str, list[dict[str, Any]]] = {}
        for position, table in enumerate(tables, start=1):
            matches = recommend(
                key=table,
                frame=frames[table],
                profile=profiles[table],
                index=index,
                load=frames.__getitem__,
                k=len(tables),
                shortlist=shortlist,
                config=config,
                names={t: t for t in tables},
            )
            rankings[table] = [
                {"table": other, "score": match.score, "columns": [[p.left, p.right] for p in match.pairs]}
                for other, match in matches
            ]
            best = f"{matches[0][0]} ({matches[0][1].score:.2f})" if matches else "nothing"
            self.say(f"ranking... {position}/{len(tables)} {table}: best {best}, {monotonic() - started:.1f}s")

        out = Path(options["out"]) if options["out"] else Path(tempfile.mkstemp(suffix=".json")[1])
        out.write_text(json.dumps(rankings, indent=1))
        self.say(f"wrote {out}")
        result = subprocess.run(
            [sys.executable, str(scorer), "--bench", str(bench), "--rankings", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        self.stdout.write(result.stdout)
        if result.returncode != 0:
            raise CommandError(f"the scorer failed: {result.stderr.strip()}")
        self.say(f"done in {monotonic() - started:.1f}s")

    def _product(self, table: str, path: Path) -> Asset:
        """The data product for one benchmark table, with the CSV attached and refreshed (once)."""
        asset, _ = asset_upsert(
            actor=None,
            source=ChangeSource.IMPORT,
            kind=AssetKind.DATA_PRODUCT,
            external_id=f"{EXTERNAL_PREFIX}{table}",
            name=table,
            description="A table of the joinbench join-discovery benchmark.",
        )
        dataset = Dataset.objects.filter(asset=asset).first()
        if dataset is None:
            with path.open("rb") as handle:
                dataset = dataset_create(
                    actor=None, name=table, upload=File(handle, name=path.name), asset=asset, row_limit=10_000_000
                )
        if dataset.current_snapshot_id is None:
            queued = dataset.refreshes.filter(status=RefreshRun.Status.QUEUED).order_by("pk").first()
            if queued is None:
                raise CommandError(f"{table}: no refresh is queued and the dataset has no data")
            run = dataset_refresh_run(refresh_id=queued.pk)
            if run is None or run.snapshot is None:
                raise CommandError(f"{table}: the first refresh failed: {run.error if run else 'not run'}")
        return asset

    def _data(self, asset: Asset) -> pd.DataFrame:
        dataset = Dataset.objects.select_related("current_snapshot").get(asset=asset)
        path = Path(settings.MEDIA_ROOT) / dataset.current_snapshot.path
        with duckdb.connect() as con:
            return con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
