"""CSV files written by a spreadsheet of another locale (segwork.data.spreadsheet): day-first or
month-first dates and decimal commas, read when the user says so, equal to the same data written
year-first with decimal points; a value that fits neither is refused by its row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import segwork
from segwork.cli import main
from segwork.data.csv_shape import header_row
from tests.conftest import tiny_frames


def _day_first(iso: object) -> object:
    if not isinstance(iso, str) or not iso:
        return iso
    date, _, time = iso.partition(" ")
    y, m, d = date.split("-")
    return f"{d}/{m}/{y}" + (f" {time[:5]}" if time else "")


def _comma(x: object) -> object:
    if isinstance(x, float):
        return f"{x:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return x


def write_locale(folder: Path, frames: dict[str, pd.DataFrame], comma: bool = True) -> Path:
    """The frames as a German-locale Excel would save them: ';', day-first, decimal commas
    (``comma=False``: decimal points)."""
    folder.mkdir(parents=True, exist_ok=True)
    dates = {"signup_date", "start_date", "end_date", "timestamp", "date", "month"}
    for name, frame in frames.items():
        out = frame.copy()
        for col in out.columns:
            if col in dates:
                out[col] = out[col].map(_day_first)
            elif out[col].dtype == float and comma:
                out[col] = out[col].astype(object).map(_comma)
        out.to_csv(folder / f"{name}.csv", sep=";", index=False)
    return folder


@pytest.fixture()
def frames() -> dict[str, pd.DataFrame]:
    out = tiny_frames()
    out["subscriptions"].loc[0, "amount"] = 1234.5  # 1.234,50: a thousands point too
    out["events"]["timestamp"] = ["2024-02-01 10:00:00", "2024-03-02 11:30:00"]
    return out


def test_day_first_and_decimal_comma_read_as_the_iso_files(tmp_path: Path, frames) -> None:
    iso = tmp_path / "iso"
    iso.mkdir()
    for name, frame in frames.items():
        frame.to_csv(iso / f"{name}.csv", index=False)
    local = write_locale(tmp_path / "de", frames)
    assert "1.234,50" in (local / "subscriptions.csv").read_text()
    assert "05/01/2024" in (local / "customers.csv").read_text()
    with pytest.raises(segwork.DataContractError):
        segwork.load(local)  # not guessed
    got = segwork.load(local, dates="day-first", decimal=",")
    want = segwork.load(iso)
    _assert_same_tables(got, want)
    # dates alone: the numbers are read as always (whole numbers stay integers)
    _assert_same_tables(
        segwork.load(write_locale(tmp_path / "fr", frames, comma=False), dates="day-first"), want
    )
    assert any("CSV dates read day-first (dates='day-first')" in n for n in got.notes)
    mrr = segwork.mrr_movements(got, as_of="2024-04-30")
    assert mrr.equals(segwork.mrr_movements(want, as_of="2024-04-30"))


def _assert_same_tables(got: segwork.Dataset, want: segwork.Dataset) -> None:
    assert set(got.names) == set(want.names)
    for name in want.names:
        a = got.to_pandas(name).sort_values(list(got.to_pandas(name).columns[:2]))
        b = want.to_pandas(name).sort_values(list(want.to_pandas(name).columns[:2]))
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_a_value_that_fits_neither_is_refused_by_its_row(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        "customer_id;signup_date\n1;31/01/2024\n2;2024-02-10\n3;2024/13/45\n4;12.03.2024 08:15\n"
    )
    with pytest.raises(segwork.DataContractError) as info:
        segwork.load(tmp_path, dates="day-first")
    breach = info.value.breaches[0]
    assert (breach.rule, breach.n_rows) == ("unparseable_date", 1)
    assert breach.examples["signup_date"].tolist() == ["2024/13/45"]  # as written
    (tmp_path / "customers.csv").write_text(
        "customer_id;signup_date\n1;31/01/2024\n2;2024-02-10\n4;12.03.2024 08:15\n"
    )
    got = segwork.load(tmp_path, dates="day-first").to_pandas("customers")
    assert got["signup_date"].astype(str).tolist() == ["2024-01-31", "2024-02-10", "2024-03-12"]


def test_month_first_and_formats(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("customer_id,signup_date\n1,01/31/2024\n2,2/5/2024\n")
    got = segwork.load(tmp_path, dates="month-first").to_pandas("customers")
    assert got["signup_date"].astype(str).tolist() == ["2024-01-31", "2024-02-05"]
    (tmp_path / "customers.csv").write_text("customer_id,signup_date\n1,31.01.24\n")
    got = segwork.load(tmp_path, dates=["%d.%m.%y"]).to_pandas("customers")
    assert got["signup_date"].astype(str).tolist() == ["2024-01-31"]


def test_a_comma_number_that_is_not_one_is_refused(tmp_path: Path) -> None:
    frames = tiny_frames()
    write_locale(tmp_path, {"customers": frames["customers"]})
    (tmp_path / "subscriptions.csv").write_text(
        "customer_id;start_date;amount;billing_interval\n1;05/01/2024;12,5;month\n"
        "2;10/02/2024;1,2,3;month\n3;01/03/2024;7;month\n"
    )
    with pytest.raises(segwork.DataContractError) as info:
        segwork.load(tmp_path, dates="day-first", decimal=",")
    breach = info.value.breaches[0]
    assert (breach.column, breach.rule, breach.examples["amount"].tolist()) == (
        "amount", "not_numeric", ["1,2,3"]
    )


def test_bad_choices_and_exports_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="decimal must be"):
        segwork.load(tmp_path, decimal=";")
    with pytest.raises(ValueError, match="dates must be 'day-first'"):
        segwork.load(tmp_path, dates="dd/mm/yyyy")
    with pytest.raises(ValueError, match="already loaded Dataset"):
        segwork.load(segwork.load_sample(), dates="day-first")
    from tests.sources.shopify_export import write_shopify_export

    write_shopify_export(tmp_path / "shop", 5)
    with pytest.raises(ValueError, match="do not apply to a shopify export"):
        segwork.load(tmp_path / "shop", decimal=",")


def test_the_command_line_reads_and_imports_them(tmp_path: Path, frames, capsys) -> None:
    local = write_locale(tmp_path / "de", frames)
    assert main(["validate", str(local)]) == 1
    capsys.readouterr()
    assert main(["validate", str(local), "--dates", "day-first", "--decimal", ","]) == 0
    out = tmp_path / "tables"
    assert main(["import", str(local), "--out", str(out), "--dates", "day-first",
                 "--decimal", ","]) == 0
    amount = segwork.load(out).to_pandas("subscriptions")["amount"].tolist()
    assert amount[0] == 1234.5


def test_header_row_splits_like_the_sniffer(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('customer_id;"plan; tier";amount\n1;x;2\n')
    assert header_row(tmp_path / "a.csv") == (";", ["customer_id", "plan; tier", "amount"])
    assert header_row(tmp_path / "missing.csv") is None
