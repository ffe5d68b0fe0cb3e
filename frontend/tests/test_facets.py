from django.http import QueryDict

from frontend.facets import active_filters, facet_groups, toggle_url


def test_toggle_adds_and_removes_a_kind_and_drops_the_page():
    params = QueryDict("q=sales&kind=dataset&page=3")
    assert toggle_url(params, "kind", "dashboard", multiple=True) == "?q=sales&kind=dataset&kind=dashboard"
    assert toggle_url(params, "kind", "dataset", multiple=True) == "?q=sales"


def test_toggle_replaces_a_single_value_filter():
    params = QueryDict("q=sales&owner=ana")
    assert toggle_url(params, "owner", "bob", multiple=False) == "?q=sales&owner=bob"
    assert toggle_url(params, "owner", "ana", multiple=False) == "?q=sales"


def test_groups_mark_selected_values_and_active_filters_use_labels():
    params = QueryDict("q=x&business_unit=hc")
    facets = {"business_unit": [{"value": "hc", "label": "Healthcare", "count": 2}], "kind": []}

    groups = {g.name: g for g in facet_groups(params, facets)}
    (value,) = groups["business_unit"].values
    assert (value.label, value.count, value.selected, value.url) == ("Healthcare", 2, True, "?q=x")
    assert groups["kind"].values == []

    (active,) = active_filters(params, facets)
    assert (active.title, active.label, active.remove_url) == ("Business unit", "Healthcare", "?q=x")
