"""The layout of visual tables and the formatting of their numbers (pure: no database)."""

from __future__ import annotations

import pytest

from frontend.visual_tables import format_dimension, format_number, format_value, measure_decimals, visual_table


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (1234, 0, "1,234"),
        (1234.5, 2, "1,234.50"),
        (-1234567.891, 2, "-1,234,567.89"),
        (-0.001, 2, "0.00"),
        (0, 0, "0"),
        (0.01234, 4, "0.0123"),
        (10**15, 0, "1,000,000,000,000,000"),
    ],
)
def test_numbers_have_comma_thousands_and_point_decimals(value, decimals, text):
    assert format_number(value, decimals) == text


def test_decimals_follow_the_measure_values():
    assert measure_decimals([1, 2.0, None, 30]) == 0
    assert measure_decimals([1, 2.5, None]) == 2
    assert measure_decimals([0.25, -0.5]) == 4
    assert measure_decimals([None, None]) == 0


def test_values_and_dimensions_as_shown():
    assert format_value(None) == "(blank)"
    assert format_value(True) == "true"
    assert format_value("2024-01-31") == "2024-01-31"  # the min of a date column
    assert format_dimension(None) == "(blank)"
    assert format_dimension(2024) == "2024"  # years and ids get no separators
    assert format_dimension(3.0) == "3"
    assert format_dimension("2024-04-01", "month") == "2024-04"
    assert format_dimension("2024-04-01", "quarter") == "2024 Q2"
    assert format_dimension("2024-01-01", "year") == "2024"
    assert format_dimension("2024-04-01", "week") == "Week of 2024-04-01"
    assert format_dimension("2024-04-01", None) == "2024-04-01"


def test_pivot_spans_row_headers_and_puts_totals_apart():
    # given a pivot of two row dimensions by one column dimension with every total
    rows = [["East", "A"], ["East", "B"], ["West", "A"]]
    columns = [["2023"], ["2024"]]
    grid = [[1, 2, 3], [4, None, 4], [-5.5, 6, 0.5], [-0.5, 8, 7.5]]
    cells = [[i, j, 0, f"k{i}{j}"] for i in range(4) for j in range(3) if grid[i][j] is not None]
    data = {
        "type": "pivot",
        "row_fields": ["region", "product"],
        "column_fields": ["year"],
        "measures": ["Sum of amount"],
        "rows": rows,
        "columns": columns,
        "total_row": True,
        "total_column": True,
        "grid": grid,
        "cells": cells,
    }

    # when it is laid out
    table = visual_table(data)

    # then the header names the column dimension, then its values and the total, then the row dimensions and measures
    corner, *values, total = table.header_rows[0]
    assert corner.text == "year" and corner.colspan == 2
    assert [(v.text, v.value, v.dimension) for v in values] == [("2023", '"2023"', "year"), ("2024", '"2024"', "year")]
    assert total.text == "Total" and "is-total" in total.classes
    last = table.header_rows[1]
    assert [(h.text, h.sort_index, h.context) for h in last] == [
        ("region", 0, ""),
        ("product", 1, ""),
        ("Sum of amount", 2, "2023"),
        ("Sum of amount", 3, "2024"),
        ("Sum of amount", 4, "Total"),
    ]
    # "East" spans its two rows; the second row has no region cell of its own
    first, second, third = table.body
    assert [(c.text, c.rowspan) for c in first.cells[:2]] == [("East", 2), ("A", 1)]
    assert [c.text for c in second.cells] == ["B", "4.00", "", "4.00"]
    assert second.cells[2].key == "" and "is-missing" in second.cells[2].classes
    # decimals are per measure: one value has a fraction, so all have two
    assert [c.text for c in third.cells] == ["West", "A", "-5.50", "6.00", "0.50"]
    assert "is-negative" in third.cells[2].classes and third.cells[2].key == "k20"
    assert third.cells[4].classes == "is-number is-total"
    # the total row is in the foot, its last cell the grand total
    (foot,) = table.foot
    assert [c.text for c in foot.cells] == ["Total", "-0.50", "8.00", "7.50"]
    assert foot.cells[0].colspan == 2
    assert "is-grand" in foot.cells[-1].classes and "is-grand" not in foot.cells[1].classes


def test_table_has_one_header_row_and_blank_dimension_values():
    data = {
        "type": "table",
        "row_fields": ["region"],
        "column_fields": [],
        "measures": ["Rows", "Average"],
        "rows": [["North"], [None]],
        "columns": [[]],
        "total_row": False,
        "total_column": False,
        "grid": [[2, 1.25], [1, None]],
        "cells": [[0, 0, 0, "a"], [0, 0, 1, "b"], [1, 0, 0, "c"], [1, 0, 1, "d"]],
    }
    table = visual_table(data)
    assert [(h.text, h.sort_index, h.numeric) for h in table.header_rows[0]] == [
        ("region", 0, False),
        ("Rows", 1, True),
        ("Average", 2, True),
    ]
    assert [c.text for c in table.body[1].cells] == ["(blank)", "1", "(blank)"]
    assert table.body[1].cells[0].value == "null" and "is-blank" in table.body[1].cells[0].classes
    assert table.body[1].cells[2].key == "d"  # a NULL measure value is still a cell with a key
    assert not table.foot
