#!/usr/bin/env python
"""Ingestion at scale: change events and OpenLineage events posted over HTTP to the web server (granian) +
PostgreSQL from a second process, and a bulk import of a large Describe* bundle run by a real Celery worker.

    python benchmarks/ingest_scale.py [--seconds 30] [--clients 8] [--bundle-assets 50000]
                                      [--workers 2] [--threads 4] [--database cartograph_ingest_bench] [--keep]
                                      [--receive-only]

What it does, in order:

1. Creates a scratch database and runs `manage.py migrate` on it; creates an administrator with an API token and
   two event sources (QuickSight and OpenLineage) through the application's own services.
2. Starts the web server (granian, production settings) and a Celery worker on Redis.
3. Import, into the empty catalog (so its time does not depend on what came before): generates a bundle of
   --bundle-assets QuickSight assets (data sources, datasets with physical tables and some custom SQL, analyses,
   templates with dataset configurations, dashboards, folders with members), posts it to `POST /api/v1/imports/` and
   polls the job until it ends; then imports the same bundle again (all unchanged).
4. Events, against that catalog: a second process prepares its requests, opens --clients keep-alive connections and,
   for --seconds, posts one event per request: half OpenLineage RunEvents (START/COMPLETE of jobs reading and
   writing a pool of datasets, with schema and column lineage facets), half EventBridge events carrying CloudTrail
   records (CreateDashboard / UpdateDashboard with a template SourceEntity, UpdateDashboardPublishedVersion, folder
   memberships) over dashboards of the bundle, each stamped with the time it is sent. It reports events/s
   sustained, p50/p95/p99 per request and the answers, then waits until the worker has applied every event
   (reporting how long after the load that took, and the stored statuses). With --receive-only the worker is
   stopped first and nothing is applied: the figures are then those of the receiving path alone.
5. Prints JSON on stdout (progress on stderr), stops the processes and, unless --keep, drops the database.

Targets: >= 1,000 events/s sustained with p95 <= 50 ms per request; a 50,000-asset bundle imported in <= 60 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.catalog_scale import (  # noqa: E402
    Database,
    Server,
    git_state,
    log,
    machine,
    migrate,
    percentile,
)

MARKER = "ingest_scale benchmark database"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
TARGET_EVENTS_PER_SECOND = 1000.0
TARGET_P95_MS = 50.0
TARGET_IMPORT_SECONDS = 60.0
# requests prepared per second of load: comfortably above what 2 cores can serve
PREPARED_PER_SECOND = 2500
# an event time of the width of datetime.isoformat(timespec="microseconds"), replaced when the request is sent
EVENT_TIME_PLACEHOLDER = datetime(2000, 1, 1, tzinfo=UTC)
PLACEHOLDER_BYTES = EVENT_TIME_PLACEHOLDER.isoformat(timespec="microseconds").encode()

SETUP = """
import json
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from ingestion import services
admin = get_user_model().objects.create_user(username="bench-admin", password=None, is_staff=True)
_, quicksight = services.event_source_create(name="bench EventBridge", kind="quicksight", actor=admin)
_, openlineage = services.event_source_create(name="bench OpenLineage", kind="openlineage", actor=admin)
print(json.dumps({"staff": Token.objects.create(user=admin).key, "quicksight": quicksight,
                  "openlineage": openlineage}))
"""


def arn(resource: str, resource_id: str) -> str:
    return f"arn:aws:quicksight:{REGION}:{ACCOUNT}:{resource}/{resource_id}"


# ---------------------------------------------------------------------------------------------------------------
# Events


def openlineage_event(rng: random.Random, at: datetime) -> dict[str, Any]:
    job = rng.randrange(200)
    inputs = [f"warehouse.public.table_{rng.randrange(500)}" for _ in range(2)]
    output = f"marts.public.mart_{job}"
    field = {"namespace": "postgres://db:5432", "name": inputs[0], "field": "amount"}
    return {
        "eventType": rng.choice(["START", "COMPLETE"]),
        "eventTime": at.isoformat(timespec="microseconds"),
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": f"dag_{job}.task"},
        "inputs": [
            {
                "namespace": "postgres://db:5432",
                "name": name,
                "facets": {
                    "schema": {"fields": [{"name": "id", "type": "INT"}, {"name": "amount", "type": "NUMERIC"}]}
                },
            }
            for name in inputs
        ],
        "outputs": [
            {
                "namespace": "postgres://db:5432",
                "name": output,
                "facets": {
                    "schema": {"fields": [{"name": "total", "type": "NUMERIC"}]},
                    "columnLineage": {"fields": {"total": {"inputFields": [field]}}},
                },
            }
        ],
    }


def cloudtrail_event(rng: random.Random, at: datetime) -> dict[str, Any]:
    dashboard = f"d{rng.randrange(2000)}"
    choice = rng.random()
    if choice < 0.5:
        name = rng.choice(["CreateDashboard", "UpdateDashboard"])
        params: dict[str, Any] = {
            "awsAccountId": ACCOUNT,
            "dashboardId": dashboard,
            "name": f"Dashboard {dashboard}",
            "sourceEntity": {
                "sourceTemplate": {
                    "arn": arn("template", f"t{rng.randrange(50)}"),
                    "dataSetReferences": [
                        {"dataSetPlaceholder": "main", "dataSetArn": arn("dataset", f"ds{rng.randrange(300)}")}
                    ],
                }
            },
        }
    elif choice < 0.8:
        name = "UpdateDashboardPublishedVersion"
        params = {"awsAccountId": ACCOUNT, "dashboardId": dashboard, "versionNumber": rng.randrange(1, 30)}
    else:
        name = "CreateFolderMembership"
        params = {
            "awsAccountId": ACCOUNT,
            "folderId": f"f{rng.randrange(20)}",
            "memberId": dashboard,
            "memberType": "DASHBOARD",
        }
    event_id = str(uuid.uuid4())
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.quicksight",
        "account": ACCOUNT,
        "time": at.isoformat(timespec="microseconds"),
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventTime": at.isoformat(timespec="microseconds"),
            "eventSource": "quicksight.amazonaws.com",
            "eventName": name,
            "awsRegion": REGION,
            "recipientAccountId": ACCOUNT,
            "requestParameters": params,
            "eventID": event_id,
        },
    }


def requests_prepare(port: int, tokens: dict[str, str], count: int, client: int) -> list[bytes]:
    """`count` complete HTTP requests for one connection, made before the clock starts so that the load generator
    spends its time sending, not building JSON. Their event times are a placeholder of fixed width that the sender
    replaces with the time of sending, as real events carry the time they happened."""
    rng = random.Random(client)
    out = []
    for _ in range(count):
        at = EVENT_TIME_PLACEHOLDER
        if rng.random() < 0.5:
            path, token, body = "/api/v1/lineage", tokens["openlineage"], openlineage_event(rng, at)
        else:
            path, token, body = "/api/v1/events/", tokens["quicksight"], cloudtrail_event(rng, at)
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        out.append(head.encode() + payload)
    return out


def _response_read(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response with a Content-Length (what the server sends here): (status, body, whether the server
    closes the connection after it)."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    length, closing = 0, False
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            closing = value.strip().lower() == "close"
    while len(buffer) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return int(head[0].split()[1]), body, closing


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _sender(port: int, requests: list[bytes], seconds: float, out: list[Any]) -> None:
    """Posts the prepared requests one at a time on one keep-alive connection until `seconds` have passed."""
    sock = _connect(port)
    buffer = bytearray()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    started = time.monotonic()
    for request in requests:
        if time.monotonic() - started >= seconds:
            break
        now = datetime.now(UTC).isoformat(timespec="microseconds").encode()
        t0 = time.perf_counter()
        sock.sendall(request.replace(PLACEHOLDER_BYTES, now))
        status, data, closing = _response_read(sock, buffer)
        latencies.append((time.perf_counter() - t0) * 1000)
        if closing:  # the server does not keep this connection alive: the next request goes on a new one
            sock.close()
            sock = _connect(port)
        if status >= 300:
            statuses[f"http {status}"] += 1
        elif request.startswith(b"POST /api/v1/lineage"):
            statuses[f"openlineage {json.loads(data)['status']}"] += 1
        else:
            for event in json.loads(data)["events"]:
                statuses[f"cloudtrail {event['status']}"] += 1
    else:
        statuses["ran out of prepared requests"] += 1
    sock.close()
    out.append((latencies, statuses))


def load_process(port: int, tokens: dict[str, str], seconds: float, clients: int, queue: Any) -> None:
    """The second process: prepares the requests, then `clients` threads, each with its own keep-alive connection,
    post them for `seconds`."""
    per_client = int(seconds * PREPARED_PER_SECOND / clients) + 100
    prepared = [requests_prepare(port, tokens, per_client, c) for c in range(clients)]
    results: list[Any] = []
    threads = [threading.Thread(target=_sender, args=(port, prepared[c], seconds, results)) for c in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies = [value for values, _ in results for value in values]
    statuses: Counter[str] = Counter()
    for _, counts in results:
        statuses.update(counts)
    queue.put({"elapsed": elapsed, "latencies": latencies, "statuses": dict(statuses)})


def drain_wait(port: int, token: str, load_seconds: float, received: int, timeout: float = 600) -> dict[str, Any]:
    """Waits until no received event is pending (the worker applies them after the answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}"}
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        conn.request("GET", "/api/v1/ingestion/events/?status=pending", headers=headers)
        if not json.loads(conn.getresponse().read())["results"]:
            break
        time.sleep(0.5)
    after = time.monotonic() - started
    conn.close()
    return {
        "seconds_after_load": round(after, 1),
        "events_applied_per_second": round(received / (load_seconds + after), 1),
    }


# ---------------------------------------------------------------------------------------------------------------
# The bundle


def bundle_generate(assets: int, seed: int) -> dict[str, list[Any]]:
    """About `assets` QuickSight assets in the shape of their Describe* outputs."""
    rng = random.Random(seed)
    n_sources = max(2, assets // 100)
    n_datasets = assets * 20 // 100
    n_analyses = assets * 10 // 100
    n_templates = assets * 5 // 100
    n_folders = max(1, assets * 2 // 100)
    n_dashboards = assets - n_sources - n_datasets - n_analyses - n_templates - n_folders
    sources = [
        {
            "DataSource": {
                "Arn": arn("datasource", f"s{i}"),
                "DataSourceId": f"s{i}",
                "Name": f"Source {i}",
                "Type": "POSTGRESQL",
                "DataSourceParameters": {"PostgreSqlParameters": {"Host": f"db{i}", "Port": 5432, "Database": "dw"}},
            }
        }
        for i in range(n_sources)
    ]
    datasets = []
    for i in range(n_datasets):
        source = arn("datasource", f"s{rng.randrange(n_sources)}")
        columns = [{"Name": f"c{k}", "Type": rng.choice(["STRING", "INTEGER", "DECIMAL"])} for k in range(8)]
        if i % 10 == 0:
            physical = {
                "CustomSql": {
                    "DataSourceArn": source,
                    "Name": "q",
                    "SqlQuery": f"SELECT a.c0, a.c1, b.c2 FROM s.t{i} a JOIN s.u{i} b ON a.c0 = b.c0",
                    "Columns": columns[:3],
                }
            }
            output = columns[:3]
        else:
            physical = {
                "RelationalTable": {
                    "DataSourceArn": source,
                    "Schema": "public",
                    "Name": f"table_{i}",
                    "InputColumns": columns,
                }
            }
            output = columns
        datasets.append(
            {
                "DataSet": {
                    "Arn": arn("dataset", f"ds{i}"),
                    "DataSetId": f"ds{i}",
                    "Name": f"Dataset {i}",
                    "ImportMode": "SPICE",
                    "PhysicalTableMap": {"p": physical},
                    "LogicalTableMap": {"l": {"Alias": "t", "Source": {"PhysicalTableId": "p"}}},
                    "OutputColumns": output,
                }
            }
        )
    analyses = [
        {
            "Analysis": {
                "Arn": arn("analysis", f"a{i}"),
                "AnalysisId": f"a{i}",
                "Name": f"Analysis {i}",
                "DataSetArns": [arn("dataset", f"ds{rng.randrange(n_datasets)}")],
                "Sheets": [{"SheetId": "s1", "Name": "Overview"}],
            }
        }
        for i in range(n_analyses)
    ]
    templates = [
        {
            "Template": {
                "Arn": arn("template", f"t{i}"),
                "TemplateId": f"t{i}",
                "Name": f"Template {i}",
                "Version": {
                    "VersionNumber": 1 + i % 3,
                    "SourceEntityArn": arn("analysis", f"a{rng.randrange(n_analyses)}"),
                    "DataSetConfigurations": [
                        {
                            "Placeholder": "main",
                            "DataSetSchema": {"ColumnSchemaList": [{"Name": "c0", "DataType": "STRING"}]},
                        }
                    ],
                },
            }
        }
        for i in range(n_templates)
    ]
    dashboards = [
        {
            "Dashboard": {
                "Arn": arn("dashboard", f"d{i}"),
                "DashboardId": f"d{i}",
                "Name": f"Dashboard {i}",
                "Version": {
                    "VersionNumber": 1,
                    "SourceEntityArn": arn("template", f"t{rng.randrange(n_templates)}"),
                    "DataSetArns": [arn("dataset", f"ds{rng.randrange(n_datasets)}")],
                },
            }
        }
        for i in range(n_dashboards)
    ]
    per_folder = max(1, n_dashboards // n_folders)
    folders = [
        {
            "Folder": {
                "Arn": arn("folder", f"f{i}"),
                "FolderId": f"f{i}",
                "Name": f"Folder {i}",
                "FolderType": "SHARED",
            },
            "Members": [
                {"MemberId": f"d{k}", "MemberArn": arn("dashboard", f"d{k}")}
                for k in range(i * per_folder, min(n_dashboards, (i + 1) * per_folder))
            ],
        }
        for i in range(n_folders)
    ]
    return {
        "DataSources": sources,
        "DataSets": datasets,
        "Analyses": analyses,
        "Templates": templates,
        "Dashboards": dashboards,
        "Folders": folders,
    }


def _multipart(path: Path) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="bundle.json"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def import_run(port: int, token: str, path: Path, timeout: float) -> dict[str, Any]:
    body, content_type = _multipart(path)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": f"Token {token}", "Content-Type": content_type}
    started = time.monotonic()
    conn.request("POST", "/api/v1/imports/", body=body, headers=headers)
    response = conn.getresponse()
    created = json.loads(response.read())
    if response.status != 202:
        raise SystemExit(f"POST /api/v1/imports/ answered {response.status}: {created}")
    accepted = time.monotonic() - started
    job: dict[str, Any] = created
    last = -1
    while time.monotonic() - started < timeout:
        conn.request("GET", f"/api/v1/imports/{created['id']}/", headers={"Authorization": f"Token {token}"})
        job = json.loads(conn.getresponse().read())
        if job["processed"] != last:
            last = job["processed"]
            log(f"    {job['status']:9} {job['processed']:>7,} / {job['total']:,}")
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(1)
    elapsed = time.monotonic() - started
    conn.close()
    return {
        "status": job["status"],
        "seconds": round(elapsed, 1),
        "upload_seconds": round(accepted, 1),
        "items": job["total"],
        "items_per_second": round(job["processed"] / elapsed, 1) if elapsed else None,
        "created": job["created"],
        "updated": job["updated"],
        "unchanged": job["unchanged"],
        "rejected": job["rejected"],
        "first_rejections": (job.get("report") or {}).get("rejected", [])[:5],
        "error": job.get("error", ""),
    }


# ---------------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long events are posted (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections posting events (default 8)")
    parser.add_argument("--bundle-assets", type=int, default=50_000, help="assets in the bundle (default 50,000)")
    parser.add_argument("--import-timeout", type=float, default=1800.0, help="give up on an import after (s)")
    # 2 x 4 for 2 cores: the request path is CPU-bound Python; more processes than cores only contend with PostgreSQL,
    # the Celery worker and the load generator (measured: 2x4 ~430 events/s, 3x4 ~280, 4x2 ~105 on the same machine)
    parser.add_argument("--workers", type=int, default=2, help="web server workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per web server worker (default 4)")
    parser.add_argument("--database", default="cartograph_ingest_bench", help="name of the scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--receive-only",
        action="store_true",
        help="stop the worker before the events: measures the receiving path alone (nothing is applied)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCHMARK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server to use, as a URL of its maintenance database (env BENCHMARK_POSTGRES_URL)",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="Celery broker for the import worker")
    parser.add_argument("--seed", type=int, default=20260301)
    return parser.parse_args(argv)


def _worker_stop(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is not None and worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    db = Database(args.postgres, args.database)
    workdir = Path(tempfile.mkdtemp(prefix="ingest-scale-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DEBUG": "false",
        "CELERY_BROKER_URL": args.redis,
        "REDIS_URL": args.redis,
        "MEDIA_ROOT": str(workdir / "media"),
        "DATA_UPLOAD_MAX_MEMORY_SIZE": str(10 * 1024 * 1024),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": db.url(),
    }
    server: Server | None = None
    worker: subprocess.Popen[bytes] | None = None
    try:
        if db.comment() is not None:
            if (db.comment() or {}).get("marker") != MARKER:
                raise SystemExit(f"database {db.name!r} exists and was not created by this benchmark")
            db.drop()
        with db.admin() as conn:
            conn.execute(f'CREATE DATABASE "{db.name}"')
        db.set_comment({"marker": MARKER})
        migrate(db, env)
        setup = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if setup.returncode != 0:
            raise SystemExit(setup.stderr)
        tokens = json.loads(setup.stdout.strip().splitlines()[-1])
        server = Server(env=env, workers=args.workers, threads=args.threads, log_path=workdir / "web.log")
        worker_log = (workdir / "worker.log").open("w")
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config.celery_app",
                "worker",
                "--concurrency=1",
                "-l",
                "WARNING",
                "-Q",
                "celery",
            ],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log(f"web server on port {server.port}, {args.workers} workers x {args.threads} threads; waiting ...")
        deadline = time.monotonic() + 90
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
                probe.request("GET", "/api/v1/imports/", headers={"Authorization": f"Token {tokens['staff']}"})
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.process.poll() is not None:
                raise SystemExit(f"the web server did not start:\n{server.log_tail()}")
            time.sleep(0.5)

        path = workdir / "bundle.json"
        path.write_text(json.dumps(bundle_generate(args.bundle_assets, args.seed)))
        log(f"Import of {args.bundle_assets:,} assets ({path.stat().st_size / 1_048_576:.1f} MiB) ...")
        first = import_run(server.port, tokens["staff"], path, args.import_timeout)
        log(f"  {first['status']} in {first['seconds']} s; again (unchanged) ...")
        second = import_run(server.port, tokens["staff"], path, args.import_timeout)
        log(f"  {second['status']} in {second['seconds']} s")

        if args.receive_only:
            _worker_stop(worker)
        log(f"Events: {args.clients} connections from a second process for {args.seconds:.0f} s ...")
        load_before = os.getloadavg()
        queue: Any = multiprocessing.get_context("spawn").Queue()
        process = multiprocessing.get_context("spawn").Process(
            target=load_process, args=(server.port, tokens, args.seconds, args.clients, queue)
        )
        process.start()
        outcome = queue.get(timeout=args.seconds + 600)
        process.join()
        latencies = outcome["latencies"]
        rate = len(latencies) / outcome["elapsed"]
        events = {
            "requests": len(latencies),
            "seconds": round(outcome["elapsed"], 1),
            "events_per_second": round(rate, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "statuses": outcome["statuses"],
            "target_events_per_second": TARGET_EVENTS_PER_SECOND,
            "target_p95_ms": TARGET_P95_MS,
            "pass": rate >= TARGET_EVENTS_PER_SECOND and percentile(latencies, 0.95) <= TARGET_P95_MS,
            "load_average_before": [round(x, 2) for x in load_before],
        }
        if args.receive_only:
            log(f"  {rate:.0f} events/s, p95 {events['p95_ms']} ms (received only: no worker applied them)")
            events["applied"] = None
        else:
            log(f"  {rate:.0f} events/s, p95 {events['p95_ms']} ms; waiting until the worker has applied them ...")
            events["applied"] = drain_wait(server.port, tokens["staff"], outcome["elapsed"], len(latencies))
            with db.connect() as conn:
                events["applied"]["statuses"] = dict(
                    conn.execute("SELECT status, count(*) FROM ingestion_changeevent GROUP BY status").fetchall()
                )
            log(f"  all applied {events['applied']['seconds_after_load']} s after the load ended")

        result = {
            "benchmark": "ingest_scale",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "git": git_state(),
            "server": {"workers": args.workers, "threads": args.threads, "clients": args.clients},
            "receive_only": args.receive_only,
            "events": events,
            "import": {
                "assets": args.bundle_assets,
                "bundle_mib": round(path.stat().st_size / 1_048_576, 1),
                "first": first,
                "again": second,
                "target_seconds": TARGET_IMPORT_SECONDS,
                "pass": first["status"] == "succeeded" and first["seconds"] <= TARGET_IMPORT_SECONDS,
            },
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        _worker_stop(worker)
        if server is not None:
            server.stop()
        if not args.keep:
            db.drop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    raise SystemExit(main())
