#!/usr/bin/env python
"""Alerts at scale: one full evaluation cycle of 100,000 alerts over 1,000 visuals on 100 SPICE datasets.

    python benchmarks/alerts_scale.py [--datasets 100] [--visuals 1000] [--alerts 100000] [--rows 20000]
                                      [--database cartograph_alerts_bench] [--keep] [--wait-load 1.5]
                                      [--profile cycle.prof]

What it does, in order:

1. Creates a scratch database (or, with --keep, reuses one this script set up completely before with the same
   sizes and seed) and runs `manage.py migrate` on it; Django then runs in this process against it, with the
   in-memory Celery broker (nothing is consumed) and the locmem email backend.
2. Sets the catalog up through the application's own services: per dataset a Parquet file generated with DuckDB
   (fixed seed; Category, Segment, Region, Order Date, Sales, Profit) uploaded with `dataset_create` and refreshed
   into a snapshot with `dataset_refresh_run`, then `visual_save` for ten table and pivot specs per dataset. Every
   tenth dataset has row rules on Region: the "analysts" group sees every region, two small groups (ten users
   each) see only West or only East, so their alerts need queries of their own.
3. Creates the alerts with bulk_create (every one passes `clean_fields()`, one in 500 the full `full_clean()`):
   1,000 owners, alerts spread at random over the visuals, each on a numeric cell its owner sees (some read the
   latest or the latest complete period), thresholds set against the value the alert will read so that about 10%
   breach; the breaches expected are counted.
4. Times one full evaluation cycle on one worker: `alerts_evaluate_dataset(dataset_id=..., version_label=
   "snapshot:<id>")` for every dataset in turn, in this process. It sums the visual queries the batches report and
   compares them with the target, one query per visual with alerts at this data version plus one per further
   reader-rule group among the visual's alert owners, counts the SQL statements sent to PostgreSQL, the emails
   queued in the outbox and the alerts per second; then times `notifications_send_due` emptying the outbox.
5. Prints the figures as JSON on stdout (progress on stderr) and, unless --keep, drops the database.

Target: the cycle takes at most 60 s for 100,000 alerts (other sizes: the same rate), with exactly the target number
of visual queries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from catalog_scale import Database, git_state, log, machine, migrate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARKER = "alerts_scale benchmark database"
TARGET_CYCLE_S = 60.0  # for TARGET_ALERTS; other sizes get the same rate (alerts per second)
TARGET_ALERTS = 100_000
BREACH_SHARE = 0.10
REGIONS = ("Central", "East", "South", "West")
REGIONAL_GROUPS = {"region-west": ["West"], "region-east": ["East"]}
REGIONAL_USERS = 10  # per regional group; they are not analysts
RULES_EVERY = 10  # every tenth dataset has row rules
VALIDATE_EVERY = 500  # full_clean() (foreign keys and database constraints too) on one alert in this many

SUM_PROFIT = {"field": "Profit", "agg": "sum", "label": "Profit"}
SUM_SALES = {"field": "Sales", "agg": "sum", "label": "Sales"}
ORDERS = {"agg": "count", "label": "Orders"}
ALL_TOTALS = {"rows": True, "columns": True, "grand": True}
VISUAL_SPECS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "Profit by category and segment",
        {"type": "pivot", "rows": ["Category"], "columns": ["Segment"], "measures": [SUM_PROFIT], "totals": ALL_TOTALS},
    ),
    (
        "Sales and profit by region",
        {
            "type": "pivot",
            "rows": ["Region"],
            "columns": ["Category"],
            "measures": [SUM_SALES, SUM_PROFIT],
            "totals": ALL_TOTALS,
        },
    ),
    (
        "Monthly sales by category",
        {
            "type": "table",
            "rows": ["Category"],
            "measures": [SUM_SALES, ORDERS],
            "date": {"field": "Order Date", "granularity": "month", "time_zone": "UTC"},
        },
    ),
    (
        "Quarterly profit by region",
        {
            "type": "table",
            "rows": ["Region"],
            "measures": [SUM_PROFIT],
            "date": {"field": "Order Date", "granularity": "quarter", "time_zone": "UTC"},
            "totals": {"rows": True},
        },
    ),
    (
        "Average sale by segment and region",
        {
            "type": "pivot",
            "rows": ["Segment"],
            "columns": ["Region"],
            "measures": [{"field": "Sales", "agg": "avg", "label": "Average sale"}],
        },
    ),
    (
        "West and East sales",
        {
            "type": "table",
            "rows": ["Category", "Segment"],
            "measures": [SUM_SALES],
            "filters": [{"field": "Region", "op": "in", "value": ["East", "West"]}],
            "totals": {"rows": True},
        },
    ),
    (
        "Yearly sales by category",
        {
            "type": "pivot",
            "rows": ["Category"],
            "columns": ["Order Date"],
            "measures": [SUM_SALES],
            "date": {"field": "Order Date", "granularity": "year", "time_zone": "UTC"},
            "totals": ALL_TOTALS,
        },
    ),
    (
        "Orders and profit by region",
        {"type": "table", "rows": ["Region"], "measures": [ORDERS, SUM_PROFIT], "totals": {"rows": True}},
    ),
    (
        "Weekly sales by segment",
        {
            "type": "table",
            "rows": ["Segment"],
            "measures": [SUM_SALES],
            "date": {"field": "Order Date", "granularity": "week", "week_start": "monday", "time_zone": "UTC"},
        },
    ),
    (
        "Profit by region, segment and category",
        {
            "type": "pivot",
            "rows": ["Region", "Segment"],
            "columns": ["Category"],
            "measures": [SUM_PROFIT],
            "sort": [{"by": "Profit", "direction": "desc"}],
            "totals": ALL_TOTALS,
        },
    ),
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=100, help="SPICE datasets (default 100)")
    parser.add_argument("--visuals", type=int, default=1000, help="visuals, spread evenly over the datasets (1,000)")
    parser.add_argument("--alerts", type=int, default=100_000, help="alerts, spread over the visuals (100,000)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows in each dataset's snapshot (20,000)")
    parser.add_argument("--users", type=int, default=1000, help="alert owners (default 1,000)")
    parser.add_argument("--database", default="cartograph_alerts_bench", help="name of the scratch database")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and its snapshots, and reuse them when complete"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCHMARK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server to use, as a URL of its maintenance database (env BENCHMARK_POSTGRES_URL)",
    )
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the data and the alerts")
    parser.add_argument(
        "--wait-load",
        type=float,
        default=None,
        metavar="LOAD",
        help="before the cycle, wait (up to 15 minutes) until the 1-minute load average is below LOAD",
    )
    parser.add_argument("--profile", type=Path, help="run the cycle under cProfile and write the stats here")
    args = parser.parse_args(argv)
    per_dataset = len(VISUAL_SPECS)
    if args.datasets < 1 or args.visuals < args.datasets or args.visuals > args.datasets * per_dataset:
        parser.error(f"--visuals must be from --datasets to {per_dataset} x --datasets")
    if args.alerts < 1 or args.rows < 100 or args.users < 2 * REGIONAL_USERS + 1:
        parser.error(f"--alerts must be at least 1, --rows 100 and --users {2 * REGIONAL_USERS + 1}")
    return args


# ---------------------------------------------------------------------------------------------------------------
# The scratch database and Django


def database_prepare(db: Database, *, fingerprint: dict[str, Any], media: Path, keep: bool) -> dict[str, Any] | None:
    """Makes the database exist; returns the earlier setup when --keep finds a complete one of the same size."""
    comment = db.comment()
    if comment is not None:
        if comment.get("marker") != MARKER:
            raise SystemExit(
                f"database {db.name!r} exists and was not created by this benchmark; choose another --database"
            )
        if keep and comment.get("complete") and comment.get("fingerprint") == fingerprint and media.is_dir():
            log(f"Reusing database {db.name} (set up {comment.get('set_up_at')}).")
            return comment["setup"]
        log(f"Dropping the earlier benchmark database {db.name}.")
        db.drop()
    shutil.rmtree(media, ignore_errors=True)
    log(f"Creating database {db.name}.")
    db.create()
    db.set_comment({"marker": MARKER, "complete": False})
    return None


def django_environment(db: Database, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "false",  # no query log kept in memory
        "DATABASE_URL": db.url(),
        "CARTOGRAPH_VAR_DIR": str(workdir),
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_URL": "memorymail://",  # django.core.mail.backends.locmem.EmailBackend
        "CELERY_BROKER_URL": "memory://",  # tasks queued on commit stay in this process; no worker runs them
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------------------------
# Data


def snapshot_generate(path: Path, *, rows: int, seed: int) -> None:
    """A sales file; every value is a function of (row, seed), so the same seed gives the same file."""

    def uniform(salt: int) -> str:
        return f"(CAST(hash(i, {int(seed)}, {salt}) % 1000000 AS DOUBLE) / 1000000.0)"

    def pick(salt: int, weighted: Sequence[tuple[str, float]]) -> str:
        cases, edge = [], 0.0
        for value, weight in weighted[:-1]:
            edge += weight
            cases.append(f"WHEN {uniform(salt)} < {edge} THEN '{value}'")
        return f"CASE {' '.join(cases)} ELSE '{weighted[-1][0]}' END"

    select = f"""
        SELECT
            {pick(1, [("Furniture", 0.21), ("Office Supplies", 0.60), ("Technology", 0.19)])} AS "Category",
            {pick(2, [("Consumer", 0.52), ("Corporate", 0.30), ("Home Office", 0.18)])} AS "Segment",
            {pick(3, [("Central", 0.23), ("East", 0.28), ("South", 0.17), ("West", 0.32)])} AS "Region",
            DATE '2023-01-01' + CAST(floor({uniform(4)} * 731) AS INTEGER) AS "Order Date",
            CAST(round(exp(2 + 5 * {uniform(5)}), 2) AS DECIMAL(12, 2)) AS "Sales",
            CAST(round(exp(2 + 5 * {uniform(5)}) * ({uniform(6)} * 0.6 - 0.2), 2) AS DECIMAL(12, 2)) AS "Profit"
        FROM range({int(rows)}) AS t(i)
    """
    connection = duckdb.connect()
    try:
        target = str(path).replace("'", "''")
        connection.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    finally:
        connection.close()


@dataclass
class Setup:
    """What the cycle needs and what the report says about the catalog; saved on the database for --keep."""

    datasets: list[tuple[int, int]] = field(default_factory=list)  # (dataset id, current snapshot id)
    rule_datasets: int = 0
    visuals: int = 0
    visuals_with_alerts: int = 0
    expected_visual_queries: int = 0
    expected_states: dict[str, int] = field(default_factory=dict)
    expected_emails: int = 0
    alerts: int = 0
    users: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def users_create(*, count: int) -> tuple[Any, dict[int, str]]:
    """An admin who owns the catalog, and `count` alert owners; returns the admin and each owner's reader class."""
    from django.contrib.auth.models import Group, User

    admin = User.objects.create_user("bench-admin", "admin@example.com", is_staff=True)
    analysts = Group.objects.create(name="analysts")
    regional = {name: Group.objects.create(name=name) for name in REGIONAL_GROUPS}
    users = User.objects.bulk_create(
        User(username=f"bench-user-{i:05d}", email=f"user{i:05d}@example.com", password="!") for i in range(count)
    )
    classes: dict[int, str] = {}
    memberships = []
    for i, user in enumerate(users):
        if i < REGIONAL_USERS * len(regional):
            name = list(regional)[i // REGIONAL_USERS]
            memberships.append(User.groups.through(user_id=user.pk, group_id=regional[name].pk))
            classes[user.pk] = name
        else:
            memberships.append(User.groups.through(user_id=user.pk, group_id=analysts.pk))
            classes[user.pk] = "analysts"
    User.groups.through.objects.bulk_create(memberships)
    return admin, classes


def datasets_create(*, admin, count: int, rows: int, seed: int, scratch: Path) -> list[Any]:
    """SPICE datasets from uploaded Parquet files, refreshed into snapshots by the application's services."""
    from django.contrib.auth.models import Group
    from django.core.files import File

    from catalog import datasets as catalog_data
    from catalog.models import RefreshRun

    groups = {group.name: group for group in Group.objects.all()}
    made = []
    for index in range(count):
        path = scratch / f"sales-{index:03d}.parquet"
        snapshot_generate(path, rows=rows, seed=seed * 1000 + index)
        with path.open("rb") as handle:
            dataset = catalog_data.dataset_create(
                actor=admin, name=f"Sales {index:03d}", upload=File(handle, name=path.name), owner=admin
            )
        path.unlink()
        run = dataset.refreshes.get(status=RefreshRun.Status.QUEUED)
        done = catalog_data.dataset_refresh_run(refresh_id=run.pk)
        if done is None or done.status != RefreshRun.Status.SUCCEEDED:
            raise SystemExit(f"the refresh of dataset {dataset.pk} failed: {done.error if done else 'not claimed'}")
        dataset.refresh_from_db()
        if index % RULES_EVERY == 0:
            catalog_data.row_rule_create(
                dataset=dataset, column="Region", group=groups["analysts"], allowed_values=list(REGIONS)
            )
            for name, allowed in REGIONAL_GROUPS.items():
                catalog_data.row_rule_create(
                    dataset=dataset, column="Region", group=groups[name], allowed_values=allowed
                )
        made.append(dataset)
        if (index + 1) % 10 == 0 or index + 1 == count:
            log(f"  {index + 1:,} datasets")
    return made


def visuals_create(*, admin, datasets: list[Any], count: int) -> list[Any]:
    from catalog import datasets as catalog_data

    made = []
    for i in range(count):
        dataset = datasets[i % len(datasets)]
        name, spec = VISUAL_SPECS[(i // len(datasets)) % len(VISUAL_SPECS)]
        made.append(
            catalog_data.visual_save(
                actor=admin, dataset=dataset, spec=spec, name=f"{name} ({dataset.asset.name})", owner=admin
            )
        )
    return made


@dataclass
class View:
    """A visual as one class of readers sees it: its result and its numeric cells."""

    result: Any
    cells: list[Any]


def views_read(*, visuals: list[Any], classes: dict[int, str], rule_dataset_ids: set[int]) -> dict[tuple, View]:
    """Each visual evaluated once per reader class that sees different rows, through the alerts' own reader path."""
    from django.contrib.auth.models import User

    from alerts import services

    readers = {}
    for user_id, name in classes.items():
        readers.setdefault(name, user_id)
    users = {name: User.objects.get(pk=user_id) for name, user_id in readers.items()}
    views = {}
    for visual in visuals:
        version = services.current_version(visual.dataset)
        names = sorted(users) if visual.dataset_id in rule_dataset_ids else ["analysts"]
        for name in names:
            result = services.evaluate_spec(spec=visual.spec, dataset=visual.dataset, user=users[name], version=version)
            cells = [cell for cell in result.cells if _numeric(cell.value)]
            views[(visual.pk, name)] = View(result, cells)
    return views


def _numeric(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def alert_settings(rng: random.Random, value: float, breach: bool) -> tuple[str, Decimal, Decimal | None]:
    """(condition, threshold, tolerance) that the value breaches, or does not, whatever its sign."""
    margin = abs(value) * rng.uniform(0.05, 0.5) + 1
    roll = rng.random()
    if roll < 0.6:
        return "above", _money(value - margin if breach else value + margin), None
    if roll < 0.9:
        return "below", _money(value + margin if breach else value - margin), None
    if breach:
        return "equal", _money(value), Decimal("0.5")
    return "equal", _money(value + margin), Decimal("1")


def alerts_create(
    *,
    visuals: list[Any],
    views: dict[tuple, View],
    classes: dict[int, str],
    rule_dataset_ids: set[int],
    count: int,
    seed: int,
) -> tuple[int, int, Counter, int]:
    """Bulk-creates the alerts; returns the visual queries the cycle should run, the visuals with alerts, the
    states the alerts should reach and the emails it should queue (a first breach, or no data when asked)."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from alerts.evaluation import judge, target_key
    from alerts.models import Alert
    from catalog.visuals import find_cell, parse_cell_key

    rng = random.Random(seed)
    owners = {user.pk: user for user in User.objects.filter(pk__in=list(classes))}
    owner_ids = sorted(owners)
    now = timezone.now()
    groups: dict[int, set[str]] = defaultdict(set)  # visual -> reader classes among its alert owners
    expected: Counter = Counter()
    emails = 0
    batch: list[Alert] = []
    frequencies = ["daily"] * 6 + ["hourly"] * 2 + ["always", "weekly"]
    for i in range(count):
        visual = visuals[rng.randrange(len(visuals))]
        owner_id = owner_ids[rng.randrange(len(owner_ids))]
        reader = classes[owner_id] if visual.dataset_id in rule_dataset_ids else "analysts"
        view = views[(visual.pk, reader)]
        if not view.cells:  # a regional reader may see no cell at all in a filtered visual
            continue
        cell = view.cells[rng.randrange(len(view.cells))]
        measure, dims, totals, _ = parse_cell_key(cell.key)
        period = "fixed"
        if (visual.spec.get("date") or {}).get("field") in dims:  # as alert_create: only a cell of one period
            period = rng.choices(["fixed", "latest", "latest_complete"], weights=[8, 1, 1])[0]
        read_key, _ = target_key(key=cell.key, period=period, spec=visual.spec, result=view.result, now=now)
        read = find_cell(view.result, read_key)
        value = float(read.value) if read is not None and _numeric(read.value) else 0.0
        condition, threshold, tolerance = alert_settings(rng, value, rng.random() < BREACH_SHARE)
        state = judge(
            value=read.value if read is not None else None,
            condition=condition,
            threshold=threshold,
            tolerance=tolerance,
        )
        alert = Alert(
            owner=owners[owner_id],
            name=f"{visual.asset.name} #{i}"[:300],
            visual=visual.asset,
            dataset=visual.dataset,
            spec=visual.spec,
            cell_key=cell.key,
            measure=measure,
            dimensions={**dims, **({"totals": list(totals)} if totals else {})},
            condition=condition,
            threshold=threshold,
            tolerance=tolerance,
            frequency=rng.choice(frequencies),
            notify_no_data=rng.random() < 0.2,
            period=period,
        )
        emails += state == "breached" or (state == "no_data" and alert.notify_no_data)
        if i % VALIDATE_EVERY == 0:
            alert.full_clean()
        else:
            alert.clean_fields(exclude=["owner", "visual", "dataset"])
            alert.clean()
        batch.append(alert)
        groups[visual.pk].add(reader)
        expected[str(state)] += 1
        if len(batch) == 5000:
            Alert.objects.bulk_create(batch)
            batch = []
            log(f"  {i + 1:,} alerts")
    Alert.objects.bulk_create(batch)
    return sum(len(readers) for readers in groups.values()), len(groups), expected, emails


def setup_run(args: argparse.Namespace, workdir: Path) -> Setup:
    setup = Setup()
    with tempfile.TemporaryDirectory(prefix="alerts-scale-files-") as files:
        started = time.perf_counter()
        admin, classes = users_create(count=args.users)
        setup.users = len(classes)
        log(f"Creating {args.datasets:,} datasets of {args.rows:,} rows (dataset_create + dataset_refresh_run) ...")
        datasets = datasets_create(
            admin=admin, count=args.datasets, rows=args.rows, seed=args.seed, scratch=Path(files)
        )
        setup.seconds["datasets"] = round(time.perf_counter() - started, 1)
    setup.datasets = [(dataset.pk, dataset.current_snapshot_id) for dataset in datasets]
    rule_ids = {dataset.pk for i, dataset in enumerate(datasets) if i % RULES_EVERY == 0}
    setup.rule_datasets = len(rule_ids)
    started = time.perf_counter()
    log(f"Saving {args.visuals:,} visuals (visual_save) ...")
    visuals = visuals_create(admin=admin, datasets=datasets, count=args.visuals)
    setup.visuals = len(visuals)
    setup.seconds["visuals"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    log("Reading every visual once per reader class, to pick cells and thresholds ...")
    views = views_read(visuals=visuals, classes=classes, rule_dataset_ids=rule_ids)
    setup.seconds["cells"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    log(f"Creating {args.alerts:,} alerts (bulk_create) ...")
    queries, with_alerts, expected, emails = alerts_create(
        visuals=visuals, views=views, classes=classes, rule_dataset_ids=rule_ids, count=args.alerts, seed=args.seed
    )
    setup.expected_visual_queries, setup.visuals_with_alerts = queries, with_alerts
    setup.expected_states = dict(expected)
    setup.expected_emails = emails
    setup.alerts = sum(expected.values())
    setup.seconds["alerts"] = round(time.perf_counter() - started, 1)
    return setup


def state_reset() -> None:
    """Forgets an earlier cycle on a reused database: every alert back to never evaluated."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE alerts_notification, alerts_episode, alerts_evaluation")
        cursor.execute(
            "UPDATE alerts_alert SET state = 'unknown', status = 'active', status_reason = '', "
            "consecutive_failures = 0, last_value = NULL, last_evaluated_at = NULL, last_notified_at = NULL"
        )
        cursor.execute("VACUUM ANALYZE")


def analyze() -> None:
    """Statistics on the freshly loaded tables, as autovacuum would have gathered them on a live system."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# ---------------------------------------------------------------------------------------------------------------
# The cycle


class StatementCounter:
    """Counts the SQL statements Django sends (a database execute wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def load_wait(limit: float | None, *, longest: float = 15 * 60) -> None:
    if limit is None:
        return
    waited = 0.0
    while os.getloadavg()[0] >= limit and waited < longest:
        if waited == 0:
            log(f"Waiting for the 1-minute load average ({os.getloadavg()[0]:.2f}) to fall below {limit} ...")
        time.sleep(15)
        waited += 15
    if waited:
        log(f"  waited {waited:.0f} s; load average now {os.getloadavg()[0]:.2f}")


def cycle_run(setup: Setup, *, profile: Path | None) -> dict[str, Any]:
    from django.db import connection

    from alerts import services

    counter = StatementCounter()
    reports = []
    slowest = (0.0, None)
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        for done, (dataset_id, snapshot_id) in enumerate(setup.datasets, start=1):
            began = time.perf_counter()
            reports.append(
                services.alerts_evaluate_dataset(dataset_id=dataset_id, version_label=f"snapshot:{snapshot_id}")
            )
            took = time.perf_counter() - began
            slowest = max(slowest, (took, dataset_id), key=lambda pair: pair[0])
            if done % 10 == 0 or done == len(setup.datasets):
                log(
                    f"  {done:,} datasets, {sum(r.evaluated for r in reports):,} alerts, "
                    f"{time.perf_counter() - started:.1f} s"
                )
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
    if profiler:
        profiler.dump_stats(profile)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        log(text.getvalue())
    evaluated = sum(r.evaluated for r in reports)
    return {
        "seconds": round(seconds, 2),
        "alerts_evaluated": evaluated,
        "alerts_per_second": round(evaluated / seconds) if seconds else None,
        "visual_queries": sum(r.visual_queries for r in reports),
        "notifications_reported": sum(r.notifications for r in reports),
        "sql_statements": counter.count,
        "sql_statements_per_alert": round(counter.count / evaluated, 2) if evaluated else None,
        "slowest_dataset_seconds": round(slowest[0], 2),
        "profiled": profiler is not None,
    }


def outcome_read() -> dict[str, Any]:
    from alerts.models import Alert, Episode, Evaluation, Notification

    return {
        "evaluations": Evaluation.objects.count(),
        "states": dict(Counter(Alert.objects.values_list("state", flat=True))),
        "episodes_open": Episode.objects.filter(closed_at__isnull=True).count(),
        "emails_queued": Notification.objects.count(),
        "emails_queued_by_kind": dict(Counter(Notification.objects.values_list("kind", flat=True))),
    }


def outbox_send() -> dict[str, Any]:
    """Empties the outbox with the application's sender, in its default batches of 50."""
    from django.conf import settings
    from django.core import mail

    from alerts import services
    from alerts.models import Notification

    mail.outbox = []
    started = time.perf_counter()
    sent = rounds = 0
    while True:
        done = services.notifications_send_due()
        rounds += 1
        sent += done
        if done == 0:
            break
    seconds = time.perf_counter() - started
    delivered = len(mail.outbox)
    mail.outbox = []
    return {
        "email_backend": settings.EMAIL_BACKEND,
        "sent": sent,
        "delivered_to_backend": delivered,
        "left_unsent": Notification.objects.exclude(status="sent").count(),
        "calls": rounds,
        "seconds": round(seconds, 2),
        "emails_per_second": round(sent / seconds) if seconds and sent else None,
    }


# ---------------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    db = Database(args.postgres, args.database)
    fingerprint = {
        "datasets": args.datasets,
        "visuals": args.visuals,
        "alerts": args.alerts,
        "rows": args.rows,
        "users": args.users,
        "seed": args.seed,
    }
    if args.keep:
        workdir = ROOT / "var" / "benchmarks" / args.database
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="alerts-scale-"))
    env = django_environment(db, workdir)
    django_ready = False
    try:
        started = time.perf_counter()
        earlier = database_prepare(db, fingerprint=fingerprint, media=workdir / "media", keep=args.keep)
        migrate(db, env)
        django_setup(env)
        django_ready = True
        if earlier is not None:
            setup = Setup(**earlier)
            log("Resetting the alerts to never evaluated ...")
            state_reset()
            reused = True
        else:
            setup = setup_run(args, workdir)
            analyze()
            db.set_comment(
                {
                    "marker": MARKER,
                    "complete": True,
                    "fingerprint": fingerprint,
                    "set_up_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "setup": setup.__dict__,
                }
            )
            reused = False
        setup_seconds = round(time.perf_counter() - started, 1)
        log(
            f"Set up in {setup_seconds:.0f} s: {setup.alerts:,} alerts on {setup.visuals_with_alerts:,} visuals "
            f"of {len(setup.datasets):,} datasets; expected states {setup.expected_states}."
        )
        load_wait(args.wait_load)
        load = os.getloadavg()
        log(f"Evaluation cycle (load average {load[0]:.2f}) ...")
        cycle = cycle_run(setup, profile=args.profile)
        log(
            f"Cycle: {cycle['seconds']:.1f} s, {cycle['alerts_per_second']:,} alerts/s, "
            f"{cycle['visual_queries']:,} visual queries (target {setup.expected_visual_queries:,})."
        )
        outcome = outcome_read()
        log(f"Sending {outcome['emails_queued']:,} emails (notifications_send_due) ...")
        outbox = outbox_send()
        log(f"Outbox: {outbox['sent']:,} sent in {outbox['seconds']:.1f} s.")
        expected_states = {state: n for state, n in setup.expected_states.items() if n}
        checks = {
            "every_alert_evaluated_once": cycle["alerts_evaluated"] == setup.alerts == outcome["evaluations"],
            "states_as_predicted": outcome["states"] == expected_states,
            "emails_as_predicted": outcome["emails_queued"] == setup.expected_emails == cycle["notifications_reported"],
            "visual_queries_on_target": cycle["visual_queries"] == setup.expected_visual_queries,
            "every_email_sent": outbox["left_unsent"] == 0 and outbox["sent"] == outcome["emails_queued"],
        }
        target_seconds = round(TARGET_CYCLE_S * setup.alerts / TARGET_ALERTS, 2)
        passed = cycle["seconds"] <= target_seconds and all(checks.values())
        missed = [name for name, ok in checks.items() if not ok]
        if cycle["seconds"] > target_seconds:
            missed.insert(0, f"cycle took {cycle['seconds']} s > {target_seconds} s")
        report = {
            "benchmark": "alerts_scale",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {**machine(), "duckdb": duckdb.__version__},
            "load_average_before_cycle": [round(value, 2) for value in load],
            "code": git_state(),
            "parameters": fingerprint,
            "catalog": {
                "datasets": len(setup.datasets),
                "datasets_with_row_rules": setup.rule_datasets,
                "visuals": setup.visuals,
                "visuals_with_alerts": setup.visuals_with_alerts,
                "alerts": setup.alerts,
                "owners": setup.users,
                "owners_with_regional_row_rules": REGIONAL_USERS * len(REGIONAL_GROUPS),
                "how": "dataset_create with a Parquet upload + dataset_refresh_run, visual_save, row_rule_create; "
                "users and alerts with bulk_create",
                "reused": reused,
                "setup_seconds": setup.seconds,
            },
            "cycle": {
                **cycle,
                "worker": "one process, datasets in turn (alerts_evaluate_dataset, batches of 2,000)",
                "expected_visual_queries": setup.expected_visual_queries,
                "expected_visual_queries_made_of": {
                    "one_per_visual_with_alerts": setup.visuals_with_alerts,
                    "one_per_further_reader_rule_group": setup.expected_visual_queries - setup.visuals_with_alerts,
                },
                "expected_states": expected_states,
                "expected_emails": setup.expected_emails,
                **outcome,
            },
            "outbox": outbox,
            "target": {
                "cycle_seconds": target_seconds,
                "as_stated": f"{TARGET_ALERTS:,} alerts in {TARGET_CYCLE_S:.0f} s on one worker "
                f"({TARGET_ALERTS / TARGET_CYCLE_S:,.0f} alerts/s); scaled to the alerts of this run",
                "visual_queries": "one per visual with alerts per data version, plus one per further reader-rule "
                "group among its alert owners",
            },
            "checks": checks,
            "pass": passed,
            "missed": missed,
        }
        print(json.dumps(report, indent=2))
        return 0 if passed else 1
    except KeyboardInterrupt:
        log("\nInterrupted.")
        return 130
    finally:
        if django_ready:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            if db.comment() is not None:
                log(f"Dropping database {db.name}.")
                db.drop()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
