"""`segwork import` round-trips an export; `validate`, `open_data` and the loader take export
folders directly and say what was left out (segwork.sources, segwork.cli)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import segwork
from segwork.cli import main
from segwork.settings import DATA_ENV, FORMAT_ENV
from segwork.sources import detect_format, open_data
from tests.sources.stripe_export import write_stripe_export

AS_OF = ("2023-06-30", "2024-12-31")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stripe")
    write_stripe_export(folder, n_customers=200, random_state=5)
    return folder


def _metrics(data: segwork.Dataset, as_of: str) -> dict[str, pd.DataFrame]:
    return {
        "segment_table": segwork.segment_table(data, ["plan"], as_of),
        "cohort_retention": segwork.cohort_retention(data, as_of),
        "mrr_movements": segwork.mrr_movements(data, as_of),
        "rfm": segwork.rfm(data, as_of).sort_values("customer_id").reset_index(drop=True),
    }


def test_import_round_trips(export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "tables"
    assert main(["import", str(export), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"read {export} as a stripe export; wrote 3 tables to {out}" in printed
    assert "rows left out at import" in printed and "never paid (incomplete)" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "customers.parquet", "subscriptions.parquet", "transactions.parquet"]
    readme = (out / "README.md").read_text()
    assert "Read as: stripe" in readme and "never paid (incomplete)" in readme
    original, again = segwork.load(export), segwork.load(out)
    assert again.format == "segwork" and again.mrr_derived  # MRR derived again at each as_of
    for as_of in AS_OF:
        a, b = _metrics(original, as_of), _metrics(again, as_of)
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, rtol=1e-9)


def test_import_refuses_a_non_empty_folder_unless_forced(export: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "tables"
    out.mkdir()
    (out / "mrr.parquet").write_bytes(b"stale")
    (out / "keep.txt").write_text("mine")
    assert main(["import", str(export), "--out", str(out)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert main(["import", str(export), "--out", str(out), "--force"]) == 0
    # the stale table is gone (it would have been read as a given mrr), other files stay
    assert not (out / "mrr.parquet").exists() and (out / "keep.txt").read_text() == "mine"


def test_import_of_a_broken_export_names_file_column_rule(export: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]):
    broken = tmp_path / "broken"
    broken.mkdir()
    subs = pd.read_csv(export / "subscriptions.csv", dtype=str, keep_default_na=False)
    subs.loc[3, "Interval"] = "fortnight"
    subs.to_csv(broken / "subscriptions.csv", index=False)
    assert main(["import", str(broken), "--format", "stripe", "--out", str(tmp_path / "o")]) == 1
    out = capsys.readouterr().out
    assert "subscriptions.csv" in out and "'Interval'" in out and "unknown_interval" in out
    assert not (tmp_path / "o").exists()


def test_validate_an_export_folder(export: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["validate", str(export), "--as-of", "2024-06-30"]) == 0
    out = capsys.readouterr().out
    assert "valid segwork data (subscription, read as a stripe export)" in out
    assert "rows left out at import" in out and "ended during its trial, never paid" in out
    assert "note: read as a stripe export" in out


def test_validate_segwork_tables_says_nothing_of_imports(capsys: pytest.CaptureFixture[str]):
    from segwork.paths import SAMPLE_DIR

    assert main(["validate", str(SAMPLE_DIR)]) == 0
    assert "left out at import" not in capsys.readouterr().out


def test_format_segwork_skips_recognition(export: Path):
    assert detect_format(export) == "stripe"
    with pytest.raises(segwork.DataContractError) as info:  # Stripe headers are no segwork table
        segwork.load(export, format="segwork")
    assert info.value.rule == "missing_column"


def test_unknown_format_and_misuse(export: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="format='chargebee' is not a format segwork reads"):
        segwork.load(export, format="chargebee")
    with pytest.raises(ValueError, match="columns= does not apply to a stripe export"):
        segwork.load(export, columns={"id": "customer_id"})
    with pytest.raises(ValueError, match="reads a folder of export files"):
        segwork.load(tmp_path / "nothing.csv", format="stripe")


def test_open_data_takes_the_format_of_the_apps_data(export: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    # what `segwork app --data EXPORT --format stripe` sets for the notebooks' kernels
    monkeypatch.setenv(DATA_ENV, str(export))
    monkeypatch.setenv(FORMAT_ENV, "stripe")
    assert open_data().format == "stripe"
    assert open_data(str(export)).format == "stripe"  # a notebook given the same path
    assert open_data("sample").format == "segwork"


def test_page_note_counts_rows_left_out_at_import(export: Path):
    from segwork.widgets.segments import SegmentExplorer

    explorer = SegmentExplorer(segwork.load(export), as_of="2024-06-30")
    note = explorer.view.texts.get("set_aside", "")
    assert "Left out when the stripe export was read:" in note
    assert "subscriptions rows (never paid (incomplete))" in note


def test_report_on_an_export_folder_records_what_was_left_out(export: Path, tmp_path: Path):
    import json

    from segwork.report import run_report

    out = run_report(data=export, data_format="stripe", as_of="2024-06-30", out=tmp_path,
                     notebooks=["cohort_retention"])
    meta = json.loads((out / "metrics.json").read_text())
    assert meta["data"]["format"] == "stripe"
    reasons = {row["reason"]: row["rows"] for row in meta["data"]["left_out"]}
    assert reasons["never paid (incomplete)"] > 0
    assert (out / "cohort_retention.html").exists()
