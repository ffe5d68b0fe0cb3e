"""Connectors against a real PostgreSQL source database and real CSV/Parquet files."""

import uuid
from pathlib import Path

import duckdb
import psycopg
import pytest

from catalog import connectors as c

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def source_db():
    """A second database on the local server, filled like a customer's warehouse."""
    name = f"cg_source_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE sales (id int PRIMARY KEY, region text, amount numeric(10,2), sold_at timestamptz, "
                "day date, ok boolean, note text)"
            )
            conn.execute(
                "INSERT INTO sales SELECT g, 'r' || (g % 5), g * 1.5, timestamptz '2024-01-01 00:00+00' + g * "
                "interval '1 hour', date '2024-01-01' + g % 30, g % 2 = 0, CASE WHEN g % 3 = 0 THEN E'a,\"b\"\\nc' END "
                "FROM generate_series(1, 2500) g"
            )
            conn.execute('CREATE SCHEMA "Mixed Case"')
            conn.execute('CREATE TABLE "Mixed Case"."Odd ""name""" (x int)')
            conn.execute('INSERT INTO "Mixed Case"."Odd ""name""" VALUES (1), (2)')
        yield c.PostgresSettings(host="127.0.0.1", port=5432, database=name, user="postgres")
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_table_becomes_a_typed_snapshot(source_db, tmp_path):
    result = c.postgres_extract(source_db, c.relation_sql(table="sales"), tmp_path / "s.parquet")
    assert result.rows == 2500
    assert result.bytes == (tmp_path / "s.parquet").stat().st_size
    assert [(col.name, col.data_type) for col in result.columns] == [
        ("id", "integer"),
        ("region", "varchar"),
        ("amount", "double"),
        ("sold_at", "timestamptz"),
        ("day", "date"),
        ("ok", "boolean"),
        ("note", "varchar"),
    ]
    _names, rows = c.parquet_rows(tmp_path / "s.parquet", columns=["id", "note"], row_filters=[("id", [3, 4])])
    assert rows == [(3, 'a,"b"\nc'), (4, None)]  # quotes, commas, newlines and NULLs survive the CSV stream
    assert not (tmp_path / "s.partial").exists()


def test_postgres_query_and_quoted_names(source_db, tmp_path):
    query = c.relation_sql(query="SELECT region, sum(amount) AS total FROM sales GROUP BY region")
    assert c.postgres_extract(source_db, query, tmp_path / "q.parquet").rows == 5
    odd = c.relation_sql(table='Mixed Case.Odd "name"')
    assert c.postgres_extract(source_db, odd, tmp_path / "o.parquet").rows == 2


def test_sources_are_read_only(source_db):
    _names, rows = c.postgres_query(
        source_db, c.relation_sql(query="SELECT count(*) AS n FROM sales"), [], statement_timeout_ms=5000, limit=10
    )
    assert rows == [(2500,)]
    with pytest.raises(c.ConnectorError, match="read-only"):
        c.postgres_extract(
            source_db,
            c.relation_sql(query="SELECT * FROM sales FOR UPDATE"),
            Path("/tmp/never.parquet"),
        )


def test_statement_timeout_is_a_clear_error(source_db):
    slow = c.relation_sql(query="SELECT pg_sleep(2)")
    with pytest.raises(c.ConnectorError, match="longer than 200 ms"):
        c.postgres_query(source_db, slow, [], statement_timeout_ms=200, limit=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": "a.b.c"}, "not a table name"),
        ({"query": "select 1; drop table sales"}, "single SELECT"),
        ({"query": "delete from sales"}, "start with SELECT"),
        ({}, "either a table or a query"),
    ],
)
def test_bad_relations(kwargs, message):
    with pytest.raises(c.ConnectorError, match=message):
        c.relation_sql(**kwargs)


def test_connection_errors_never_show_the_password():
    settings = c.PostgresSettings(
        host="127.0.0.1", port=5432, database="postgres", user="nobody_here", password="hunter2-secret"
    )
    with pytest.raises(c.ConnectorError) as error:
        c.postgres_test(settings)
    assert "hunter2-secret" not in str(error.value)
    assert "hunter2-secret" not in repr(settings)


def test_secrets_round_trip_and_wrong_key():
    token = c.secret_encrypt("s3cr3t", key="key-one")
    assert "s3cr3t" not in token
    assert c.secret_decrypt(token, key="key-one") == "s3cr3t"
    with pytest.raises(c.ConnectorError, match="CARTOGRAPH_ENCRYPTION_KEY"):
        c.secret_decrypt(token, key="key-two")


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        ("name,city,amount\nZoë,Besançon,12.5\nJosé,Mâcon,3\n", "utf-8", ","),
        ("\ufeffname;city;amount\nZoë;Besançon;12.5\nJosé;Mâcon;3\n", "utf-8", ";"),
        ("name\tcity\tamount\nZoë\tBesançon\t12.5\nJosé\tMâcon\t3\n", "latin-1", "\t"),
        ("name|city|amount\nZoë|Besançon|12.5\nJosé|Mâcon|3\n", "utf-16", "|"),
    ],
)
def test_csv_delimiter_and_encoding_are_detected(tmp_path, content, encoding, delimiter):
    src = tmp_path / "in.csv"
    src.write_bytes(content.encode(encoding))
    result = c.file_extract(src, tmp_path / "out.parquet", file_format="csv")
    assert result.details["delimiter"] == delimiter
    assert [col.name for col in result.columns] == ["name", "city", "amount"]
    assert {col.name: col.data_type for col in result.columns}["amount"] == "double"
    _, rows = c.parquet_rows(tmp_path / "out.parquet", columns=["name", "city"])
    assert rows == [("Zoë", "Besançon"), ("José", "Mâcon")]


def test_parquet_upload(tmp_path):
    src = tmp_path / "in.parquet"
    duckdb.sql(f"COPY (SELECT range AS id, 'x' || range AS label FROM range(42)) TO '{src}' (FORMAT parquet)")
    result = c.file_extract(src, tmp_path / "out.parquet", file_format="parquet")
    assert result.rows == 42
    assert [(col.name, col.data_type) for col in result.columns] == [("id", "bigint"), ("label", "varchar")]


@pytest.mark.parametrize(
    ("payload", "file_format", "message"),
    [
        (b"", "csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "csv", "binary"),
        (b"not parquet at all", "parquet", "Parquet"),
        (b"a,b\n1,2\n", "xlsx", "file format"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path, payload, file_format, message):
    src = tmp_path / "bad"
    src.write_bytes(payload)
    with pytest.raises(c.ConnectorError, match=message):
        c.file_extract(src, tmp_path / "out.parquet", file_format=file_format)
    assert not (tmp_path / "out.parquet").exists()


def test_preview_filters_rows_and_columns(tmp_path):
    path = tmp_path / "p.parquet"
    duckdb.sql(
        f"COPY (SELECT range AS id, ['a','b','c'][range % 3 + 1] AS dept FROM range(30)) TO '{path}' (FORMAT parquet)"
    )
    names, rows = c.parquet_rows(path, columns=["id"], row_filters=[("dept", ["b"])], limit=3)
    assert names == ["id"] and rows == [(1,), (4,), (7,)]
    assert c.parquet_count(path, row_filters=[("dept", ["a", "c"])]) == 20
    assert c.parquet_count(path, row_filters=[("dept", [])]) == 0
