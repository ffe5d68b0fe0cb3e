"""`manage.py joinbench` on a tiny benchmark-like folder: products in the catalog, rankings, the scorer run."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.choices import AssetKind
from catalog.models import Asset, Dataset

SCORER = """
import argparse, json
parser = argparse.ArgumentParser()
parser.add_argument("--bench")
parser.add_argument("--rankings")
args = parser.parse_args()
truth = json.load(open(f"{args.bench}/ground_truth.json"))
rankings = json.load(open(args.rankings))
hits = 0
for join in truth["joins"]:
    top = rankings[join["left_table"]][0]
    hits += top["table"] == join["right_table"] and top["columns"][0] == [join["left_column"], join["right_column"]]
print(f"scored {len(rankings)} queries: {hits}/{len(truth['joins'])} joins first with their columns")
"""


def bench(tmp_path: Path) -> Path:
    root = tmp_path / "bench"
    (root / "tables").mkdir(parents=True)
    customers = ["id,name"] + [f"c-{i:05d}-{i * 7919:08d},Customer {i}" for i in range(300)]
    orders = ["id,customer,year,total"] + [
        f"o-{i:06d},c-{(i * 37) % 300:05d}-{((i * 37) % 300) * 7919:08d},{2019 + i % 3},{i % 97}" for i in range(2_000)
    ]
    stores = ["store_code,city,year"] + [f"S{i:03d},city {i},{2019 + i % 3}" for i in range(40)]
    for name, lines in {"shop__customers": customers, "shop__orders": orders, "shop__stores": stores}.items():
        (root / "tables" / f"{name}.csv").write_text("\n".join(lines) + "\n")
    truth = {
        "tables": {name: {} for name in ("shop__customers", "shop__orders", "shop__stores")},
        "joins": [
            {"left_table": "shop__orders", "left_column": "customer", "right_table": "shop__customers",
             "right_column": "id", "kind": "fk"},
        ],
    }  # fmt: skip
    (root / "ground_truth.json").write_text(json.dumps(truth))
    scorer = tmp_path / "score.py"
    scorer.write_text(SCORER)
    return root


@pytest.mark.django_db
def test_loads_products_ranks_them_and_runs_the_scorer(tmp_path: Path) -> None:
    root = bench(tmp_path)
    out = StringIO()
    rankings = tmp_path / "rankings.json"
    call_command("joinbench", bench=str(root), scorer=str(tmp_path / "score.py"), out=str(rankings), stdout=out)
    text = out.getvalue()
    assert "loading products... 3/3" in text and "ranking... 3/3" in text
    assert "scored 3 queries: 1/1 joins first with their columns" in text
    ranked = json.loads(rankings.read_text())
    assert set(ranked) == {"shop__customers", "shop__orders", "shop__stores"}
    first = ranked["shop__orders"][0]
    assert first["table"] == "shop__customers" and first["columns"][0] == ["customer", "id"]
    assert ranked["shop__customers"][0]["table"] == "shop__orders"
    for entries in ranked.values():
        scores = [e["score"] for e in entries]
        assert scores == sorted(scores, reverse=True)
    products = Asset.objects.filter(kind=AssetKind.DATA_PRODUCT, external_id__startswith="joinbench:")
    assert products.count() == 3
    assert Dataset.objects.filter(asset__in=products, current_snapshot__isnull=False).count() == 3

    # A second run reuses the products and their data.
    call_command("joinbench", bench=str(root), scorer=str(tmp_path / "score.py"), stdout=StringIO())
    assert products.count() == 3 and Dataset.objects.filter(asset__in=products).count() == 3


@pytest.mark.django_db
def test_says_what_is_wrong_with_the_arguments(tmp_path: Path) -> None:
    root = bench(tmp_path)
    with pytest.raises(CommandError, match="not a built benchmark"):
        call_command("joinbench", bench=str(tmp_path / "nothing"), scorer=str(tmp_path / "score.py"))
    with pytest.raises(CommandError, match=r"score\.py"):
        call_command("joinbench", bench=str(root), scorer=str(tmp_path / "missing.py"))
    (tmp_path / "broken.py").write_text("raise SystemExit('bad rankings')")
    with pytest.raises(CommandError, match="the scorer failed: bad rankings"):
        call_command("joinbench", bench=str(root), scorer=str(tmp_path / "broken.py"), stdout=StringIO())
