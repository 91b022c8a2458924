"""Dataset.set_aside(as_of): the rows the metrics leave out, counted per table and reason.

docs/metrics.md "Rows set aside": the rows dated after as_of and those of customers who signed up
after as_of (outside the population, docs/metrics.md "Conventions") are left out of the metrics but
counted, per table and reason.  The numbers below are worked out by hand from the tables in
``_frames``.
"""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir
import pandas as pd
import pytest

import segwork
from segwork.cli import main
from segwork.engine.keys import DatesHistogram

AS_OF = "2024-06-30"


def _frames() -> dict[str, pd.DataFrame]:
    """Customer 3 signs up after as_of (Jul 15); customer 4 on as_of itself (kept)."""
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": [1, 2, 3, 4],
                "signup_date": ["2024-01-05", "2024-02-10", "2024-07-15", "2024-06-30"],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "customer_id": [1, 2, 1, 3, 3, 4],
                # kept, kept, starts after, customer 3 later (starts before its signup), both
                # (counted once: starts after), kept (starts on as_of)
                "start_date": [
                    "2024-01-05",
                    "2024-02-10",
                    "2024-07-01",
                    "2024-06-01",
                    "2024-07-15",
                    "2024-06-30",
                ],
                "amount": [100.0, 1200.0, 30.0, 40.0, 50.0, 60.0],
                "billing_interval": ["month", "year", "month", "month", "month", "month"],
            }
        ),
        "mrr": pd.DataFrame(
            {
                "customer_id": [1, 1, 2, 3, 3],
                # kept, after as_of's month, kept, customer 3 later, after (counted once)
                "month": ["2024-06-01", "2024-07-01", "2024-05-01", "2024-06-01", "2024-07-01"],
                "mrr": [100.0, 130.0, 100.0, 40.0, 90.0],
            }
        ),
        "events": pd.DataFrame(
            {
                "customer_id": [1, 1, 3, 2],
                # on as_of's last minute (kept), next day (after), customer 3 later, kept
                "timestamp": [
                    "2024-06-30 23:59:00",
                    "2024-07-01 00:00:00",
                    "2024-06-20 10:00:00",
                    "2024-03-01 08:00:00",
                ],
                "event": ["login", "login", "api", "api"],
            }
        ),
        "transactions": pd.DataFrame(
            {
                "customer_id": [1, 2, 3, 3],
                "order_id": [1, 2, 3, 4],
                # kept (on as_of), after, after, customer 3 later
                "date": ["2024-06-30", "2024-07-02", "2024-07-20", "2024-05-01"],
                "amount": [10.0, 20.0, 30.0, 40.0],
            }
        ),
    }


EXPECTED = [
    ("customers", "signed up after as_of", 1, 4),
    ("subscriptions", "starts after as_of", 2, 6),
    ("subscriptions", "customer signed up after as_of", 1, 6),
    ("mrr", "month after as_of's month", 2, 5),
    ("mrr", "customer signed up after as_of", 1, 5),
    ("events", "dated after as_of", 1, 4),
    ("events", "customer signed up after as_of", 1, 4),
    ("transactions", "dated after as_of", 2, 4),
    ("transactions", "customer signed up after as_of", 1, 4),
]


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.load(_frames())


def test_counts_by_table_and_reason(data):
    got = data.set_aside(AS_OF)
    assert list(got.columns) == ["table", "reason", "rows", "table_rows"]
    assert list(got.itertuples(index=False, name=None)) == EXPECTED


def test_as_of_as_date_or_timestamp(data):
    expected = data.set_aside(AS_OF)
    for as_of in (dt.date(2024, 6, 30), pd.Timestamp("2024-06-30 18:00")):
        pd.testing.assert_frame_equal(data.set_aside(as_of), expected)


def test_later_as_of_sets_aside_less(data):
    """At Jul 31 only August-or-later rows would go: there are none, and customer 3 is in."""
    got = data.set_aside("2024-07-31")
    assert got["rows"].tolist() == [0] * len(EXPECTED)


def test_earlier_as_of_counts_every_later_row(data):
    """At Mar 31 customers 3 and 4 signed up later, and every row of theirs is dated after it too:
    such a row counts under the date reason only (one reason per row)."""
    got = data.set_aside("2024-03-31")
    assert got["rows"].tolist() == [
        2,  # customers 3, 4
        4,
        0,  # subscriptions starting Jul 1, Jun 1, Jul 15, Jun 30
        5,
        0,  # every mrr month (May..Jul) is after March
        3,
        0,  # events of Jun 30, Jul 1, Jun 20 (Mar 1 kept)
        4,
        0,  # orders of Jun 30, Jul 2, Jul 20, May 1
    ]


def test_population_matches_the_metrics(data):
    """What is counted as set aside is what the metrics leave out: 4 - 1 customers in the
    population, and June MRR 100 (customer 1) without customer 3's June row of 40 (it signed up
    after as_of) or customer 1's July row."""
    aside = data.set_aside(AS_OF).set_index(["table", "reason"])
    row = segwork.segment_table(data, None, AS_OF).iloc[0]
    total = aside.loc[("customers", "signed up after as_of"), "table_rows"]
    assert (
        int(row.customers) == total - aside.loc[("customers", "signed up after as_of"), "rows"] == 3
    )
    assert aside.loc[("mrr", "customer signed up after as_of"), "rows"] == 1
    assert float(row.mrr) == 100.0


def test_derived_mrr_and_customers():
    """Derived mrr has no row to set aside (built only up to as_of) and is not listed; derived
    customers sign up at their first activity, so no row is dated before its customer's signup."""
    frames = _frames()
    got = segwork.load({"subscriptions": frames["subscriptions"]}).set_aside(AS_OF)
    assert list(got.itertuples(index=False, name=None)) == [
        ("customers", "signed up after as_of", 0, 4),  # first starts: Jan 5, Feb 10, Jun 1, Jun 30
        ("subscriptions", "starts after as_of", 2, 6),
        ("subscriptions", "customer signed up after as_of", 0, 6),
    ]


def test_market_only_has_nothing_to_set_aside():
    market = pd.DataFrame({"industry": ["a"], "accounts": [10], "acv": [100.0]})
    got = segwork.load({"market": market}).set_aside(AS_OF)
    assert got.empty and list(got.columns) == ["table", "reason", "rows", "table_rows"]


def test_one_aggregate_query_per_table_then_none(monkeypatch):
    """Counted in the engine: one query per table, a histogram per date (and signup date) whose
    size is bounded by the distinct dates, not the rows; a later as_of sums the same histograms
    in numpy without a query."""
    returned: list[int] = []
    original = ir.Table.to_pandas

    def counting(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        returned.append(len(out))
        return out

    data = segwork.load(_frames())
    engine = segwork.Engine(data)  # a page's: the faster path
    monkeypatch.setattr(ir.Table, "to_pandas", counting)
    first = engine.set_aside(AS_OF)
    assert len(returned) == 5
    assert sum(returned) <= first.drop_duplicates("table")["table_rows"].sum()
    engine.set_aside("2024-03-31")
    engine.set_aside(AS_OF)
    assert len(returned) == 5
    # the definition on the Dataset: one aggregate query per table, one row each, every time
    returned.clear()
    data.set_aside(AS_OF)
    assert returned == [1] * 5


def test_bad_as_of_is_refused(data):
    with pytest.raises(ValueError, match="is not a date"):
        data.set_aside("2024-02-31")


def test_cli_validate_prints_set_aside(tmp_path, capsys):
    for name, frame in _frames().items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    assert main(["validate", str(tmp_path), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "rows set aside at as_of 2024-06-30" in out
    lines = [ln.split() for ln in out.splitlines()]
    assert ["subscriptions", "starts", "after", "as_of", "2", "6"] in lines
    assert ["transactions", "customer", "signed", "up", "after", "as_of", "1", "4"] in lines
    assert main(["validate", str(tmp_path), "--as-of", "2024-02-31"]) == 2
    assert "is not a date" in capsys.readouterr().err


def _by_hand(frames: dict[str, pd.DataFrame], day: dt.date) -> list[int]:
    """The rows set aside at ``day``, counted row by row in plain pandas (one reason per row)."""
    signup = dict(
        zip(
            frames["customers"].customer_id,
            pd.to_datetime(frames["customers"].signup_date).dt.date,
            strict=True,
        )
    )
    out = [int((pd.to_datetime(frames["customers"].signup_date).dt.date > day).sum())]
    for name, col in (
        ("subscriptions", "start_date"),
        ("mrr", "month"),
        ("events", "timestamp"),
        ("transactions", "date"),
    ):
        t = frames[name]
        when = pd.to_datetime(t[col])
        if name == "mrr":
            after = (when.dt.year * 12 + when.dt.month) > (day.year * 12 + day.month)
        else:
            after = when.dt.date > day
        later = ~after & (t.customer_id.map(signup) > day)
        out += [int(after.sum()), int(later.sum())]
    return out


def test_every_as_of_from_one_cached_histogram_per_table():
    """A change of as_of does not scan the tables again: each is counted once per date (and
    signup) into a histogram cached in the engine; every as_of is then a sum over it, equal to
    the row-by-row count."""
    frames = _frames()
    engine = segwork.Engine(segwork.load(frames))
    for day in pd.date_range("2023-12-30", "2024-08-02", freq="D").date:
        assert engine.set_aside(day)["rows"].tolist() == _by_hand(frames, day), day
    keys = [k for k in engine.table_keys() if isinstance(k, DatesHistogram)]
    assert sorted(k.table for k in keys) == sorted(
        ["customers", "subscriptions", "mrr", "events", "transactions"]
    )


@pytest.mark.parametrize("tables", [None, ["customers"], ["mrr", "events", "transactions"]])
def test_a_pages_histograms_equal_the_definition(tables):
    """The engine's faster path (a histogram per table, summed for any date) equals the
    definition (one aggregate query per table at the date) on every reason and table."""
    data = segwork.load(_frames())
    engine = segwork.Engine(data, reuse_across_dates=True)
    for day in pd.date_range("2023-12-15", "2024-08-15", freq="19D").date:
        pd.testing.assert_frame_equal(engine.set_aside(day, tables), data.set_aside(day, tables))


@pytest.mark.parametrize("tables", [None, ["customers"], ["mrr", "events", "transactions"]])
def test_on_or_after_the_last_date_no_histogram_is_built(tables):
    """From the data's last date on, nothing is dated after as_of and nobody signed up after it:
    a page's engine says so from the row counts alone (no histogram), equal to the definition."""
    data = segwork.load(_frames())
    engine = segwork.Engine(data, reuse_across_dates=True)
    end = data.data_end
    for day in (end, end + dt.timedelta(days=1), end + dt.timedelta(days=400)):
        got = engine.set_aside(day, tables)
        pd.testing.assert_frame_equal(got, data.set_aside(day, tables))
        assert (got["rows"] == 0).all()
    assert not [k for k in engine.table_keys() if isinstance(k, DatesHistogram)]
    # the day before the last date is counted as before
    before = end - dt.timedelta(days=1)
    pd.testing.assert_frame_equal(engine.set_aside(before, tables), data.set_aside(before, tables))
