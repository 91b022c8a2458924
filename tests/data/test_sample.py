"""The committed sample (data/sample) is what `segwork sample` makes, and loads as a valid Dataset."""

from __future__ import annotations

import filecmp

import segwork
from segwork.cli import main
from segwork.paths import SAMPLE_DIR

TABLES = ["customers", "subscriptions", "mrr", "events", "transactions", "market"]


def test_regenerating_the_sample_gives_identical_files(tmp_path):
    assert main(["sample", "--customers", "2000", "--seed", "0", "--out", str(tmp_path)]) == 0
    for name in TABLES:
        assert filecmp.cmp(SAMPLE_DIR / f"{name}.csv", tmp_path / f"{name}.csv", shallow=False), name


def test_load_sample_is_a_validated_dataset():
    data = segwork.load_sample()
    assert data.source == "sample"
    assert data.names == tuple(TABLES)
    summary = data.summary().set_index("table")
    assert summary.loc["customers", "rows"] == 2000
    assert str(summary.loc["customers", "first"]) >= "2022-01-01"
    assert str(summary.loc["customers", "last"]) <= "2024-12-31"


def test_sample_is_small():
    total = sum((SAMPLE_DIR / f"{n}.csv").stat().st_size for n in TABLES)
    assert total < 6_000_000
