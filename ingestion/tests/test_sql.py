"""SQL lineage is pure: no database."""

import pytest

from ingestion.sql import SqlLineageError, sql_lineage


def test_tables_and_column_sources_through_ctes_joins_and_aggregates():
    found = sql_lineage(
        "WITH r AS (SELECT id, region FROM sales.regions) "
        "SELECT o.id AS order_id, SUM(o.amount) AS total, r.region "
        "FROM public.orders o JOIN r ON r.id = o.region_id GROUP BY 1, 3",
        source_type="postgresql",
    )
    assert found.tables == ["public.orders", "sales.regions"]
    assert found.columns == {
        "order_id": [("public.orders", "id")],
        "total": [("public.orders", "amount")],
        "region": [("sales.regions", "region")],
    }


def test_unqualified_columns_of_a_single_table_belong_to_it():
    found = sql_lineage("select status, amount * 2 as doubled from orders", source_type="redshift")
    assert found.columns == {"status": [("orders", "status")], "doubled": [("orders", "amount")]}


def test_star_selects_name_the_table_but_no_columns():
    found = sql_lineage("SELECT * FROM analytics.events")
    assert found.tables == ["analytics.events"]
    assert found.columns == {}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC region FROM", "Invalid expression"),
        ("DELETE FROM x", "expected a SELECT"),
        ("SELECT 1; SELECT 2", "one SQL"),
    ],
)
def test_what_is_not_one_select_is_an_error(sql, message):
    with pytest.raises(SqlLineageError, match=message):
        sql_lineage(sql)
