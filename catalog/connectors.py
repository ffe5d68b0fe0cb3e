"""Reading data where it lives: PostgreSQL connections and uploaded CSV/Parquet files, into Parquet snapshots.

Plain functions over paths and connection settings (no models), so they are tested against a real PostgreSQL and real
files without the rest of the application. DuckDB writes and reads the Parquet snapshots.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from charset_normalizer import from_bytes
from cryptography.fernet import Fernet, InvalidToken
from psycopg import sql

from config.errors import DomainError

# PostgreSQL types → DuckDB types for the CSV stream of COPY; anything else is read as text.
_PG_TO_DUCKDB = {
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "float4": "REAL",
    "float8": "DOUBLE",
    "numeric": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "time": "TIME",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
    "bpchar": "VARCHAR",
    "uuid": "VARCHAR",
    "json": "VARCHAR",
    "jsonb": "VARCHAR",
}
_DUCKDB_TO_CATALOG = {
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UTINYINT": "integer",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "bigint",
    "FLOAT": "double",
    "REAL": "double",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME": "time",
    "VARCHAR": "varchar",
}
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
FILE_FORMATS = ("csv", "parquet")


class ConnectorError(DomainError):
    """The data could not be read; the message says what to fix."""


# ---------------------------------------------------------------------------------------------------------------
# Secrets


def _fernet(key: str) -> Fernet:
    """A Fernet key from the configured secret: used as is when it is a Fernet key, otherwise derived from it."""
    raw = key.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return Fernet(raw)
    except ValueError:
        pass
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw).digest()))


def secret_encrypt(plain: str, *, key: str) -> str:
    return _fernet(key).encrypt(plain.encode()).decode()


def secret_decrypt(token: str, *, key: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConnectorError(
            "the stored password cannot be decrypted with the current CARTOGRAPH_ENCRYPTION_KEY; "
            "set the key it was saved with, or enter the password again"
        ) from None


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str  # the catalog's type names: integer, bigint, double, boolean, date, timestamp, varchar ...
    nullable: bool = True


@dataclass
class Extract:
    rows: int
    bytes: int
    columns: list[ColumnInfo] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _catalog_type(duckdb_type: str) -> str:
    base = duckdb_type.upper()
    if base.startswith("DECIMAL"):
        return "numeric"
    return _DUCKDB_TO_CATALOG.get(base, base.lower())


def parquet_columns(path: Path) -> list[ColumnInfo]:
    with duckdb.connect() as con:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return [ColumnInfo(name=row[0], data_type=_catalog_type(row[1]), nullable=row[2] != "NO") for row in rows]


def _finish(con: duckdb.DuckDBPyConnection, select_sql: str, params: list, dest: Path) -> Extract:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".partial")
    con.execute(f"COPY ({select_sql}) TO '{_literal(partial)}' (FORMAT parquet, COMPRESSION zstd)", params)
    os.replace(partial, dest)  # a snapshot appears whole or not at all
    rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(dest)]).fetchone()[0]
    return Extract(rows=rows, bytes=dest.stat().st_size, columns=parquet_columns(dest))


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False, default="")
    ssl_mode: str = "prefer"

    def connect(self, *, timeout_s: int = 10, statement_timeout_ms: int | None = None) -> psycopg.Connection:
        # Cartograph only reads from sources: every session is read-only at the server.
        options = "-c default_transaction_read_only=on"
        if statement_timeout_ms:
            options += f" -c statement_timeout={int(statement_timeout_ms)}"
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=self.password or None,
                sslmode=self.ssl_mode,
                connect_timeout=timeout_s,
                options=options,
                autocommit=True,
            )
        except psycopg.OperationalError as error:
            raise ConnectorError(_scrub(str(error), self.password) or "cannot connect") from None


def _scrub(message: str, secret: str) -> str:
    """Error text without the password, first line only (drivers can echo connection strings)."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line.replace(secret, "********") if secret else line


def relation_sql(*, table: str = "", query: str = "") -> sql.Composable:
    """The dataset's relation: a (schema-qualified) table name, or a read-only SELECT as a subquery."""
    if bool(table) == bool(query):
        raise ConnectorError("give either a table or a query", field="table")
    if table:
        parts = [p for p in table.split(".") if p]
        if not 1 <= len(parts) <= 2:
            raise ConnectorError(f"{table!r} is not a table name; use table or schema.table", field="table")
        return sql.Identifier(*parts)
    text = query.strip().rstrip(";")
    if ";" in text:
        raise ConnectorError("the query must be a single SELECT statement", field="query")
    if not text.lower().startswith(("select", "with")):
        raise ConnectorError("the query must start with SELECT or WITH", field="query")
    return sql.SQL("({})").format(sql.SQL(text))


def postgres_test(settings: PostgresSettings) -> str:
    """Connects and answers the server version, or raises a ConnectorError that says why not."""
    with settings.connect(timeout_s=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def postgres_columns(settings: PostgresSettings, relation: sql.Composable) -> list[tuple[str, str]]:
    with settings.connect(statement_timeout_ms=30_000) as conn:
        try:
            cur = conn.execute(sql.SQL("SELECT * FROM {} AS q LIMIT 0").format(relation))
        except psycopg.Error as error:
            raise ConnectorError(f"the source refused the query: {_scrub(str(error), settings.password)}") from None
        result = []
        for column in cur.description:
            info = conn.adapters.types.get(column.type_code)
            result.append((column.name, info.name if info else "text"))
        return result


def postgres_extract(
    settings: PostgresSettings, relation: sql.Composable, dest: Path, *, statement_timeout_ms: int = 600_000
) -> Extract:
    """Copies the relation into a Parquet snapshot: COPY ... TO STDOUT (CSV) into a temporary file, typed by the
    source's own column types, then DuckDB writes Parquet."""
    columns = postgres_columns(settings, relation)
    if not columns:
        raise ConnectorError("the relation has no columns")
    with tempfile.NamedTemporaryFile(suffix=".csv", dir=dest.parent if dest.parent.exists() else None) as tmp:
        with settings.connect(statement_timeout_ms=statement_timeout_ms) as conn:
            copy_sql = sql.SQL("COPY (SELECT * FROM {} AS q) TO STDOUT WITH (FORMAT csv)").format(relation)
            try:
                with conn.cursor().copy(copy_sql) as copy:
                    for chunk in copy:
                        tmp.write(chunk)
            except psycopg.Error as error:
                raise ConnectorError(f"reading the source failed: {_scrub(str(error), settings.password)}") from None
        tmp.flush()
        types = {name: _PG_TO_DUCKDB.get(pg_type, "VARCHAR") for name, pg_type in columns}
        with duckdb.connect() as con:
            select = "SELECT * FROM read_csv(?, header=false, columns=?, quote='\"', escape='\"', auto_detect=false)"
            return _finish(con, select, [tmp.name, types], dest)


def postgres_query(
    settings: PostgresSettings, query: sql.Composable, params: Sequence[Any], *, statement_timeout_ms: int, limit: int
) -> tuple[list[str], list[tuple]]:
    """Runs a read-only query against the source (direct mode) with a statement timeout and a row limit."""
    with settings.connect(statement_timeout_ms=statement_timeout_ms) as conn:
        conn.read_only = True
        try:
            cur = conn.execute(query, list(params))
        except psycopg.errors.QueryCanceled:
            raise ConnectorError(
                f"the source took longer than {statement_timeout_ms} ms; narrow the query or use SPICE mode"
            ) from None
        except psycopg.Error as error:
            raise ConnectorError(f"the source refused the query: {_scrub(str(error), settings.password)}") from None
        names = [c.name for c in cur.description or []]
        return names, cur.fetchmany(limit)


# ---------------------------------------------------------------------------------------------------------------
# Files


def detect_encoding(sample: bytes) -> str:
    """The text encoding of a file's first bytes (UTF-8 with or without BOM, Latin-1, UTF-16 ...)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    best = from_bytes(sample).best()
    if best is None:
        raise ConnectorError("the file is not text; upload a CSV or a Parquet file", field="file")
    encoding = best.encoding.lower().replace("_", "-")
    return {"ascii": "utf-8", "utf-8": "utf-8"}.get(encoding, encoding)


def _to_utf8(src: Path, encoding: str, dest: Path) -> None:
    with src.open("r", encoding=encoding, newline="") as reader, dest.open("w", encoding="utf-8", newline="") as out:
        while chunk := reader.read(1 << 20):
            out.write(chunk)


def file_check(head: bytes, tail: bytes, *, file_format: str) -> None:
    """A quick look at an upload's first and last bytes, so an obviously bad file is refused before it is stored."""
    if file_format not in FILE_FORMATS:
        raise ConnectorError(f"{file_format!r} is not a file format; use csv or parquet", field="file_format")
    if not head:
        raise ConnectorError("the file is empty", field="upload")
    if file_format == "parquet":
        if not (head.startswith(b"PAR1") and tail.endswith(b"PAR1")):
            raise ConnectorError("this is not a Parquet file (it lacks the PAR1 markers)", field="upload")
        return
    if head.startswith(b"PAR1"):
        raise ConnectorError("this is a Parquet file; upload it with file_format parquet", field="upload")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConnectorError("the file is binary, not CSV; upload a CSV or a Parquet file", field="upload")


def file_extract(src: Path, dest: Path, *, file_format: str, delimiter: str = "", encoding: str = "") -> Extract:
    """Reads an uploaded CSV (delimiter and encoding detected unless given) or Parquet file into a snapshot."""
    if file_format not in FILE_FORMATS:
        raise ConnectorError(f"{file_format!r} is not a file format; use csv or parquet", field="file_format")
    if src.stat().st_size == 0:
        raise ConnectorError("the file is empty", field="file")
    with duckdb.connect() as con:
        if file_format == "parquet":
            try:
                return _finish(con, "SELECT * FROM read_parquet(?)", [str(src)], dest)
            except duckdb.Error as error:
                raise ConnectorError(
                    f"not a readable Parquet file: {str(error).splitlines()[0]}", field="file"
                ) from None
        with src.open("rb") as handle:
            sample = handle.read(256 * 1024)
        if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ConnectorError("the file is binary, not CSV; upload a CSV or a Parquet file", field="file")
        encoding = encoding or detect_encoding(sample)
        details: dict[str, Any] = {"encoding": encoding}
        with tempfile.TemporaryDirectory() as tmpdir:
            text_path = src
            if encoding not in ("utf-8", "utf-8-sig"):
                text_path = Path(tmpdir) / "utf8.csv"
                try:
                    _to_utf8(src, encoding, text_path)
                except (UnicodeDecodeError, LookupError):
                    raise ConnectorError(f"the file is not valid {encoding} text", field="encoding") from None
            options = "header=true, sample_size=-1"
            params: list[Any] = [str(text_path)]
            if delimiter:
                if len(delimiter) != 1:
                    raise ConnectorError("the delimiter must be one character", field="delimiter")
                options += ", delim=?"
                params.append(delimiter)
            try:
                sniffed = con.execute(
                    f"SELECT Delimiter FROM sniff_csv(?, {options.replace(', delim=?', '')})", [str(text_path)]
                ).fetchone()
                details["delimiter"] = delimiter or (sniffed[0] if sniffed else ",")
                result = _finish(con, f"SELECT * FROM read_csv(?, {options})", params, dest)
            except duckdb.Error as error:
                raise ConnectorError(
                    f"the CSV cannot be read: {str(error).splitlines()[0]}; check the delimiter and encoding",
                    field="file",
                ) from None
        if not result.columns:
            raise ConnectorError("the CSV has no columns", field="file")
        result.details = details
        return result


# ---------------------------------------------------------------------------------------------------------------
# Reading snapshots


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parquet_rows(
    path: Path,
    *,
    columns: Iterable[str],
    row_filters: Sequence[tuple[str, Sequence[Any]]] = (),
    limit: int = 100,
) -> tuple[list[str], list[tuple]]:
    """The first rows of a snapshot with only the given columns, and only rows allowed by every row filter."""
    names = list(columns)
    where, params = [], [str(path)]
    for column, allowed in row_filters:
        if not allowed:
            where.append("FALSE")
            continue
        where.append(f"{quote_identifier(column)} IN ({', '.join('?' for _ in allowed)})")
        params.extend(allowed)
    select = ", ".join(quote_identifier(n) for n in names) or "NULL AS nothing"
    query = f"SELECT {select} FROM read_parquet(?)"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += f" LIMIT {int(limit)}"
    with duckdb.connect() as con:
        return names, con.execute(query, params).fetchall()


def parquet_count(path: Path, *, row_filters: Sequence[tuple[str, Sequence[Any]]] = ()) -> int:
    where, params = [], [str(path)]
    for column, allowed in row_filters:
        if not allowed:
            where.append("FALSE")
            continue
        where.append(f"{quote_identifier(column)} IN ({', '.join('?' for _ in allowed)})")
        params.extend(allowed)
    query = "SELECT count(*) FROM read_parquet(?)" + (" WHERE " + " AND ".join(where) if where else "")
    with duckdb.connect() as con:
        return con.execute(query, params).fetchone()[0]
