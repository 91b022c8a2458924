"""What a refused date or number should look like, read off the refused values
(segwork.data.hints): the spreadsheet habits each named, with the value written as it loads."""

from __future__ import annotations

from pathlib import Path

import pytest

import segwork
from segwork.data.hints import value_hint


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["31/01/2024", "05/02/2024"], "day-first (31/01/2024): load with dates='day-first' (--dates day-first), or write them year-first, 2024-01-31"),
        (["01/31/2024", "02/05/2024"], "month-first (01/31/2024): load with dates='month-first'"),
        (["03.04.24"], "day/month or month/day (03.04.24), which segwork does not guess"),
        (["2024-01", "2024-2"], "months (2024-01); write each as its first day, 2024-01-01"),
        (["20240105"], "no separators (20240105); write them as 2024-01-05"),
        (["45292"], "Excel serial day numbers (45292)"),
    ],
)
def test_dates(values: list[str], says: str) -> None:
    assert says in (value_hint("unparseable_date", values) or "")


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["1.234,50", "99,00"], "decimal comma (1.234,50): load with decimal=',' (--decimal ,), "
                                "or write them with a decimal point and no thousands separator, "
                                "1234.50"),
        (["12,5"], "decimal comma (12,5)"),
        (["1,234.50"], "thousands separators (1,234.50); write them without, 1234.50"),
        (["1,234"], "may be a decimal comma or a thousands separator; write them with a decimal "
                    "point and no separator (1.234 or 1234)"),
        (["$100"], "carry a currency ($100)"),
        (["12.00 EUR"], "carry a currency (12.00 EUR)"),
    ],
)
def test_numbers(values: list[str], says: str) -> None:
    assert says in (value_hint("not_numeric", values) or "")


def test_no_hint_without_a_known_habit() -> None:
    assert value_hint("unparseable_date", ["yesterday", None, " "]) is None
    assert value_hint("not_numeric", ["n/a"]) is None
    assert value_hint("negative_amount", ["-1"]) is None
    assert value_hint("not_numeric", [None, ""]) is None


def test_a_spreadsheet_csv_is_refused_with_what_to_change(tmp_path: Path) -> None:
    """An Excel CSV of a European locale: semicolons, a byte-order mark, day-first dates,
    months as 2024-01 and decimal commas. Each breach says how to write its values."""
    (tmp_path / "customers.csv").write_bytes(
        b"\xef\xbb\xbfcustomer_id;signup_date;plan\n1;31/01/2024;pro\n2;15/02/2024;starter\n"
    )
    (tmp_path / "mrr.csv").write_text(
        "customer_id;month;mrr\n1;2024-01-01;1.234,50\n2;2024-02-01;99,00\n"
    )
    with pytest.raises(segwork.DataContractError) as info:
        segwork.load(tmp_path)
    hints = {(b.table, b.rule): b.message().split("hint: ", 1)[-1] for b in info.value.breaches}
    assert hints[("customers", "unparseable_date")].startswith(
        "these dates are day-first (31/01/2024): load with dates='day-first'"
    )
    assert hints[("mrr", "not_numeric")].startswith("these numbers have a decimal comma (1.234,50)")
    assert "hint: these dates are day-first" in str(info.value)
