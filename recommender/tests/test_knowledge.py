"""The knowledge graph and the enriched view, on small frames (no database)."""

from __future__ import annotations

import pandas as pd

from recommender.knowledge import Link, enriched_view, graph_build, neighbourhood, steps_from

CUSTOMERS = pd.DataFrame(
    {
        "Customer_ID": ["C1", "C2", "C3"],
        "Email": ["a@home", "b@home", None],
        "Phone": ["+1", "+2", "+3"],
    }
)
OPPORTUNITIES = pd.DataFrame(
    {
        "Opportunity_ID": ["O1", "O2", "O3", "O4", "O5"],
        "Customer_ID": ["C1", "C1", "C3", None, "C1"],
        "Contact_Email": ["a@work", "a@alt", "c@work", "prospect@x", "a@work"],
        "Contact_Phone": ["+91", "+1", None, "+99", "+91"],
    }
)
HAS_OPPORTUNITY = Link(
    id=1,
    name="hasSalesOpportunity",
    left="customer",
    right="opportunity",
    keys=(("Customer_ID", "Customer_ID"),),
    attributes=(("Email", "Contact_Email"), ("Phone", "Contact_Phone")),
)


def _load(frames):
    return lambda key: frames.get(key)


def test_enriched_view_adds_a_row_per_alternate_value_of_a_mapped_attribute():
    graph = graph_build([HAS_OPPORTUNITY])
    view = enriched_view(
        key="customer", frame=CUSTOMERS, graph=graph, load=_load({"opportunity": OPPORTUNITIES}), hops=1
    )
    assert view.plain_rows == 3
    added = view.added()
    # C1 gains a@work (once, though two opportunities carry it) and a@alt; C3 gains c@work; prospects add nothing
    # the phone alternate keeps the customer's own email
    assert sorted(added["Email"].dropna().tolist()) == ["a@alt", "a@home", "a@work", "c@work"]
    emails = added.loc[added["Email"] != "a@home", ["Customer_ID", "Email"]].values.tolist()
    assert sorted(map(tuple, emails)) == [("C1", "a@alt"), ("C1", "a@work"), ("C3", "c@work")]
    # C1's phone +1 is already its own; +91 is the only alternate phone
    phones = added.loc[added["Phone"] == "+91", "Customer_ID"].tolist()
    assert phones == ["C1"]
    assert view.via == ("opportunity",)
    by_attribute = {a.attribute: a.rows_added for a in view.additions}
    assert by_attribute == {"Email": 3, "Phone": 1}
    assert view.frame.iloc[:3]["Customer_ID"].tolist() == ["C1", "C2", "C3"]


def test_the_relationship_is_walked_both_ways():
    graph = graph_build([HAS_OPPORTUNITY])
    view = enriched_view(key="opportunity", frame=OPPORTUNITIES, graph=graph, load=_load({"customer": CUSTOMERS}))
    added = view.added()
    # opportunities of C1 gain the customer's own email; the one of C3 gains nothing (C3 has no email) but a phone
    assert set(added.loc[added["Contact_Email"] == "a@home", "Opportunity_ID"]) == {"O1", "O2", "O5"}
    assert set(added.loc[added["Contact_Phone"] == "+3", "Opportunity_ID"]) == {"O3"}


def test_without_hops_or_relationships_the_view_is_the_plain_data():
    graph = graph_build([HAS_OPPORTUNITY])
    assert enriched_view(key="customer", frame=CUSTOMERS, graph=graph, load=_load({}), hops=1).added_rows == 0
    view = enriched_view(
        key="customer", frame=CUSTOMERS, graph=graph, load=_load({"opportunity": OPPORTUNITIES}), hops=0
    )
    assert view.added_rows == 0 and view.additions == []


def test_two_hops_carry_values_through_the_product_between():
    # a broker file knows other emails of the opportunities' contacts; customers reach them over two relationships
    brokers = pd.DataFrame({"Opportunity_ID": ["O3"], "Broker_Email": ["c@broker"]})
    via_broker = Link(
        id=2,
        name="hasBrokerRecord",
        left="opportunity",
        right="broker",
        keys=(("Opportunity_ID", "Opportunity_ID"),),
        attributes=(("Contact_Email", "Broker_Email"),),
    )
    graph = graph_build([HAS_OPPORTUNITY, via_broker])
    frames = {"opportunity": OPPORTUNITIES, "broker": brokers}
    assert neighbourhood(graph, "customer", hops=2) == {"opportunity": 1, "broker": 2}
    one = enriched_view(key="customer", frame=CUSTOMERS, graph=graph, load=_load(frames), hops=1)
    two = enriched_view(key="customer", frame=CUSTOMERS, graph=graph, load=_load(frames), hops=2)
    assert "c@broker" not in set(one.frame["Email"].dropna())
    assert "c@broker" in set(two.frame["Email"].dropna())
    assert two.via == ("opportunity", "broker")
    assert [s.there for s in steps_from(graph, "opportunity")] == ["broker", "customer"]


def test_integer_and_text_keys_join():
    customers = pd.DataFrame({"id": [1, 2], "Email": ["x@a", "y@a"]})
    contacts = pd.DataFrame({"customer": ["1", "2"], "mail": ["x@b", "y@a"]})
    link = Link(
        id=3, name="hasContact", left="c", right="k", keys=(("id", "customer"),), attributes=(("Email", "mail"),)
    )
    view = enriched_view(key="c", frame=customers, graph=graph_build([link]), load=_load({"k": contacts}))
    assert view.added()[["id", "Email"]].values.tolist() == [[1, "x@b"]]


def test_the_added_rows_are_capped():
    graph = graph_build([HAS_OPPORTUNITY])
    view = enriched_view(
        key="customer", frame=CUSTOMERS, graph=graph, load=_load({"opportunity": OPPORTUNITIES}), max_added=2
    )
    assert view.added_rows == 2
