"""The permission matrix: every API endpoint and page (found by walking the URL resolver, so new ones are covered
without editing this test), requested by a signed-in user without rights, answers 403/404 (or 400/405, or an empty
result) and never shows the name of an asset that user may not see, in lists, search, facets, lineage, impact,
reports, exports or anywhere else.

A "requestable" restricted product (one with data owners) may show its name on the request-access form only: that is
how someone asks for it. Nothing else of it, and nothing at all of the others.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from access.services import access_request_create, audit_record, grant_set
from alerts import services as alert_services
from catalog import datasets, services
from catalog.reports import REPORTS
from catalog.tests.factories import DomainFactory, UserFactory
from lineage.services import edge_upsert

pytestmark = pytest.mark.django_db

SECRET_NAMES = ("Zanzibar merger board", "Zanzibar payroll", "Zanzibar salary pivot", "Zanzibar-folder")
REQUESTABLE_NAME = "Quetzal revenue product"
# pages whose purpose is to name a requestable product to someone who cannot see it
MAY_NAME_REQUESTABLE = {"access-request-new"}
SKIPPED_PREFIXES = ("admin/", "api/schema/", "api/docs/", "static/", "media/")
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
REPORT_NAMES = sorted(REPORTS)


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


@pytest.fixture
def matrix(db, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    staff = UserFactory(username="root", is_staff=True)
    viewer_group = Group.objects.create(name="viewers")
    viewer = UserFactory(username="vic", email="vic@example.com")
    viewer.groups.add(viewer_group)
    owners = Group.objects.create(name="quetzal-owners")
    owner = UserFactory(username="quinn")
    owner.groups.add(owners)
    domain = DomainFactory(name="Quetzal", slug="quetzal", owner_group=owners)

    # the restricted world: staff-only assets, with data, a visual, lineage, a folder, an alert and audit rows
    with django_capture_on_commit_callbacks(execute=True):
        dataset = datasets.dataset_create(
            actor=staff,
            name="Zanzibar payroll",
            upload=SimpleUploadedFile("pay.csv", b"team,salary\nA,10\nB,20\n"),
        )
    dataset.refresh_from_db()
    spec = {"type": "table", "rows": ["team"], "measures": [{"field": "salary", "agg": "sum", "label": "Salary"}]}
    visual = datasets.visual_save(actor=staff, dataset=dataset, spec=spec, name="Zanzibar salary pivot")
    board = services.asset_create(actor=staff, kind="dashboard", name="Zanzibar merger board")
    folder = services.asset_create(actor=staff, kind="folder", name="Zanzibar-folder")
    services.folder_membership_add(folder=folder, asset=board, actor=staff)
    requestable = services.asset_create(actor=owner, kind="data_product", name=REQUESTABLE_NAME, domain=domain)

    # what the viewer may see: one dashboard, downstream of the secret dataset and containing the secret visual
    mine = services.asset_create(actor=staff, kind="dashboard", name="Public sales board", owner_group=viewer_group)
    edge_upsert(source=dataset.asset, target=mine, kind="uses_dataset", actor=staff)
    edge_upsert(source=requestable, target=dataset.asset, kind="reads_from", actor=staff)
    edge_upsert(source=mine, target=visual.asset, kind="contains", actor=staff)
    grant_set(group=viewer_group, permission="view", asset=mine, actor=staff)
    alert = alert_services.alert_create(
        owner=staff,
        visual=visual,
        cell_key='{"m":"Salary","d":[["team","A"]]}',
        condition="above",
        threshold=Decimal(1),
    )
    alert_services.alerts_evaluate_dataset(dataset_id=dataset.pk)
    audit_record(user=staff, action="data.preview", source="api", asset=board)
    other = UserFactory(username="olive")
    other.groups.add(Group.objects.create(name="olive-team"))
    request = access_request_create(requester=other, group=other.groups.get(), asset=requestable, justification="x")
    ids = sorted({dataset.asset_id, visual.asset_id, board.pk, folder.pk, requestable.pk, alert.pk, request.pk})
    return viewer, ids, mine


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _urls(ids: list[int]):
    """Every route as concrete URLs: each id parameter filled with each restricted object's id in turn."""
    for route, name in _patterns(get_resolver()):
        path = route.replace("^", "").replace("$", "")
        if path.startswith(SKIPPED_PREFIXES) or "(?P<format>" in path:
            continue
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", path)  # router regex groups become <name>
        params = PARAM.findall(path)
        for values in _candidates(params, ids, name):
            url = "/" + PARAM.sub(lambda m, v=values: v[m.group(1)], path)
            yield url, name


def _candidates(params: list[str], ids: list[int], name: str | None):
    if not params:
        yield {}
        return
    if name == "report":
        for report in REPORT_NAMES:
            yield {"name": report}
        return
    for value in ids:
        yield {p: "quetzal-owners" if p == "name" else "quetzal" if p == "slug" else str(value) for p in params}


def test_a_user_without_rights_learns_nothing_of_restricted_assets(client, matrix):
    viewer, ids, _ = matrix
    client.force_login(viewer)
    checked, leaks, errors = 0, [], []
    for url, name in sorted(set(_urls(ids))):
        for query in ("", "?q=Zanzibar", "?q=Quetzal"):
            response = client.get(url + query)
            checked += 1
            if response.status_code >= 500:
                errors.append(f"{url}{query}: {response.status_code}")
                continue
            text = _text(response)
            for secret in SECRET_NAMES:
                if secret in text:
                    leaks.append(f"{url}{query} ({name}) shows {secret!r}")
            if REQUESTABLE_NAME in text and name not in MAY_NAME_REQUESTABLE:
                leaks.append(f"{url}{query} ({name}) shows {REQUESTABLE_NAME!r}")
    assert checked > 300
    assert not errors, errors
    assert not leaks, leaks


def test_the_matrix_would_catch_a_leak(matrix):
    """The same walk, as staff, does find the names: the check above is not vacuous."""
    viewer, ids, _ = matrix
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    client = Client(raise_request_exception=False)  # this walk looks for names, not for errors
    client.force_login(viewer)
    seen = set()
    for url, _name in sorted(set(_urls(ids))):
        response = client.get(url)
        if response.status_code == 200:
            text = _text(response)
            seen |= {secret for secret in SECRET_NAMES if secret in text}
    assert seen == set(SECRET_NAMES)


def test_writes_to_restricted_assets_are_refused(api, matrix):
    viewer, ids, _ = matrix
    api.force_authenticate(viewer)
    refused = []
    for url, _name in sorted(set(_urls(ids))):
        if not url.startswith("/api/") or not any(str(i) in url for i in ids):
            continue
        for method in ("post", "patch", "put", "delete"):
            response = getattr(api, method)(url, {}, format="json")
            if response.status_code < 300 or response.status_code >= 500:
                refused.append(f"{method.upper()} {url}: {response.status_code}")
            for secret in (*SECRET_NAMES, REQUESTABLE_NAME):
                assert secret not in _text(response), f"{method.upper()} {url} shows {secret!r}"
    assert not refused, refused
