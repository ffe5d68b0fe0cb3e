"""Lineage of a custom SQL query: which tables it reads and which source columns each output column comes from.

Pure: takes SQL text, returns plain data. Parsing is done by sqlglot (it knows the dialects QuickSight sources
speak); a query it cannot parse raises `SqlLineageError` with sqlglot's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

# QuickSight data source types → sqlglot dialects (the rest parse as generic SQL).
DIALECTS = {
    "postgresql": "postgres",
    "redshift": "redshift",
    "athena": "athena",
    "mysql": "mysql",
}


class SqlLineageError(ValueError):
    """The SQL could not be parsed into lineage."""


@dataclass(frozen=True)
class SqlLineage:
    tables: list[str]
    # output column → [(source table, source column)]
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _table_name(table: exp.Table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)


def sql_lineage(sql: str, *, source_type: str = "") -> SqlLineage:
    """Tables and column-level sources of one SELECT statement (CTEs and subqueries are followed)."""
    dialect = DIALECTS.get(source_type)
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except SqlglotError as error:
        raise SqlLineageError(str(error).splitlines()[0]) from error
    if len(statements) != 1:
        raise SqlLineageError(f"expected one SQL statement, found {len(statements)}")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise SqlLineageError(f"expected a SELECT query, found {statement.key.upper()}")
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    tables = sorted(
        {_table_name(t) for t in statement.find_all(exp.Table) if t.name and not (not t.db and t.name in ctes)}
    )
    try:
        qualified = qualify(statement, dialect=dialect, validate_qualify_columns=False, identify=False)
        scope = build_scope(qualified)
        nodes = lineage(None, qualified, None, dialect=dialect, scope=scope) if scope else {}
    except SqlglotError as error:
        raise SqlLineageError(str(error).splitlines()[0]) from error
    if isinstance(nodes, Node):
        nodes = {nodes.name: nodes}
    columns: dict[str, list[tuple[str, str]]] = {}
    for name, node in nodes.items():
        sources: list[tuple[str, str]] = []
        for leaf in node.walk():
            if leaf.downstream:
                continue
            column = leaf.name.split(".")[-1].strip('"')
            if isinstance(leaf.source, exp.Table) and leaf.source.name:
                table = _table_name(leaf.source)
            elif len(tables) == 1:
                table = tables[0]  # an unqualified column of the only table
            else:
                continue
            if column and column != "*" and (table, column) not in sources:
                sources.append((table, column))
        if name != "*":
            columns[name.strip('"')] = sources
    return SqlLineage(tables=tables, columns=columns)
