#!/usr/bin/env python
"""The catalog at scale: load N synthetic assets into a scratch PostgreSQL database and time the API over HTTP.

    python benchmarks/catalog_scale.py [--assets 1000000] [--requests 200] [--database cartograph_bench] [--keep]

What it does, in order:

1. Creates the database (or, with --keep, reuses one this script loaded completely before with the same size and
   seed) and runs `manage.py migrate` on it, so new migrations are measured too.
2. Loads reference data (3 business units, 20 domains with owner groups, 200 customers, 30 product lines,
   100 tags, 500 owners) and N assets with COPY: every kind, 1-3 tags each, about 5 columns on data products,
   datasets and data sources, timestamps over three years, about 60% viewed. Secondary indexes are dropped for
   the load and rebuilt afterwards; `search_vector` is filled by running the application's own
   `catalog.services.SEARCH_VECTOR_SQL` once over every id. Then VACUUM FULL (the UPDATE leaves a dead copy of
   every row), ANALYZE and a CHECKPOINT, so the timings do not pay for the load.
3. Starts the web server (granian) with the production settings on a free port, signs in with API tokens as a
   staff user and as an analyst (a non-staff user whose group has grants on three domains and a few assets), warms
   up, then times the filtered list, search, detail and every report as both users over one keep-alive connection.
4. Prints the figures as JSON on stdout (progress goes to stderr), stops the web server and, unless --keep, drops the
   database; on Ctrl-C too. A database this script did not create is never dropped.

Targets (p95 per endpoint and user): filtered list 50 ms, search 150 ms, detail 20 ms, each report 500 ms.
Needs only what requirements.txt installs (psycopg 3, granian, redis) and the standard library.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import http.client
import itertools
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
MARKER = "catalog_scale benchmark database"
TARGETS_MS = {"list": 50.0, "search": 150.0, "detail": 20.0, "report": 500.0}
REPORTS = ("by-business-unit", "by-owner", "by-kind", "created", "stale", "never-viewed")
LOADED_TABLES = ("catalog_asset", "catalog_asset_tags", "catalog_column")
CHUNK = 10_000

# ---------------------------------------------------------------------------------------------------------------
# Vocabulary of the synthetic catalog. Words are drawn with Zipf-like weights, so a few are everywhere ("sales")
# and most are uncommon; RARE_WORD is put in about one asset name in ten thousand.


def _words(text: str) -> list[str]:
    return text.split()


BUSINESS_UNITS = ("Healthcare", "Education", "Commercial")
DOMAINS = (
    "Claims",
    "Policy",
    "Billing",
    "Finance",
    "Sales",
    "Marketing",
    "Customer",
    "Patient Care",
    "Pharmacy",
    "Enrollment",
    "Learning",
    "Curriculum",
    "Supply Chain",
    "Logistics",
    "People",
    "Payroll",
    "Risk",
    "Compliance",
    "Product",
    "Operations",
)
ANALYST_DOMAINS = ("Claims", "Patient Care", "Pharmacy")  # the analyst's group holds grants on these
CUSTOMER_PREFIXES = (
    "Acme",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Piedmont",
    "Aperture",
    "Oscorp",
    "Gringott",
    "Monarch",
    "Prestige",
    "Massive",
    "Virtucon",
    "Dunder",
    "Sterling",
)
CUSTOMER_SUFFIXES = {
    "Health": "Healthcare",
    "Clinics": "Healthcare",
    "Insurance": "Healthcare",
    "Schools": "Education",
    "University": "Education",
    "Retail": "Commercial",
    "Bank": "Commercial",
    "Logistics": "Commercial",
}
SUBJECTS = _words(
    "sales revenue customer orders claims patient students billing inventory marketing finance enrollment pricing "
    "product campaign supplier shipment budget forecast payroll employee account invoice payment retention churn "
    "conversion traffic engagement satisfaction quality risk fraud compliance audit attendance grades course "
    "admissions provider pharmacy prescription diagnosis readmission utilization membership premium policy "
    "underwriting renewal subscription usage session funnel cohort region store channel partner contract "
    "opportunity pipeline lead quota territory margin cost expense profit cash ledger tax vendor procurement "
    "warehouse fulfillment returns delivery logistics fleet energy emissions safety incident ticket support survey "
    "feedback nps loyalty rewards coupon promotion discount basket catalog assortment demand capacity staffing "
    "scheduling overtime turnover hiring training certification benefits wellness claimant adjuster settlement "
    "reserve actuarial exposure loss recovery collections delinquency credit scoring latency uptime"
)
GENERAL = _words(
    "shows tracks the monthly weekly daily breakdown of by and for with across teams used in report refreshed "
    "nightly from source system owned maintained curated reviewed quarter year trend versus target actual key "
    "metrics figures totals details summary each per region country segment executive board operational view "
    "filtered excluding including test records late arriving data corrected historical current open closed "
    "pending approved rejected new returning active inactive high low average median top bottom growth decline "
    "share rate ratio count number value amount level status stage step flow join lookup table model layer gold "
    "silver bronze certified draft replaced deprecated please ask owner before changing schema contact channel"
)
RARE_WORD = "zephyr"
QUALIFIERS = {
    "data_product": ("Data Product", "Mart", "Hub", "360"),
    "data_source": ("Redshift", "Athena", "PostgreSQL", "S3", "MySQL"),
    "dataset": ("Daily", "Monthly", "Weekly", "Snapshot", "Extract", "Aggregate", "Detail"),
    "template": ("Template", "Reference Template"),
    "analysis": ("Analysis", "Deep Dive", "Exploration", "Review"),
    "dashboard": ("Dashboard", "Overview", "Scorecard", "Report", "Cockpit"),
    "visual": ("Trend", "Breakdown", "KPI", "by Region", "by Month", "Table", "Pivot", "Top 10"),
    "folder": ("Folder", "Shared", "Archive", "Workspace"),
}
KIND_WEIGHTS = {
    "data_product": 3,
    "data_source": 5,
    "dataset": 15,
    "template": 3,
    "analysis": 12,
    "dashboard": 12,
    "visual": 40,
    "folder": 10,
}
KINDS_WITH_COLUMNS = {"data_product", "dataset", "data_source"}
BI_KINDS = {"template", "analysis", "dashboard", "visual", "folder"}
COLUMN_NAMES = _words(
    "id customer_id order_id patient_id student_id created_at updated_at order_date amount quantity price currency "
    "region country state city postal_code email phone status category segment channel product_id sku store_id "
    "revenue cost margin discount tax invoice_id payment_method claim_id provider_id diagnosis_code procedure_code "
    "admission_date discharge_date course_id grade term enrollment_date employee_id department manager_id hire_date "
    "salary account_id balance credit_limit risk_score is_active source_system load_ts batch_id event_type event_ts "
    "session_id device browser page_url referrer campaign_id impressions clicks conversions spend budget forecast "
    "target actual variance period fiscal_year fiscal_quarter week_start month_start year"
)
DATA_TYPES = ("integer", "bigint", "varchar", "text", "numeric(18,2)", "date", "timestamp", "boolean", "double")
TAG_NAMES = _words(
    "pii gdpr hipaa ferpa sox confidential internal public certified gold silver bronze deprecated experimental draft "
    "production kpi finance executive daily weekly monthly quarterly yearly realtime spice direct-query self-service "
    "curated raw staging sandbox migrated legacy reviewed needs-review high-priority low-latency cost-center "
    "marketing-ops sales-ops hr-only board regulatory external partner-shared customer-facing embedded mobile "
    "scheduled-email alerting ml-feature forecasting benchmark reference golden-record master-data dimension fact "
    "snapshot incremental full-refresh s3 redshift athena postgres quicksight dbt airflow glue"
)
TAG_NAMES += [
    f"project-{name}"
    for name in _words(
        "atlas borealis cobalt delta ember falcon granite harbor iris juniper kestrel lumen meridian nimbus onyx "
        "polaris quartz raven sierra tundra umber vega willow xenon yarrow zenith aurora basalt cedar dune"
    )
]
TAG_NAMES = TAG_NAMES[:100]
FIRST_NAMES = _words(
    "ana ben carla david eva felix grace hugo ines jan kara liam mia noah olga paul quinn rosa sam tina uma victor "
    "wendy xavier yara"
)
LAST_NAMES = _words(
    "adams baker clark diaz evans fischer garcia hansen ito jones kim lopez martin novak ortiz patel rossi silva "
    "tanaka weber"
)
ENVIRONMENTS = ("prod", "prod", "prod", "prod", "prod", "prod", "staging", "staging", "dev", "")


def _zipf(count: int, s: float = 1.0) -> list[float]:
    """Cumulative Zipf weights for `count` ranked items, for random.choices(cum_weights=...)."""
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, count + 1)))


def _slug(name: str) -> str:
    return "-".join(name.lower().replace("_", " ").split())


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat(" ")


def log(message: str, *, end: str = "\n") -> None:
    print(message, file=sys.stderr, end=end, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# The database


@dataclass
class Database:
    server_url: str  # postgres://user@host:port/<maintenance database>
    name: str

    def url(self, name: str | None = None) -> str:
        parts = urlsplit(self.server_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name or self.name}", parts.query, parts.fragment))

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.server_url, autocommit=True)

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        return psycopg.connect(self.url(), **kwargs)

    def comment(self) -> dict[str, Any] | None:
        """What this script wrote on the database (None when it does not exist)."""
        with self.admin() as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [self.name]
            ).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0] or "{}")
        except ValueError:
            value = {}
        return value if isinstance(value, dict) else {}

    def set_comment(self, value: dict[str, Any]) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(self.name), sql.Literal(json.dumps(value))
                )
            )

    def create(self) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.set_comment({"marker": MARKER, "complete": False})

    def drop(self) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


def database_prepare(db: Database, *, assets: int, seed: int, keep: bool) -> bool:
    """Makes the database exist; returns True when a complete earlier load of the same size can be reused."""
    comment = db.comment()
    if comment is not None:
        if comment.get("marker") != MARKER:
            raise SystemExit(
                f"database {db.name!r} exists and was not created by this benchmark; choose another --database"
            )
        if keep and comment.get("complete") and comment.get("assets") == assets and comment.get("seed") == seed:
            log(f"Reusing database {db.name} ({assets:,} assets loaded {comment.get('loaded_at')}).")
            return True
        log(f"Dropping the earlier benchmark database {db.name}.")
        db.drop()
    log(f"Creating database {db.name}.")
    db.create()
    return False


def migrate(db: Database, env: dict[str, str]) -> None:
    log("Running manage.py migrate ...")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": db.url()},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        log(result.stdout + result.stderr)
        raise SystemExit("manage.py migrate failed")


def search_vector_sql() -> str:
    """The application's SEARCH_VECTOR_SQL, read from catalog/services.py without importing Django."""
    tree = ast.parse((ROOT / "catalog" / "services.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "SEARCH_VECTOR_SQL" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit("catalog/services.py has no SEARCH_VECTOR_SQL")


# ---------------------------------------------------------------------------------------------------------------
# The synthetic catalog


@dataclass
class Catalog:
    """Ids and names of the reference rows, which the asset generator and the request mix both need."""

    now: float
    business_units: list[str] = field(default_factory=list)  # index + 1 is the id
    domains: list[str] = field(default_factory=list)
    customers: list[tuple[str, int]] = field(default_factory=list)  # (name, business unit id)
    product_lines: list[tuple[str, int]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)  # usernames; index + 1 is the user id
    staff_id: int = 0
    analyst_id: int = 0
    analyst_group_id: int = 0


def _copy_rows(conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


USER_COLUMNS = _words("id password is_superuser username first_name last_name email is_staff is_active date_joined")


def reference_load(conn: psycopg.Connection, catalog: Catalog) -> dict[str, str]:
    """Business units, domains (each owned by a group), customers, product lines, tags, users and grants.

    Returns the API tokens of the staff user and the analyst.
    """
    now = _ts(catalog.now)
    catalog.business_units = list(BUSINESS_UNITS)
    _copy_rows(
        conn,
        "catalog_businessunit",
        ("id", "name", "slug", "description", "created_at", "updated_at"),
        [(i, name, _slug(name), "", now, now) for i, name in enumerate(BUSINESS_UNITS, 1)],
    )
    groups = [f"{name} owners" for name in DOMAINS] + ["Analysts"]
    _copy_rows(conn, "auth_group", ("id", "name"), list(enumerate(groups, 1)))
    catalog.analyst_group_id = len(groups)
    catalog.domains = list(DOMAINS)
    _copy_rows(
        conn,
        "catalog_domain",
        ("id", "name", "slug", "description", "created_at", "updated_at", "owner_group_id"),
        [(i, name, _slug(name), f"The {name} domain.", now, now, i) for i, name in enumerate(DOMAINS, 1)],
    )
    unit_ids = {name: i for i, name in enumerate(BUSINESS_UNITS, 1)}
    catalog.customers = [
        (f"{prefix} {suffix}", unit_ids[unit])
        for prefix in CUSTOMER_PREFIXES
        for suffix, unit in CUSTOMER_SUFFIXES.items()
    ]
    _copy_rows(
        conn,
        "catalog_customer",
        ("id", "name", "slug", "description", "created_at", "updated_at", "business_unit_id"),
        [(i, name, _slug(name), "", now, now, unit) for i, (name, unit) in enumerate(catalog.customers, 1)],
    )
    catalog.product_lines = [(f"{subject.title()} Insights", i % 3 + 1) for i, subject in enumerate(SUBJECTS[:30])]
    _copy_rows(
        conn,
        "catalog_productline",
        ("id", "name", "slug", "description", "created_at", "updated_at", "business_unit_id"),
        [(i, name, _slug(name), "", now, now, unit) for i, (name, unit) in enumerate(catalog.product_lines, 1)],
    )
    catalog.tags = list(TAG_NAMES)
    _copy_rows(
        conn,
        "catalog_tag",
        ("id", "name", "slug", "description", "created_at", "updated_at"),
        [(i, name, _slug(name), "", now, now) for i, name in enumerate(TAG_NAMES, 1)],
    )
    catalog.owners = [f"{first}.{last}" for first in FIRST_NAMES for last in LAST_NAMES]
    users = [(name, False) for name in catalog.owners] + [("bench-staff", True), ("bench-analyst", False)]
    catalog.staff_id, catalog.analyst_id = len(users) - 1, len(users)
    _copy_rows(
        conn,
        "auth_user",
        USER_COLUMNS,
        [
            (i, "!" + secrets.token_hex(16), False, name, "", "", f"{name}@example.com", staff, True, now)
            for i, (name, staff) in enumerate(users, 1)
        ],
    )
    # Each owner is in the owner group of one domain; the analyst only in the analysts' group.
    memberships = [(i, i % len(DOMAINS) + 1) for i in range(1, len(catalog.owners) + 1)]
    memberships.append((catalog.analyst_id, catalog.analyst_group_id))
    _copy_rows(
        conn, "auth_user_groups", ("id", "user_id", "group_id"), [(i, u, g) for i, (u, g) in enumerate(memberships, 1)]
    )
    grants = [
        (
            i,
            "edit" if i == 1 else "view",
            now,
            now,
            None,
            catalog.staff_id,
            DOMAINS.index(name) + 1,
            catalog.analyst_group_id,
        )
        for i, name in enumerate(ANALYST_DOMAINS, 1)
    ]
    _copy_rows(
        conn,
        "access_grant",
        ("id", "permission", "created_at", "updated_at", "asset_id", "created_by_id", "domain_id", "group_id"),
        grants,
    )
    tokens = {"staff": secrets.token_hex(20), "analyst": secrets.token_hex(20)}
    _copy_rows(
        conn,
        "authtoken_token",
        ("key", "created", "user_id"),
        [(tokens["staff"], now, catalog.staff_id), (tokens["analyst"], now, catalog.analyst_id)],
    )
    return tokens


class AssetGenerator:
    """Produces the COPY text of assets, their tag links and their columns, chunk by chunk, reproducibly."""

    def __init__(self, catalog: Catalog, seed: int) -> None:
        self.c = catalog
        self.rng = random.Random(seed)
        self.kinds = list(KIND_WEIGHTS)
        self.kind_cum = list(itertools.accumulate(KIND_WEIGHTS.values()))
        self.subject_cum = _zipf(len(SUBJECTS))
        self.general_cum = _zipf(len(GENERAL), 0.7)
        self.domain_cum = _zipf(len(catalog.domains), 0.5)
        self.owner_cum = _zipf(len(catalog.owners), 0.8)
        self.tag_cum = _zipf(len(catalog.tags), 0.8)
        self.customer_cum = _zipf(len(catalog.customers), 0.6)
        self.span = 3 * 365 * 86400
        self.tag_link_id = 0
        self.column_id = 0

    def chunk(self, first_id: int, count: int) -> tuple[str, str, str]:
        rng, c = self.rng, self.c
        choices, random_ = rng.choices, rng.random
        kinds = choices(self.kinds, cum_weights=self.kind_cum, k=count)
        domains = choices(range(1, len(c.domains) + 1), cum_weights=self.domain_cum, k=count)
        owners = choices(range(1, len(c.owners) + 1), cum_weights=self.owner_cum, k=count)
        customers = choices(range(1, len(c.customers) + 1), cum_weights=self.customer_cum, k=count)
        subjects = choices(SUBJECTS, cum_weights=self.subject_cum, k=2 * count)
        assets, links, columns = [], [], []
        for n in range(count):
            asset_id = first_id + n
            kind = kinds[n]
            domain = domains[n]
            r = random_()
            owner: int | None = owners[n] if r < 0.95 else None
            if r < 0.0005:
                owner = c.analyst_id
            owner_group: int | None = domain if random_() < 0.3 else None
            if random_() < 0.001:
                owner_group = c.analyst_group_id
            customer: int | None = customers[n] if random_() < (0.7 if kind in BI_KINDS else 0.2) else None
            product_line: int | None = rng.randrange(1, len(c.product_lines) + 1) if random_() < 0.4 else None
            if customer is not None:
                unit: int | None = c.customers[customer - 1][1]
            elif product_line is not None:
                unit = c.product_lines[product_line - 1][1]
            else:
                unit = rng.randrange(1, 4) if random_() < 0.8 else None
            words = [subjects[2 * n].title(), subjects[2 * n + 1].title(), rng.choice(QUALIFIERS[kind])]
            if customer is not None and random_() < 0.6:
                words.insert(0, c.customers[customer - 1][0])
            if random_() < 0.0001:
                words.insert(1, RARE_WORD.title())
            if random_() < 0.3:
                words.append(str(rng.randrange(2019, 2027)))
            name = " ".join(words)
            if random_() < 0.6:
                described = choices(GENERAL, cum_weights=self.general_cum, k=rng.randrange(6, 24))
                described += choices(SUBJECTS, cum_weights=self.subject_cum, k=rng.randrange(1, 5))
                rng.shuffle(described)
                description = " ".join(described).capitalize() + "."
            else:
                description = ""
            r = random_()
            status = "active" if r < 0.9 else ("archived" if r < 0.96 else "deleted")
            created = c.now - self.span * random_()
            updated = created + (c.now - created) * random_() ** 3
            if random_() < 0.6:
                viewed = _ts(created + (c.now - created) * (1 - random_() ** 2))
                views = int(rng.lognormvariate(2.0, 1.5)) + 1
            else:
                viewed, views = "\\N", 0
            if kind == "dataset":
                attributes = (
                    f'{{"import_mode": "{rng.choice(("spice", "direct"))}", "row_count": {rng.randrange(10**7)}}}'
                )
            elif kind == "visual":
                attributes = f'{{"visual_type": "{rng.choice(("table", "pivot", "bar", "line", "kpi", "pie"))}"}}'
            else:
                attributes = "{}"
            created_s = _ts(created)
            assets.append(
                "\t".join(
                    (
                        str(asset_id),
                        kind,
                        f"arn:aws:quicksight:eu-west-1:111122223333:{kind}/{asset_id:012x}",
                        name,
                        description,
                        rng.choice(ENVIRONMENTS),
                        str(rng.randrange(1, 6)),
                        status,
                        attributes,
                        created_s,
                        _ts(updated),
                        viewed,
                        str(views),
                        _opt(owner),
                        _opt(owner_group),
                        _opt(unit),
                        _opt(customer),
                        str(domain),
                        _opt(product_line),
                    )
                )
            )
            for tag in set(choices(range(1, len(c.tags) + 1), cum_weights=self.tag_cum, k=rng.randrange(1, 4))):
                self.tag_link_id += 1
                links.append(f"{self.tag_link_id}\t{asset_id}\t{tag}")
            if kind in KINDS_WITH_COLUMNS:
                for position, column in enumerate(rng.sample(COLUMN_NAMES, rng.randrange(3, 8))):
                    self.column_id += 1
                    columns.append(
                        f"{self.column_id}\t{column}\t{rng.choice(DATA_TYPES)}\t\t{position}\t"
                        f"{'t' if random_() < 0.7 else 'f'}\t{created_s}\t{created_s}\t{asset_id}"
                    )
        return _lines(assets), _lines(links), _lines(columns)


ASSET_COLUMNS = _words(
    "id kind external_id name description environment version status attributes created_at updated_at "
    "last_viewed_at view_count owner_id owner_group_id business_unit_id customer_id domain_id product_line_id"
)
TAG_LINK_COLUMNS = ("id", "asset_id", "tag_id")
COLUMN_COLUMNS = ("id", "name", "data_type", "description", "position", "nullable", "created_at", "updated_at")
COLUMN_COLUMNS += ("asset_id",)
SEQUENCED_TABLES = (
    "auth_user",
    "auth_group",
    "auth_user_groups",
    "access_grant",
    "catalog_businessunit",
    "catalog_domain",
    "catalog_customer",
    "catalog_productline",
    "catalog_tag",
    *LOADED_TABLES,
)


def _opt(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def _lines(rows: list[str]) -> str:
    return "\n".join(rows) + "\n" if rows else ""


def _copy_text(conn: psycopg.Connection, table: str, columns: Sequence[str], text: str) -> None:
    if not text:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(text.encode())


def _secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of the loaded tables that back no constraint (safe to drop and rebuild)."""
    rows = conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        [list(LOADED_TABLES)],
    ).fetchall()
    return [(name, definition) for name, definition in rows]


def catalog_load(db: Database, *, assets: int, seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    """Loads everything in one transaction (so a failed load leaves nothing half done), then compacts and indexes."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    catalog = Catalog(now=time.time())
    with db.connect() as conn:
        # The data is generated consistent, so foreign keys are not checked row by row during the load.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET work_mem = '256MB'")
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        tokens = reference_load(conn, catalog)
        generator = AssetGenerator(catalog, seed)
        loaded = 0
        step = time.perf_counter()
        while loaded < assets:
            count = min(CHUNK, assets - loaded)
            asset_text, link_text, column_text = generator.chunk(loaded + 1, count)
            _copy_text(conn, "catalog_asset", ASSET_COLUMNS, asset_text)
            _copy_text(conn, "catalog_asset_tags", TAG_LINK_COLUMNS, link_text)
            _copy_text(conn, "catalog_column", COLUMN_COLUMNS, column_text)
            loaded += count
            rate = loaded / (time.perf_counter() - step)
            log(f"\r  assets {loaded:>10,} / {assets:,}  ({rate:,.0f} assets/s)", end="")
        log("")
        timings["copy_seconds"] = time.perf_counter() - step
        # The analysts' group also holds view grants on a few single assets outside its domains.
        conn.execute(
            """
            INSERT INTO access_grant
                (id, permission, created_at, updated_at, asset_id, created_by_id, domain_id, group_id)
            SELECT 1000 + row_number() OVER (ORDER BY a.id), 'view', now(), now(), a.id, %(staff)s, NULL, %(group)s
            FROM catalog_asset a
            WHERE a.id %% %(every)s = 0
              AND a.domain_id NOT IN (SELECT domain_id FROM access_grant WHERE domain_id IS NOT NULL)
            """,
            {"staff": catalog.staff_id, "group": catalog.analyst_group_id, "every": max(1, assets // 50)},
        )
        log(f"  {generator.tag_link_id:,} tag links, {generator.column_id:,} columns")
        step = time.perf_counter()
        log("  filling search_vector with SEARCH_VECTOR_SQL over every id ...")
        conn.execute(search_vector_sql(), [list(range(1, assets + 1))])
        timings["search_vector_seconds"] = time.perf_counter() - step
        for table in SEQUENCED_TABLES:
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))").format(
                    t=sql.Literal(table), i=sql.Identifier(table)
                )
            )
        conn.commit()
        conn.autocommit = True
        step = time.perf_counter()
        log("  VACUUM FULL catalog_asset (the UPDATE left one dead version of every row) ...")
        conn.execute("VACUUM FULL catalog_asset")
        timings["vacuum_full_seconds"] = time.perf_counter() - step
        step = time.perf_counter()
        for name, definition in indexes:
            log(f"  rebuilding {name} ...")
            conn.execute(definition)
        timings["index_seconds"] = time.perf_counter() - step
        step = time.perf_counter()
        log("  VACUUM ANALYZE ...")
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_seconds"] = time.perf_counter() - step
        # Write the loaded pages out now rather than during the measurements.
        conn.execute("CHECKPOINT")
        orphans = conn.execute(
            """
            SELECT (SELECT count(*) FROM catalog_asset_tags l LEFT JOIN catalog_asset a ON a.id = l.asset_id
                    WHERE a.id IS NULL)
                 + (SELECT count(*) FROM catalog_column k LEFT JOIN catalog_asset a ON a.id = k.asset_id
                    WHERE a.id IS NULL)
                 + (SELECT count(*) FROM catalog_asset WHERE search_vector IS NULL)
            """
        ).fetchone()[0]
        if orphans:
            raise SystemExit(f"the load is inconsistent: {orphans} orphan or unindexed rows")
    timings["total_seconds"] = time.perf_counter() - started
    stats = {
        "seconds": round(timings["total_seconds"], 1),
        "steps_seconds": {k: round(v, 1) for k, v in timings.items() if k != "total_seconds"},
        "assets_per_second": round(assets / timings["total_seconds"]),
        "tag_links": generator.tag_link_id,
        "columns": generator.column_id,
    }
    return tokens, stats


# ---------------------------------------------------------------------------------------------------------------
# The web server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


class Server:
    """The production web server (granian, WSGI) with the production settings, in its own process group so Ctrl-C
    reaches only this script."""

    def __init__(self, *, env: dict[str, str], workers: int, threads: int, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.log_file = log_path.open("w")
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface=wsgi",
            "config.wsgi:application",
            "--host=127.0.0.1",
            f"--port={self.port}",
            f"--workers={workers}",
            f"--blocking-threads={threads}",  # the threads of each worker that run Django
            "--no-ws",
            "--log-level=warning",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Client:
    """One keep-alive HTTP/1.1 connection with a token; reconnects when the server closes it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def get(self, path: str) -> tuple[int, bytes, float]:
        """(status, body, milliseconds from sending the request to the last byte of the body)."""
        for attempt in range(2):
            try:
                started = time.perf_counter()
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.will_close:
                    self.conn.close()
                return response.status, body, elapsed
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def wait_until_ready(server: Server, token: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the web server exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            client = Client(server.port, token)
            status, body, _ = client.get("/api/v1/reports/")
            client.close()
            if status == 200:
                return
            raise SystemExit(f"GET /api/v1/reports/ answered {status}: {body[:500]!r}\n{server.log_tail()}")
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the web server did not answer within {timeout:.0f} s:\n{server.log_tail()}")


# ---------------------------------------------------------------------------------------------------------------
# The request mix


@dataclass
class Endpoint:
    name: str  # "list", "search", "detail", "report:<name>"
    group: str  # key of TARGETS_MS
    paths: list[str]  # requests cycle through these


def _path(base: str, **params: Any) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def request_mix(*, user: str, catalog_ids: dict[str, Any], rng: random.Random) -> list[Endpoint]:
    """The filter combinations, search words, asset ids and reports one user asks for."""
    d = catalog_ids
    lists = [
        _path("/api/v1/assets/", kind="dataset", business_unit="healthcare", tag=d["popular_tag"]),
        _path("/api/v1/assets/", kind="dashboard", domain=d["domain"]),
        _path("/api/v1/assets/", business_unit="education", ordering="-view_count"),
        _path("/api/v1/assets/", owner=d["owner"]),
        _path("/api/v1/assets/", customer=d["customer"], kind="analysis"),
        _path("/api/v1/assets/", never_viewed="true", kind="visual"),
        _path("/api/v1/assets/"),
        _path("/api/v1/assets/", stale_days=365, tag=d["rare_tag"]),
        _path("/api/v1/assets/", kind="data_product", ordering="name"),
    ]
    searches = [
        _path("/api/v1/search/", q="sales"),  # the most common word
        _path("/api/v1/search/", q="retention"),  # a middling word
        _path("/api/v1/search/", q=RARE_WORD),  # about one asset in ten thousand
        _path("/api/v1/search/", q="patient revenue"),  # two words, both must match
        _path("/api/v1/search/", q="reven"),  # a prefix
        _path("/api/v1/search/", q="hipaa"),  # a tag
        _path("/api/v1/search/", q="customer", kind="dashboard"),  # a common word with a filter
    ]
    ids = d["visible_ids"][user]
    details = [f"/api/v1/assets/{asset_id}/" for asset_id in rng.sample(ids, min(len(ids), 500))]
    three_years_ago = (date.today() - timedelta(days=3 * 365)).isoformat()
    endpoints = [
        Endpoint("list", "list", lists),
        Endpoint("search", "search", searches),
        Endpoint("detail", "detail", details),
    ]
    for report in REPORTS:
        paths = [f"/api/v1/reports/{report}/"]
        if report == "created":
            paths.append(_path(paths[0], **{"from": three_years_ago, "to": date.today().isoformat()}))
        if report == "stale":
            paths.append(_path(paths[0], days=365))
        endpoints.append(Endpoint(f"report:{report}", "report", paths))
    return endpoints


def mix_parameters(db: Database, *, analyst_id: int, rng: random.Random) -> dict[str, Any]:
    """Slugs and ids for the request mix, read from the loaded database."""
    with db.connect() as conn:
        one = lambda query, *args: conn.execute(query, args).fetchone()[0]  # noqa: E731
        popular_tag = one(
            "SELECT t.slug FROM catalog_tag t JOIN catalog_asset_tags l ON l.tag_id = t.id "
            "GROUP BY t.slug ORDER BY count(*) DESC LIMIT 1"
        )
        rare_tag = one("SELECT slug FROM catalog_tag WHERE starts_with(slug, 'project-') ORDER BY id DESC LIMIT 1")
        owner = one(
            "SELECT u.username FROM auth_user u JOIN catalog_asset a ON a.owner_id = u.id "
            "WHERE a.id <= 20000 GROUP BY u.username ORDER BY count(*) DESC LIMIT 1"
        )
        customer = one("SELECT slug FROM catalog_customer ORDER BY id LIMIT 1")
        domain = one("SELECT slug FROM catalog_domain WHERE name = %s", ANALYST_DOMAINS[0])
        max_id = one("SELECT max(id) FROM catalog_asset")
        # The same rule as access.permissions.asset_visibility_q, written out in SQL; a 404 in the detail
        # timings would mean the two disagree.
        visible = [
            row[0]
            for row in conn.execute(
                """
                SELECT a.id FROM catalog_asset a
                WHERE a.owner_id = %(user)s
                   OR a.owner_group_id IN (SELECT group_id FROM auth_user_groups WHERE user_id = %(user)s)
                   OR a.id IN (SELECT asset_id FROM access_grant WHERE asset_id IS NOT NULL AND group_id IN
                               (SELECT group_id FROM auth_user_groups WHERE user_id = %(user)s))
                   OR a.domain_id IN (SELECT domain_id FROM access_grant WHERE domain_id IS NOT NULL AND group_id IN
                                      (SELECT group_id FROM auth_user_groups WHERE user_id = %(user)s))
                   OR a.domain_id IN (SELECT id FROM catalog_domain WHERE owner_group_id IN
                                      (SELECT group_id FROM auth_user_groups WHERE user_id = %(user)s))
                ORDER BY random() LIMIT 2000
                """,
                {"user": analyst_id},
            )
        ]
        hidden = one(
            "SELECT id FROM catalog_asset WHERE domain_id = (SELECT id FROM catalog_domain WHERE name = 'Sales') "
            "AND owner_id IS DISTINCT FROM %s AND owner_group_id IS NULL "
            "AND id NOT IN (SELECT asset_id FROM access_grant WHERE asset_id IS NOT NULL) LIMIT 1",
            analyst_id,
        )
    return {
        "popular_tag": popular_tag,
        "rare_tag": rare_tag,
        "owner": owner,
        "customer": customer,
        "domain": domain,
        "hidden_id": hidden,
        "visible_ids": {"staff": rng.sample(range(1, max_id + 1), min(max_id, 2000)), "analyst": visible},
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _summary(timings: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
    }


def _size(body: bytes) -> Any:
    """What a response holds, to show next to its timings (search count, list page length, report total)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        if "count" in data:
            return {key: data[key] for key in data if key.startswith("count")}
        if "total" in data:
            return {"total": data["total"], "rows": len(data.get("rows", []))}
        if "results" in data:
            return {"page": len(data["results"])}
    return None


def measure(client: Client, endpoint: Endpoint, *, requests: int, warmup: int) -> dict[str, Any]:
    paths = endpoint.paths
    for i in range(warmup):
        client.get(paths[i % len(paths)])
    per_path: dict[str, list[float]] = {path: [] for path in paths}
    sizes: dict[str, Any] = {}
    errors: list[str] = []
    all_timings: list[float] = []
    for i in range(requests):
        path = paths[(warmup + i) % len(paths)]
        status, body, elapsed = client.get(path)
        if status != 200:
            errors.append(f"{status} {path}: {body[:200].decode(errors='replace')}")
            continue
        per_path[path].append(elapsed)
        all_timings.append(elapsed)
        if path not in sizes and endpoint.group != "detail":
            sizes[path] = _size(body)
    target = TARGETS_MS[endpoint.group]
    result: dict[str, Any] = {"requests": len(all_timings)}
    if all_timings:
        result.update(_summary(all_timings))
        result["target_p95_ms"] = target
        result["pass"] = result["p95_ms"] <= target and not errors
    else:
        result["pass"] = False
    if errors:
        result["errors"] = {"count": len(errors), "first": errors[:3]}
    if endpoint.group != "detail":
        result["variants"] = [
            {"path": path, **_summary(timings), "requests": len(timings), "response": sizes.get(path)}
            for path, timings in per_path.items()
            if timings
        ]
    return result


# ---------------------------------------------------------------------------------------------------------------
# The report


def machine() -> dict[str, Any]:
    memory = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    cpu = platform.processor() or None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "ram_gib": memory, "cpu": cpu, "python": platform.python_version()}


def postgres_info(db: Database) -> dict[str, Any]:
    names = (
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "random_page_cost",
        "max_parallel_workers_per_gather",
    )
    with db.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0] for name in names}
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('catalog_asset'))").fetchone()[0]
    return {"version": version, "settings": settings, "catalog_asset_size": size}


def git_state() -> dict[str, Any]:
    def run(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    return {
        "commit": run("rev-parse", "--short", "HEAD") or None,
        "uncommitted_changes": bool(run("status", "--porcelain")),
    }


def tokens_read(db: Database) -> dict[str, str]:
    with db.connect() as conn:
        rows = dict(
            conn.execute(
                "SELECT u.username, t.key FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id "
                "WHERE u.username IN ('bench-staff', 'bench-analyst')"
            ).fetchall()
        )
    return {"staff": rows["bench-staff"], "analyst": rows["bench-analyst"]}


def user_ids(db: Database) -> tuple[int, int]:
    with db.connect() as conn:
        rows = dict(
            conn.execute(
                "SELECT username, id FROM auth_user WHERE username IN ('bench-staff', 'bench-analyst')"
            ).fetchall()
        )
    return rows["bench-staff"], rows["bench-analyst"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1_000_000, help="assets to load (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint and user (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per endpoint and user first (20)")
    parser.add_argument("--database", default="cartograph_bench", help="name of the scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse it when it is complete")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCHMARK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server to use, as a URL of its maintenance database (env BENCHMARK_POSTGRES_URL)",
    )
    parser.add_argument("--workers", type=int, default=3, help="web server workers (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads per web server worker (default 2)")
    parser.add_argument(
        "--views",
        choices=("async", "sync", "auto"),
        default="auto",
        help="record detail views through Celery on Redis (async, as in production) or in the request (sync);\n"
        "auto: async when Redis answers at --redis",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1", help="Celery broker for --views async")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the synthetic catalog")
    args = parser.parse_args(argv)
    if args.assets < 1000 or args.requests < 1 or args.warmup < 0:
        parser.error("--assets must be at least 1000, --requests at least 1, --warmup at least 0")
    return args


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


CELERY_KEYS = ("celery", "_kombu.binding.celery", "_kombu.binding_permanent.celery")


def celery_keys(broker: str) -> set[str]:
    """Which of the keys Celery's default queue lives in exist on the broker."""
    import redis

    client = redis.Redis.from_url(broker)
    return {key for key in CELERY_KEYS if client.exists(key)}


def celery_keys_remove(broker: str, existed_before: set[str]) -> None:
    """Removes the default queue this run filled with view-recording tasks (no worker consumes them here), so none
    runs later against another database. A queue that held messages before the run is left alone."""
    import redis

    client = redis.Redis.from_url(broker)
    if "celery" in existed_before:
        log(f"Note: the Celery queue on {broker} existed before the run; left as it is.")
        return
    created = [key for key in CELERY_KEYS if key not in existed_before]
    if created:
        client.delete(*created)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C cleans up even when started in the background
    db = Database(args.postgres, args.database)
    views = args.views
    if views == "auto":
        views = "async" if redis_reachable(args.redis) else "sync"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DEBUG": "false",
        "CARTOGRAPH_RECORD_VIEWS_ASYNC": "true" if views == "async" else "false",
        "CELERY_BROKER_URL": args.redis if views == "async" else "memory://",
        "LOG_LEVEL": "WARNING",
    }
    server: Server | None = None
    celery_before: set[str] | None = None
    workdir = Path(tempfile.mkdtemp(prefix="catalog-scale-"))
    try:
        reused = database_prepare(db, assets=args.assets, seed=args.seed, keep=args.keep)
        migrate(db, env)
        if reused:
            load: dict[str, Any] = {"reused": True}
            with db.connect(autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                conn.execute("CHECKPOINT")
        else:
            log(f"Loading {args.assets:,} assets ...")
            _, load = catalog_load(db, assets=args.assets, seed=args.seed)
            load["reused"] = False
            db.set_comment(
                {
                    "marker": MARKER,
                    "complete": True,
                    "assets": args.assets,
                    "seed": args.seed,
                    "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "load": load,
                }
            )
            log(f"Loaded in {load['seconds']:.0f} s.")
        tokens = tokens_read(db)
        _, analyst_id = user_ids(db)
        rng = random.Random(args.seed)
        ids = mix_parameters(db, analyst_id=analyst_id, rng=rng)
        if views == "async":
            celery_before = celery_keys(args.redis)
        server = Server(
            env={**env, "DATABASE_URL": db.url()},
            workers=args.workers,
            threads=args.threads,
            log_path=workdir / "web.log",
        )
        log(f"Starting the web server on port {server.port} ...")
        wait_until_ready(server, tokens["staff"])
        results: dict[str, dict[str, Any]] = {}
        checks: dict[str, Any] = {}
        load_before = os.getloadavg()
        for user in ("staff", "analyst"):
            client = Client(server.port, tokens[user])
            results[user] = {}
            for endpoint in request_mix(user=user, catalog_ids=ids, rng=rng):
                log(f"  {user:8} {endpoint.name:24}", end="")
                outcome = measure(client, endpoint, requests=args.requests, warmup=args.warmup)
                results[user][endpoint.name] = outcome
                verdict = "pass" if outcome["pass"] else "MISS"
                log(f" p50 {outcome.get('p50_ms', 0):8.1f} ms  p95 {outcome.get('p95_ms', 0):8.1f} ms  {verdict}")
            if user == "analyst":
                status, _, _ = client.get(f"/api/v1/assets/{ids['hidden_id']}/")
                checks["analyst_gets_404_for_an_asset_outside_their_grants"] = status == 404
            client.close()
        missed = [
            f"{user} {name} (p95 {outcome.get('p95_ms')} ms > {outcome.get('target_p95_ms')} ms)"
            if "p95_ms" in outcome
            else f"{user} {name} (errors)"
            for user, endpoints in results.items()
            for name, outcome in endpoints.items()
            if not outcome["pass"]
        ]
        report = {
            "benchmark": "catalog_scale",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                **machine(),
                # Other work on the machine slows every request; the 1-minute load average before and after timing.
                "load_average": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
            },
            "postgresql": postgres_info(db),
            "code": git_state(),
            "assets": args.assets,
            "load": load,
            "server": {
                "settings": "config.settings.production",
                "server": f"granian, {args.workers} workers x {args.threads} threads",
                "views_recorded": "through Celery on Redis" if views == "async" else "in the request",
            },
            "requests_per_endpoint_and_user": args.requests,
            "warmup_per_endpoint_and_user": args.warmup,
            "targets_p95_ms": {
                "list": TARGETS_MS["list"],
                "search": TARGETS_MS["search"],
                "detail": TARGETS_MS["detail"],
                "each report": TARGETS_MS["report"],
            },
            "results": results,
            "checks": checks,
            "passed": not missed and all(checks.values()),
            "missed": missed,
        }
        print(json.dumps(report, indent=2))
        return 0 if report["passed"] else 1
    except KeyboardInterrupt:
        log("\nInterrupted.")
        return 130
    finally:
        if server is not None:
            log("Stopping the web server.")
            server.stop()
        if celery_before is not None:
            celery_keys_remove(args.redis, celery_before)
        shutil.rmtree(workdir, ignore_errors=True)
        comment = db.comment()
        if not args.keep and comment is not None and comment.get("marker") == MARKER:
            log(f"Dropping database {db.name}.")
            db.drop()


if __name__ == "__main__":
    sys.exit(main())
