"""Sources, datasets, refreshes, previews, row/column rules and visuals through the API, against a real source."""

import io
import logging
import uuid
from datetime import UTC, datetime

import duckdb
import psycopg
import pytest
from django.contrib.auth.models import Group

from access.models import UserAttribute
from catalog import datasets
from catalog.models import Column, Dataset, DataSource, RefreshRun
from catalog.signals import dataset_refreshed
from catalog.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=False)
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "pw-Never-Shown-42"


@pytest.fixture(scope="module")
def warehouse():
    """A customer's warehouse: a second database on the local server."""
    name = f"cg_wh_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int, region text, dept text, amount numeric(10,2), secret_margin float8)")
        conn.execute(
            "INSERT INTO orders SELECT g, (ARRAY['North','South','East'])[g % 3 + 1], "
            "(ARRAY['claims','sales'])[g % 2 + 1], g, g * 0.1 FROM generate_series(1, 300) g"
        )
    yield name, dsn
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True)


@pytest.fixture
def source(api, admin_user, warehouse, django_capture_on_commit_callbacks):
    api.force_authenticate(admin_user)
    body = {
        "name": "Warehouse",
        "type": "postgresql",
        "host": "127.0.0.1",
        "port": 5432,
        "database": warehouse[0],
        "username": "postgres",
        "password": SECRET,
    }
    response = api.post("/api/v1/data-sources/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def create_dataset(api, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_passwords_are_encrypted_and_never_returned_or_logged(
    api, admin_user, warehouse, caplog, media, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    api.force_authenticate(admin_user)
    body = {
        "name": "WH",
        "type": "postgresql",
        "host": "127.0.0.1",
        "database": warehouse[0],
        "username": "postgres",
        "password": SECRET,
    }
    created = api.post("/api/v1/data-sources/", body, format="json")
    assert created.status_code == 201
    assert created.json()["has_password"] is True and "password" not in created.json()
    stored = DataSource.objects.get(asset_id=created.json()["id"])
    assert SECRET not in stored.password_encrypted and stored.password_encrypted
    listed = api.get("/api/v1/data-sources/").content.decode()
    tested = api.post(f"/api/v1/data-sources/{stored.asset_id}/test/")
    assert tested.status_code == 200 and tested.json()["ok"] is True
    create_dataset(api, django_capture_on_commit_callbacks, name="Orders", source=stored.asset_id, table_name="orders")
    assert SECRET not in listed
    assert SECRET not in caplog.text


def test_bad_sources_are_clear_400s(api, admin_user):
    api.force_authenticate(admin_user)
    missing = api.post("/api/v1/data-sources/", {"name": "X", "type": "postgresql", "host": "h"}, format="json")
    assert missing.status_code == 400 and "database" in missing.json()["detail"]
    port = api.post(
        "/api/v1/data-sources/",
        {"name": "X", "type": "postgresql", "host": "h", "database": "d", "username": "u", "port": 70000},
        format="json",
    )
    assert port.status_code == 400 and "port" in port.json()["detail"]
    bad = api.post(
        "/api/v1/data-sources/",
        {
            "name": "Nowhere",
            "type": "postgresql",
            "host": "127.0.0.1",
            "database": "no_such_db_here",
            "username": "postgres",
        },
        format="json",
    )
    tested = api.post(f"/api/v1/data-sources/{bad.json()['id']}/test/")
    assert tested.status_code == 400 and "no_such_db_here" in tested.json()["detail"]


def test_spice_dataset_refreshes_into_a_snapshot_with_history(
    api, admin_user, source, warehouse, media, django_capture_on_commit_callbacks
):
    received = []
    dataset_refreshed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="test-refresh")
    try:
        body = create_dataset(
            api,
            django_capture_on_commit_callbacks,
            name="Orders",
            source=source["id"],
            table_name="orders",
            refresh_interval="daily",
            refresh_time_zone="Europe/London",
        )
    finally:
        dataset_refreshed.disconnect(dispatch_uid="test-refresh")
    detail = api.get(f"/api/v1/datasets/{body['id']}/").json()
    assert detail["snapshot"]["rows"] == 300
    assert [c["name"] for c in detail["columns"]] == ["id", "region", "dept", "amount", "secret_margin"]
    assert detail["last_refresh"]["status"] == "succeeded" and detail["last_refresh"]["trigger"] == "created"
    assert detail["next_refresh_at"] is not None
    assert received and received[0]["dataset_id"] == Dataset.objects.get(asset_id=body["id"]).pk

    # the source changes shape: the next refresh records the schema change in history
    with psycopg.connect(warehouse[1], autocommit=True) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web'")
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(f"/api/v1/datasets/{body['id']}/refresh/")
    assert queued.status_code == 202
    history = api.get(f"/api/v1/assets/{body['id']}/history/").json()
    assert ("created", "channel") in {(e["action"], e["label"]) for e in history if e["entity"] == "column"}
    assert history[0]["source"] == "system"

    # the table disappears: the refresh fails, says why, and the last good snapshot stays
    with psycopg.connect(warehouse[1], autocommit=True) as conn:
        conn.execute("ALTER TABLE orders RENAME TO orders_old")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/api/v1/datasets/{body['id']}/refresh/")
        runs = api.get(f"/api/v1/datasets/{body['id']}/refreshes/").json()
        assert [r["status"] for r in runs] == ["failed", "succeeded", "succeeded"]
        assert "orders" in runs[0]["error"] and "does not exist" in runs[0]["error"]
        assert runs[1]["rows"] == 300 and runs[1]["bytes"] > 0 and runs[1]["duration_ms"] is not None
        preview = api.get(f"/api/v1/datasets/{body['id']}/preview/?limit=5").json()
        assert len(preview["rows"]) == 5 and preview["snapshot_id"] == runs[1]["snapshot"]
    finally:
        with psycopg.connect(warehouse[1], autocommit=True) as conn:
            conn.execute("ALTER TABLE orders_old RENAME TO orders")
            conn.execute("ALTER TABLE orders DROP COLUMN channel")


def test_refresh_request_is_idempotent_while_one_is_queued(api, admin_user, source, media):
    api.force_authenticate(admin_user)
    response = api.post(
        "/api/v1/datasets/", {"name": "Queued", "source": source["id"], "table_name": "orders"}, format="json"
    )  # on_commit callbacks are not run: the first refresh stays queued
    assert response.status_code == 201
    again = api.post(f"/api/v1/datasets/{response.json()['id']}/refresh/")
    assert again.status_code == 202
    assert RefreshRun.objects.filter(dataset__asset_id=response.json()["id"]).count() == 1
    assert datasets.dataset_refresh_run(refresh_id=again.json()["id"]).status == "succeeded"
    assert datasets.dataset_refresh_run(refresh_id=again.json()["id"]) is None  # a second delivery is a no-op


def test_csv_and_parquet_uploads(api, admin_user, media, django_capture_on_commit_callbacks, tmp_path):
    api.force_authenticate(admin_user)
    csv_file = io.BytesIO("région;montant\nÎle;12,5\nNord;3\n".encode("latin-1"))
    csv_file.name = "ventes.csv"
    with django_capture_on_commit_callbacks(execute=True):
        made = api.post("/api/v1/datasets/", {"name": "Ventes", "upload": csv_file}, format="multipart")
    assert made.status_code == 201, made.content
    preview = api.get(f"/api/v1/datasets/{made.json()['id']}/preview/").json()
    assert preview["columns"] == ["région", "montant"]
    assert preview["rows"] == [["Île", "12,5"], ["Nord", "3"]]

    path = tmp_path / "p.parquet"
    duckdb.sql(f"COPY (SELECT range AS id FROM range(7)) TO '{path}' (FORMAT parquet)")
    with path.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        made = api.post("/api/v1/datasets/", {"name": "P", "upload": handle}, format="multipart")
    assert made.status_code == 201
    assert api.get(f"/api/v1/datasets/{made.json()['id']}/").json()["snapshot"]["rows"] == 7


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("empty.csv", b"", "upload"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "upload"),
        ("fake.parquet", b"hello world", "upload"),
        ("table.xlsx", b"PK\x03\x04", "file_format"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(api, admin_user, media, name, payload, field):
    api.force_authenticate(admin_user)
    upload = io.BytesIO(payload)
    upload.name = name
    response = api.post("/api/v1/datasets/", {"name": "Bad", "upload": upload}, format="multipart")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]
    assert not Dataset.objects.exists()
    assert not media.exists() or not list(media.rglob("*.*"))


def test_oversized_upload(api, admin_user, media, settings):
    settings.CARTOGRAPH_UPLOAD_MAX_BYTES = 10
    api.force_authenticate(admin_user)
    upload = io.BytesIO(b"a,b\n1,2\n3,4\n5,6\n")
    upload.name = "big.csv"
    response = api.post("/api/v1/datasets/", {"name": "Big", "upload": upload}, format="multipart")
    assert response.status_code == 400 and "limit" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X"}, "source"),
        ({"name": "X", "table_name": "a.b.c"}, "table"),
        ({"name": "X", "sql_query": "delete from orders"}, "query"),
        ({"name": "X", "table_name": "orders", "refresh_time_zone": "Mars/Olympus"}, "refresh_time_zone"),
        ({"name": "X", "table_name": "orders", "import_mode": "telepathy"}, "import_mode"),
        ({"name": "X", "table_name": "orders", "row_limit": 0}, "row_limit"),
    ],
)
def test_bad_dataset_input(api, admin_user, source, body, field):
    if "name" in body and field != "source":
        body = {**body, "source": source["id"]}
    response = api.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]
    assert not Dataset.objects.exists()


@pytest.fixture
def orders(api, admin_user, source, media, django_capture_on_commit_callbacks):
    return create_dataset(
        api, django_capture_on_commit_callbacks, name="Orders", source=source["id"], table_name="orders"
    )


def test_row_and_column_rules_apply_to_every_read(api, admin_user, orders):
    north = Group.objects.create(name="north-team")
    analysts = Group.objects.create(name="analysts")
    # readers see the dataset through a grant on it
    from access.services import grant_set
    from catalog.models import Asset

    asset = Asset.objects.get(pk=orders["id"])
    grant_set(group=analysts, permission="view", asset=asset, actor=admin_user)
    nora = UserFactory(username="nora")
    nora.groups.add(north, analysts)
    dana = UserFactory(username="dana")
    dana.groups.add(analysts)
    UserAttribute.objects.create(user=dana, name="department", value="claims")
    olaf = UserFactory(username="olaf")
    olaf.groups.add(analysts)

    rules = f"/api/v1/datasets/{orders['id']}/row-rules/"
    assert (
        api.post(
            rules, {"column": "region", "group": "north-team", "allowed_values": ["North"]}, format="json"
        ).status_code
        == 201
    )
    assert api.post(rules, {"column": "dept", "user_attribute": "department"}, format="json").status_code == 201
    bad = api.post(rules, {"column": "nope", "group": "north-team", "allowed_values": ["x"]}, format="json")
    assert bad.status_code == 400 and "no column 'nope'" in bad.json()["detail"]
    cols = f"/api/v1/datasets/{orders['id']}/column-rules/"
    assert api.post(cols, {"column": "secret_margin", "group": "analysts"}, format="json").status_code == 201

    def preview(user):
        api.force_authenticate(user)
        return api.get(f"/api/v1/datasets/{orders['id']}/preview/?limit=1000").json()

    everything = preview(admin_user)
    assert len(everything["rows"]) == 300 and "secret_margin" in everything["columns"]
    nora_view = preview(nora)
    assert {row[1] for row in nora_view["rows"]} == {"North"} and len(nora_view["rows"]) == 100
    assert "secret_margin" not in nora_view["columns"] and nora_view["hidden_columns"] == ["secret_margin"]
    dana_view = preview(dana)
    assert {row[2] for row in dana_view["rows"]} == {"claims"} and len(dana_view["rows"]) == 150
    assert preview(olaf)["rows"] == []  # rules protect the dataset and none applies to olaf

    # visuals: the same rules; a spec naming a hidden column is refused without showing data
    api.force_authenticate(admin_user)
    spec = {
        "type": "pivot",
        "rows": ["region"],
        "columns": ["dept"],
        "measures": [{"field": "amount", "agg": "sum"}],
        "totals": {"rows": True, "columns": True, "grand": True},
    }
    made = api.post(
        "/api/v1/visuals/", {"name": "Amount by region", "dataset": orders["id"], "spec": spec}, format="json"
    )
    assert made.status_code == 201, made.content
    visual_id = made.json()["id"]
    grant_set(group=analysts, permission="view", asset=Asset.objects.get(pk=visual_id), actor=admin_user)
    full = api.get(f"/api/v1/visuals/{visual_id}/data/").json()
    assert full["restricted"] is False
    api.force_authenticate(nora)
    mine = api.get(f"/api/v1/visuals/{visual_id}/data/").json()
    assert mine["restricted"] is True
    assert mine["rows"] == [["North"]]  # nora's group sees the North rows only
    assert sorted(full["rows"]) == [["East"], ["North"], ["South"]]
    north_total = sum(g for g in range(1, 301) if g % 3 == 0)
    assert mine["grid"][-1][-1] == north_total  # the grand total adds up what she may see, not everything
    assert full["grid"][-1][-1] == sum(range(1, 301))
    api.force_authenticate(admin_user)
    margin = {**spec, "measures": [{"field": "secret_margin", "agg": "sum"}]}
    made = api.post("/api/v1/visuals/", {"name": "Margin", "dataset": orders["id"], "spec": margin}, format="json")
    grant_set(group=analysts, permission="view", asset=Asset.objects.get(pk=made.json()["id"]), actor=admin_user)
    api.force_authenticate(nora)
    hidden = api.get(f"/api/v1/visuals/{made.json()['id']}/data/")
    assert hidden.status_code == 400 and "secret_margin" in hidden.json()["detail"]
    assert "0.1" not in hidden.content.decode()


def test_viewers_read_but_do_not_manage(api, admin_user, orders):
    from access.services import grant_set
    from catalog.models import Asset

    viewers = Group.objects.create(name="viewers")
    grant_set(group=viewers, permission="view", asset=Asset.objects.get(pk=orders["id"]), actor=admin_user)
    vera = UserFactory(username="vera")
    vera.groups.add(viewers)
    outsider = UserFactory(username="otto")
    api.force_authenticate(vera)
    assert api.get(f"/api/v1/datasets/{orders['id']}/preview/").status_code == 200
    assert api.post(f"/api/v1/datasets/{orders['id']}/refresh/").status_code == 403
    assert api.get(f"/api/v1/datasets/{orders['id']}/row-rules/").status_code == 403
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/datasets/{orders['id']}/preview/").status_code == 404
    assert api.get("/api/v1/datasets/").json() == []


def test_visual_specs_are_validated_and_cells_have_stable_keys(api, admin_user, orders):
    bad = api.post("/api/v1/visuals/", {"dataset": orders["id"], "spec": {"type": "pie"}}, format="json")
    assert bad.status_code == 400 and "type" in bad.json()["detail"]
    typo = {"type": "table", "rows": ["regoin"], "measures": [{"field": "amount", "agg": "sum"}]}
    bad = api.post("/api/v1/visuals/", {"dataset": orders["id"], "spec": typo}, format="json")
    assert bad.status_code == 400 and "regoin" in bad.json()["detail"] and "region" in bad.json()["detail"]
    spec = {"type": "table", "rows": ["region"], "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}]}
    made = api.post("/api/v1/visuals/", {"name": "T", "dataset": orders["id"], "spec": spec}, format="json").json()
    first = api.get(f"/api/v1/visuals/{made['id']}/data/").json()
    second = api.get(f"/api/v1/visuals/{made['id']}/data/").json()
    assert first["cells"] == second["cells"] and first["snapshot_id"] is not None
    keys = [c[3] for c in first["cells"]]
    assert '{"m":"Amount","d":[["region","North"]]}' in keys
    north = sum(g for g in range(1, 301) if g % 3 == 0)
    assert any(row[0] == "North" for row in first["rows"])
    assert north in [v for row in first["grid"] for v in row]


def test_direct_dataset_reads_the_source_when_used(api, admin_user, source, media):
    api.force_authenticate(admin_user)
    made = api.post(
        "/api/v1/datasets/",
        {
            "name": "Live orders",
            "source": source["id"],
            "import_mode": "direct",
            "sql_query": "SELECT region, amount FROM orders WHERE amount < 10",
            "statement_timeout_ms": 2000,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    assert Column.objects.filter(asset_id=made.json()["id"]).count() == 2
    preview = api.get(f"/api/v1/datasets/{made.json()['id']}/preview/").json()
    assert len(preview["rows"]) == 9 and preview["snapshot_id"] is None
    assert api.post(f"/api/v1/datasets/{made.json()['id']}/refresh/").status_code == 400
    spec = {"type": "table", "rows": ["region"], "measures": [{"field": "amount", "agg": "count"}]}
    visual = api.post("/api/v1/visuals/", {"dataset": made.json()["id"], "spec": spec}, format="json").json()
    data = api.get(f"/api/v1/visuals/{visual['id']}/data/").json()
    assert sorted(sum(row for row in r if isinstance(row, int)) for r in data["grid"]) == [3, 3, 3]


def test_scheduled_refreshes_are_queued_once_and_move_on(admin_user, source, media, django_capture_on_commit_callbacks):
    ds = Dataset.objects.create(
        asset=datasets.services.asset_create(actor=admin_user, kind="dataset", name="Sched"),
        source=DataSource.objects.get(asset_id=source["id"]),
        table_name="orders",
        refresh_interval="hourly",
        next_refresh_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    with django_capture_on_commit_callbacks(execute=True):
        queued = datasets.datasets_refresh_due()
    assert len(queued) == 1
    assert datasets.datasets_refresh_due() == []
    ds.refresh_from_db()
    assert ds.next_refresh_at > datetime.now(UTC)
    assert ds.current_snapshot is not None and ds.current_snapshot.rows == 300


def test_next_refresh_keeps_local_midnight_across_dst():
    before = datetime(2024, 3, 30, 12, 0, tzinfo=UTC)  # London changes to BST on 31 March
    first = datasets.next_refresh(interval="daily", time_zone="Europe/London", after=before)
    second = datasets.next_refresh(interval="daily", time_zone="Europe/London", after=first)
    assert first == datetime(2024, 3, 31, 0, 0, tzinfo=UTC)  # midnight GMT
    assert second == datetime(2024, 3, 31, 23, 0, tzinfo=UTC)  # midnight BST
    weekly = datasets.next_refresh(interval="weekly", time_zone="UTC", after=datetime(2024, 5, 1, 9, tzinfo=UTC))
    assert weekly == datetime(2024, 5, 6, tzinfo=UTC)  # the next Monday
    assert datasets.next_refresh(interval="none", time_zone="UTC", after=before) is None


def test_data_can_be_attached_to_a_data_product(admin_user, media, django_capture_on_commit_callbacks, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    product = datasets.services.asset_create(actor=admin_user, kind="data_product", name="Customer")
    upload = SimpleUploadedFile("customer.csv", b"customer_id,email\n1,a@example.com\n2,b@example.com\n")
    with django_capture_on_commit_callbacks(execute=True):
        dataset = datasets.dataset_create(actor=admin_user, name="Customer", upload=upload, asset=product)
    dataset.refresh_from_db()
    assert dataset.asset_id == product.pk and dataset.current_snapshot.rows == 2
    assert list(product.columns.values_list("name", flat=True)) == ["customer_id", "email"]
    dashboard = datasets.services.asset_create(actor=admin_user, kind="dashboard", name="D")
    with pytest.raises(datasets.DomainError, match="cannot take data settings"):
        datasets.dataset_create(actor=admin_user, name="D", upload=upload, asset=dashboard)


def test_a_data_source_url_for_another_kind_of_asset_is_a_404_that_says_so(api, admin_user):
    api.force_authenticate(admin_user)
    dashboard = api.post("/api/v1/assets/", {"kind": "dashboard", "name": "Not a source"}, format="json").json()
    response = api.get(f"/api/v1/data-sources/{dashboard['id']}/")
    assert response.status_code == 404
    assert "not a data source" in response.json()["detail"]
