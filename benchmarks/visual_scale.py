#!/usr/bin/env python
"""Visuals at scale: evaluate table and pivot specs over a 1,000,000-row SPICE-like Parquet snapshot.

    python benchmarks/visual_scale.py [--rows 1000000] [--runs 50] [--warmup 3] [--seed 42] [--keep PATH]

What it does, in order:

1. Generates a sales snapshot with DuckDB (no pandas): Category, Segment, Ship Mode, Region, Order Date, Sales,
   Profit. Values come from hash(row, seed), so the same seed gives the same file. Ship modes and categories are
   skewed, about 0.1% of segments are NULL, Sales is log-spread from 7 to 1,100 and Profit is -20% to +40% of it.
2. Evaluates, N times each after a warm-up, through the application's own `catalog.visuals.evaluate_parquet` and
   `to_json` (a new DuckDB connection per call to the process's in-memory database, as in production):
   - pivot_3x2_totals (the target): Profit and Sales by Category x Segment (rows) x Ship Mode (columns), with row,
     column and grand totals;
   - pivot_sorted_by_profit: the same, rows ordered by their Profit total, descending;
   - table_monthly_filtered: monthly Sales (week start and time zone explicit) by Region for two categories,
     with a total row.
   The grand total is checked against a direct SUM over the file.
3. Prints JSON on stdout (progress on stderr): p50 / p95 / max per spec, the machine (cores, RAM) and whether
   the target held: p95 of pivot_3x2_totals <= 300 ms.

4. Refreshes 1,000,000 rows from a PostgreSQL table (a scratch database on --postgres, dropped afterwards) into a
   Parquet snapshot three times through `catalog.connectors.postgres_extract`; target: every refresh <= 20 s.
   `--skip-refresh` leaves this out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.visuals import evaluate_parquet, find_cell, to_json, validate_spec  # noqa: E402

TARGET_P95_MS = 300.0
REFRESH_TARGET_S = 20.0
COLUMNS = {
    "Category": "varchar",
    "Segment": "varchar",
    "Ship Mode": "varchar",
    "Region": "varchar",
    "Order Date": "date",
    "Sales": "decimal(12,2)",
    "Profit": "decimal(12,2)",
}
TOTALS = {"rows": True, "columns": True, "grand": True}
PIVOT = {
    "type": "pivot",
    "rows": ["Category", "Segment"],
    "columns": ["Ship Mode"],
    "measures": [
        {"field": "Profit", "agg": "sum", "label": "Profit"},
        {"field": "Sales", "agg": "sum", "label": "Sales"},
    ],
    "totals": TOTALS,
}
SPECS: dict[str, dict[str, Any]] = {
    "pivot_3x2_totals": PIVOT,
    "pivot_sorted_by_profit": {**PIVOT, "sort": [{"by": "Profit", "direction": "desc"}]},
    "table_monthly_filtered": {
        "type": "table",
        "rows": ["Region", "Order Date"],
        "measures": [{"field": "Sales", "agg": "sum", "label": "Sales"}, {"agg": "count", "label": "Orders"}],
        "filters": [{"field": "Category", "op": "in", "value": ["Technology", "Furniture"]}],
        "date": {"field": "Order Date", "granularity": "month", "week_start": "monday", "time_zone": "UTC"},
        "totals": {"rows": True},
    },
}
TARGET_SPEC = "pivot_3x2_totals"


def log(message: str, *, end: str = "\n") -> None:
    print(message, file=sys.stderr, end=end, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Data


def generate(path: Path, *, rows: int, seed: int) -> float:
    """Write the sales snapshot; return the seconds it took. Every value is a function of (row, seed)."""

    def uniform(salt: int) -> str:  # a number in [0, 1) fixed by the row, the seed and the salt
        return f"(CAST(hash(i, {int(seed)}, {salt}) % 1000000 AS DOUBLE) / 1000000.0)"

    def pick(salt: int, weighted: Sequence[tuple[str, float]]) -> str:
        cases, edge = [], 0.0
        for value, weight in weighted[:-1]:
            edge += weight
            cases.append(f"WHEN {uniform(salt)} < {edge} THEN '{value}'")
        return f"CASE {' '.join(cases)} ELSE '{weighted[-1][0]}' END"

    segment = pick(2, [("Consumer", 0.52), ("Corporate", 0.30), ("Home Office", 0.18)])
    select = f"""
        SELECT
            {pick(1, [("Office Supplies", 0.60), ("Furniture", 0.21), ("Technology", 0.19)])} AS "Category",
            CASE WHEN {uniform(7)} < 0.001 THEN NULL ELSE {segment} END AS "Segment",
            {pick(3, [("Standard Class", 0.60), ("Second Class", 0.19), ("First Class", 0.15), ("Same Day", 0.06)])}
                AS "Ship Mode",
            {pick(4, [("West", 0.32), ("East", 0.28), ("Central", 0.23), ("South", 0.17)])} AS "Region",
            DATE '2021-01-01' + CAST(floor({uniform(5)} * 1461) AS INTEGER) AS "Order Date",
            CAST(round(exp(2 + 5 * {uniform(6)}), 2) AS DECIMAL(12, 2)) AS "Sales",
            CAST(round(exp(2 + 5 * {uniform(6)}) * ({uniform(8)} * 0.6 - 0.2), 2) AS DECIMAL(12, 2)) AS "Profit"
        FROM range({int(rows)}) AS t(i)
    """
    started = time.perf_counter()
    connection = duckdb.connect()
    try:
        target = str(path).replace("'", "''")
        connection.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
    finally:
        connection.close()
    return time.perf_counter() - started


def direct_profit_total(path: Path) -> float:
    connection = duckdb.connect()
    try:
        (total,) = connection.execute('SELECT SUM("Profit") FROM read_parquet(?)', [str(path)]).fetchone()
    finally:
        connection.close()
    return float(total)


def refresh_from_postgresql(*, rows: int, dsn: str, scratch: Path) -> dict[str, Any]:
    """Times refreshing `rows` rows from a PostgreSQL source into a Parquet snapshot (target <= 20 s), through the
    application's own extractor (`catalog.connectors.postgres_extract`: COPY ... TO STDOUT, then DuckDB writes
    Parquet), against a scratch database on the given server that is dropped afterwards."""
    import psycopg

    from catalog import connectors

    name = f"cartograph_refresh_bench_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        settings = connectors.PostgresSettings(
            host=info.get("host", "127.0.0.1"),
            port=int(info.get("port", 5432)),
            database=name,
            user=info.get("user", "postgres"),
            password=info.get("password", ""),
        )
        log(f"Loading {rows:,} rows into PostgreSQL ...", end="")
        started = time.perf_counter()
        with psycopg.connect(psycopg.conninfo.make_conninfo(dsn, dbname=name), autocommit=True) as conn:
            conn.execute(
                'CREATE TABLE sales ("Category" text, "Segment" text, "Ship Mode" text, "Region" text, '
                '"Order Date" date, "Sales" numeric(12,2), "Profit" numeric(12,2))'
            )
            conn.execute(
                "INSERT INTO sales SELECT (ARRAY['Furniture','Office Supplies','Technology','Auto'])[g %% 4 + 1], "
                "(ARRAY['Consumer','Corporate','Home Office','Online'])[(g / 7) %% 4 + 1], "
                "(ARRAY['First Class','Second Class','Standard Class','Same Day'])[(g / 3) %% 4 + 1], "
                "(ARRAY['North','South','East','West'])[(g / 11) %% 4 + 1], date '2024-01-01' + (g %% 730)::int, "
                "round((7 + (g * 7919 %% 1093))::numeric, 2), round(((g * 104729 %% 600) - 120)::numeric / 3, 2) "
                "FROM generate_series(1::bigint, %s::bigint) g",
                [rows],
            )
            conn.execute("ANALYZE sales")
        log(f" {time.perf_counter() - started:.1f} s")
        timings = []
        for attempt in range(3):
            dest = scratch / f"refresh-{attempt}.parquet"
            started = time.perf_counter()
            extract = connectors.postgres_extract(settings, connectors.relation_sql(table="sales"), dest)
            timings.append(time.perf_counter() - started)
            log(f"  refresh {attempt + 1}: {timings[-1]:.2f} s, {extract.rows:,} rows, {extract.bytes:,} bytes")
            assert extract.rows == rows, "the snapshot lost rows"
            dest.unlink()
        best, worst = min(timings), max(timings)
        return {
            "rows": rows,
            "seconds": [round(t, 2) for t in timings],
            "best_seconds": round(best, 2),
            "worst_seconds": round(worst, 2),
            "rows_per_second": int(rows / best),
            "snapshot_bytes": extract.bytes,
            "target_seconds": REFRESH_TARGET_S,
            "pass": worst <= REFRESH_TARGET_S,
        }
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------------------------
# Timing


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(timings: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
    }


def measure(path: Path, spec: dict[str, Any], *, runs: int, warmup: int) -> tuple[dict[str, Any], Any]:
    validated = validate_spec(spec, columns=COLUMNS)
    for _ in range(warmup):
        to_json(evaluate_parquet(validated, path))
    timings, evaluate_only = [], []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = evaluate_parquet(validated, path)
        evaluated = time.perf_counter()
        body = to_json(result)
        finished = time.perf_counter()
        evaluate_only.append((evaluated - started) * 1000)
        timings.append((finished - started) * 1000)
    assert result is not None
    outcome = {
        "runs": runs,
        **summary(timings),
        "evaluate_only": summary(evaluate_only),
        "rows": len(result.rows),
        "columns": len(result.columns),
        "cells": len(result.cells),
        "json_bytes": len(json.dumps(body, separators=(",", ":"))),
    }
    return outcome, result


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
    return {
        "cores": os.cpu_count(),
        "ram_gib": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def git_state() -> dict[str, Any]:
    def run(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    return {
        "commit": run("rev-parse", "--short", "HEAD") or None,
        "uncommitted_changes": bool(run("status", "--porcelain")),
    }


# ---------------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the snapshot (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=50, help="timed evaluations per spec (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed evaluations per spec first (default 3)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write the snapshot here and keep it (reused if it exists)")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server where a scratch database may be created for the refresh benchmark",
    )
    parser.add_argument("--skip-refresh", action="store_true", help="do not measure the PostgreSQL refresh")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="visual-scale-") as scratch:
        path = args.keep or Path(scratch) / "sales.parquet"
        if args.keep and path.exists():
            log(f"Reusing {path}.")
            generated = None
        else:
            log(f"Generating {args.rows:,} rows ...")
            generated = round(generate(path, rows=args.rows, seed=args.seed), 2)
            log(f"Generated in {generated} s.")
        results: dict[str, Any] = {}
        outputs = {}
        for name, spec in SPECS.items():
            log(f"  {name:24}", end="")
            results[name], outputs[name] = measure(path, spec, runs=args.runs, warmup=args.warmup)
            log(f" p50 {results[name]['p50_ms']:7.1f} ms  p95 {results[name]['p95_ms']:7.1f} ms")
        grand = find_cell(outputs[TARGET_SPEC], '{"m":"Profit","d":[],"t":["Category","Segment","Ship Mode"]}')
        checks = {
            "grand_total_matches_a_direct_sum": grand is not None
            and math.isclose(grand.value, direct_profit_total(path), rel_tol=1e-9),
        }
        size = path.stat().st_size
        if not args.keep:
            path.unlink()
        refresh = (
            None
            if args.skip_refresh
            else refresh_from_postgresql(rows=args.rows, dsn=args.postgres, scratch=Path(scratch))
        )
    p95 = results[TARGET_SPEC]["p95_ms"]
    report = {
        "benchmark": "visual_scale",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "code": git_state(),
        "snapshot": {"rows": args.rows, "seed": args.seed, "parquet_bytes": size, "generated_seconds": generated},
        "timed": "evaluate_parquet + to_json, a new DuckDB connection (cursor) per call",
        "target": {"spec": TARGET_SPEC, "p95_ms": TARGET_P95_MS},
        "results": results,
        "checks": checks,
        "refresh_from_postgresql": refresh if refresh else "skipped (--skip-refresh)",
        "passed": p95 <= TARGET_P95_MS and all(checks.values()) and (refresh is None or refresh["pass"]),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
