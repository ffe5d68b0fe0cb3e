"""What row and column rules leave visible to one group: pure, no database."""

from access.rule_effects import RuleView, group_effect


def test_no_row_rules_means_every_row():
    effect = group_effect(group_id=1, row_rules=[], hidden=[("margin", 1), ("region", 2)])
    assert effect.all_rows and effect.row_filters == () and effect.hidden_columns == ("margin",)


def test_group_rules_union_values_per_column():
    rules = [
        RuleView("region", 1, ("North",)),
        RuleView("region", 1, ("East",)),
        RuleView("dept", 1, ("claims",)),
        RuleView("region", 2, ("South",)),
    ]
    effect = group_effect(group_id=1, row_rules=rules, hidden=[])
    assert effect.row_filters == (("dept", ("claims",)), ("region", ("East", "North")))
    assert not effect.all_rows


def test_a_group_no_rule_names_sees_no_rows_but_attribute_rules_are_reported():
    rules = [RuleView("region", 2, ("South",)), RuleView("dept", None, (), "department")]
    effect = group_effect(group_id=1, row_rules=rules, hidden=[])
    assert effect.row_filters == (("region", ()),)
    assert effect.by_attribute == ("department",)
