import pytest

from catalog.models import Asset
from lineage.models import Edge, Release

pytestmark = pytest.mark.django_db


def pointer(asset):
    """The template the asset is currently created from."""
    return Edge.objects.get(target=asset, kind="created_from", valid_to__isnull=True).source


def release(api, analysis, **extra):
    return api.post(
        "/api/v1/releases/",
        {"reference_analysis": analysis.pk, "description": "New margin column", **extra},
        format="json",
    )


def test_dry_run_lists_assets_customers_and_dataset_problems_and_changes_nothing(api, org):
    a = org["assets"]
    api.force_authenticate(org["owner"])
    edges_before = Edge.objects.count()
    body = release(api, a["analysis"], dry_run=True).json()
    assert body["dry_run"] is True
    assert body["new_version"] == 2
    assert body["customers"] == ["Acme", "Globex"]
    assert sorted(c["name"] for c in body["changes"]) == ["Acme sales dashboard", "Globex sales dashboard"]
    assert body["problems"] == [
        {
            "asset_id": a["globex_dash"].pk,
            "name": "Globex sales dashboard",
            "problems": ["dataset for 'Sales' lacks columns: amount"],
        }
    ]
    assert Edge.objects.count() == edges_before
    assert Asset.objects.get(pk=a["analysis"].pk).version == 1


def test_release_refuses_problems_unless_forced_and_writes_nothing(api, org):
    a = org["assets"]
    api.force_authenticate(org["owner"])
    refused = release(api, a["analysis"])
    assert refused.status_code == 400
    assert "force" in refused.json()["detail"]
    assert Release.objects.count() == 0
    assert Asset.objects.get(pk=a["analysis"].pk).version == 1
    assert not Asset.objects.filter(kind="template", name__contains="v2").exists()


def test_release_repoints_every_customer_asset_atomically_and_rolls_back(api, org):
    a = org["assets"]
    api.force_authenticate(org["owner"])
    response = release(api, a["analysis"], force=True)
    assert response.status_code == 201, response.content
    body = response.json()
    new_template = Asset.objects.get(pk=body["new_template"])
    assert new_template.version == 2 and new_template.name == "Sales reference template v2"
    assert body["forced"] is True and len(body["changes"]) == 2
    assert pointer(a["acme_dash"]) == new_template
    assert pointer(a["globex_dash"]) == new_template
    assert Asset.objects.get(pk=a["analysis"].pk).version == 2
    # the old pointers are ended, not deleted, and the history says which release did it
    old = Edge.objects.get(source=a["template"], target=a["acme_dash"])
    assert old.valid_to is not None
    assert Edge.history.filter(id=old.pk, history_change_reason=f"release {body['id']}").exists()
    # the new template has the reference analysis' datasets as placeholders and is the analysis' current template
    assert Edge.objects.filter(source=a["sales"], target=new_template, kind="uses_dataset", valid_to=None).exists()
    assert not Edge.objects.filter(source=a["analysis"], target=a["template"], valid_to=None).exists()

    rolled = api.post(f"/api/v1/releases/{body['id']}/rollback/")
    assert rolled.status_code == 200, rolled.content
    assert rolled.json()["status"] == "rolled_back"
    assert pointer(a["acme_dash"]) == a["template"]
    assert pointer(a["globex_dash"]) == a["template"]
    assert Asset.objects.get(pk=new_template.pk).status == "archived"
    again = api.post(f"/api/v1/releases/{body['id']}/rollback/")
    assert again.status_code == 409
    # a release after the rollback repoints from the restored template again
    assert release(api, a["analysis"], dry_run=True).json()["previous_template"] == a["template"].pk


def test_only_the_latest_release_can_be_rolled_back(api, org):
    a = org["assets"]
    api.force_authenticate(org["owner"])
    first = release(api, a["analysis"], force=True).json()
    second = release(api, a["analysis"], force=True).json()
    assert second["previous_template"] == first["new_template"]
    refused = api.post(f"/api/v1/releases/{first['id']}/rollback/")
    assert refused.status_code == 409
    assert str(second["id"]) in refused.json()["detail"]


def test_release_input_errors_and_permissions(api, org):
    a = org["assets"]
    api.force_authenticate(org["owner"])
    assert release(api, a["acme_dash"]).status_code == 400  # not an analysis
    empty = api.post("/api/v1/releases/", {"reference_analysis": a["analysis"].pk, "description": " "}, format="json")
    assert empty.status_code == 400 and "description" in empty.json()["detail"]
    assert api.post("/api/v1/releases/", {"description": "x"}, format="json").status_code == 400
    api.force_authenticate(org["analyst"])
    assert release(api, a["analysis"], force=True).status_code == 403
    assert release(api, a["analysis"], dry_run=True).status_code == 200


def test_fork_moves_the_customers_assets_to_the_fork_and_provenance_shows_it(api, org):
    a, acme = org["assets"], org["customers"]["acme"]
    api.force_authenticate(org["owner"])
    dry = api.post("/api/v1/forks/", {"base": a["analysis"].pk, "customer": "acme", "dry_run": True}, format="json")
    assert dry.status_code == 200
    assert [c["name"] for c in dry.json()["repoint"]] == ["Acme sales dashboard"]
    assert not Asset.objects.filter(customer=acme, kind="analysis").exists()

    made = api.post("/api/v1/forks/", {"base": a["analysis"].pk, "customer": "acme"}, format="json")
    assert made.status_code == 201, made.content
    fork = Asset.objects.get(pk=made.json()["fork"])
    fork_template = Asset.objects.get(pk=made.json()["template"])
    assert fork.customer == acme and fork.attributes == {"is_reference": True}
    assert Edge.objects.filter(source=a["analysis"], target=fork, kind="forked_from", valid_to=None).exists()
    assert pointer(a["acme_dash"]) == fork_template
    assert pointer(a["globex_dash"]) == a["template"]
    twice = api.post("/api/v1/forks/", {"base": a["analysis"].pk, "customer": "acme"}, format="json")
    assert twice.status_code == 400 and "already has a fork" in twice.json()["detail"]

    # a release of the base leaves the fork's customer alone, and provenance shows who is behind
    release(api, a["analysis"], force=True)
    api.force_authenticate(org["admin"])  # olga may not see Globex's dashboard; staff see every row
    prov = api.get(f"/api/v1/assets/{a['template'].pk}/provenance/").json()
    rows = {r["name"]: r for r in prov["rows"]}
    assert rows["Acme sales dashboard"]["is_fork"] is True and rows["Acme sales dashboard"]["behind"] is False
    assert rows["Globex sales dashboard"]["template_version"] == 2 and rows["Globex sales dashboard"]["behind"] is False
    assert [f["customer"] for f in prov["forks"]] == ["Acme"]
    assert prov["behind"] == 0


def test_provenance_marks_assets_behind_the_latest_template(api, org):
    a, admin = org["assets"], org["admin"]
    from lineage.services import release_apply

    rel = release_apply(reference_analysis=a["analysis"], description="v2", actor=admin, force=True)
    # Globex goes back to v1 by hand (as if its copy was never updated)
    Edge.objects.filter(target=a["globex_dash"], kind="created_from", valid_to=None).update(source=a["template"])
    api.force_authenticate(admin)
    prov = api.get(f"/api/v1/assets/{a['analysis'].pk}/provenance/").json()
    rows = {r["name"]: r for r in prov["rows"]}
    assert rows["Globex sales dashboard"]["behind"] is True
    assert rows["Acme sales dashboard"]["behind"] is False
    assert prov["behind"] == 1
    assert [t["version"] for t in prov["templates"]] == [1, 2]
    assert rel.new_template_id in [t["id"] for t in prov["templates"] if t["latest"]]
    api.force_authenticate(org["analyst"])
    hidden = api.get(f"/api/v1/assets/{a['analysis'].pk}/provenance/").json()
    assert "Globex" not in str(hidden) and len(hidden["rows"]) == 2
    assert api.get(f"/api/v1/assets/{a['acme_dash'].pk}/provenance/").status_code == 400
