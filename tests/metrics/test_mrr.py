"""MRR movements (docs/metrics.md "MRR movements", "Quick ratio", "Gross MRR churn")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork


def _data(rows: list[tuple[int, str, float]], plans: dict[int, str | None] | None = None):
    mrr = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])
    ids = sorted(set(mrr.customer_id) | set(plans or {}))
    customers = pd.DataFrame({"customer_id": ids, "signup_date": ["2020-01-01"] * len(ids)})
    if plans is not None:
        customers["plan"] = [plans.get(i) for i in ids]
    return segwork.load({"customers": customers, "mrr": mrr})


def test_chartmogul_example():
    # ChartMogul: $100 at the start, $10 churn, $10 contraction, $10 expansion
    # -> gross MRR churn (10 + 10) / 100 = 20 %, net (10 + 10 - 10) / 100 = 10 %.
    data = _data([(1, "2024-01-01", 10), (2, "2024-01-01", 10), (3, "2024-01-01", 40), (4, "2024-01-01", 40),
                  (1, "2024-02-01", 20), (3, "2024-02-01", 30), (4, "2024-02-01", 40)])
    feb = segwork.mrr_movements(data, "2024-02-29").set_index("month").loc["2024-02-01"]
    assert (feb.mrr_start, feb.expansion, feb.contraction, feb.churn, feb.mrr_end) == (100, 10, 10, 10, 90)
    assert feb.gross_mrr_churn == pytest.approx(0.2)
    assert feb.net_mrr_churn == pytest.approx(0.1)
    assert feb.quick_ratio == pytest.approx(10 / 20)  # (new + react + exp) / (churn + contr)
    assert (feb.customers_start, feb.customers_end) == (4, 3)


def test_new_vs_reactivation_and_gap_months():
    # c1: 10 in Jan, churns in Feb, comes back with 15 in Apr -> reactivation (had MRR before)
    # c2: first MRR in Apr -> new.  March has no activity at all but is still a row.
    data = _data([(1, "2024-01-01", 10), (1, "2024-04-01", 15), (2, "2024-04-01", 7)])
    m = segwork.mrr_movements(data, "2024-04-30").set_index(pd.Index(["jan", "feb", "mar", "apr"]))
    assert m.loc["jan", "new"] == 10 and m.loc["feb", "churn"] == 10
    assert m.loc["mar"].mrr_start == 0 and m.loc["mar"].mrr_end == 0
    assert np.isnan(m.loc["mar"].gross_mrr_churn)  # 0 denominator -> NaN, never 0 or inf
    assert (m.loc["apr", "new"], m.loc["apr", "reactivation"]) == (7, 15)
    assert list(m.columns) == ["month", "mrr_start", "new", "reactivation", "expansion", "contraction",
                               "churn", "fx_adjustment", "mrr_end", "customers_start", "customers_end", "quick_ratio",
                               "gross_mrr_churn", "net_mrr_churn"]


def test_by_segment_keeps_null_segment_and_adds_up():
    data = _data([(1, "2024-01-01", 10), (2, "2024-01-01", 20), (3, "2024-01-01", 30), (3, "2024-02-01", 35)],
                 plans={1: "a", 2: None, 3: "a"})
    by = segwork.mrr_movements(data, "2024-02-29", by="plan")
    total = segwork.mrr_movements(data, "2024-02-29")
    assert set(by.plan.fillna("<null>")) == {"a", "<null>"}
    summed = by.groupby("month")[["mrr_end", "churn", "expansion"]].sum().reset_index(drop=True)
    pd.testing.assert_frame_equal(summed, total[["mrr_end", "churn", "expansion"]])
    null_feb = by[by.plan.isna() & (by.month == "2024-02-01")].iloc[0]
    assert null_feb.churn == 20


def test_as_of_cuts_later_months_and_where_filters():
    data = _data([(1, "2024-01-01", 10), (1, "2024-02-01", 10), (2, "2024-02-01", 5)], plans={1: "a", 2: "b"})
    m = segwork.mrr_movements(data, "2024-01-31")
    assert m.month.dt.strftime("%Y-%m").tolist() == ["2024-01"]
    only_b = segwork.mrr_movements(data, "2024-02-29", where={"plan": "b"})
    assert only_b.new.tolist() == [5]  # the bridge starts at the filtered population's first month


def test_errors():
    data = _data([(1, "2024-01-01", 10)], plans={1: "a"})
    with pytest.raises(ValueError, match="unknown segment column 'nope'; available: plan"):
        segwork.mrr_movements(data, "2024-03-31", by="nope")
    with pytest.raises(ValueError, match="before all data"):
        segwork.mrr_movements(data, "2019-01-01")
    with pytest.raises(ValueError, match="explicit date"):
        segwork.mrr_movements(data, None)


@st.composite
def mrr_tables(draw):
    n = draw(st.integers(1, 12))
    months = draw(st.integers(1, 8))
    cells = draw(st.lists(st.tuples(st.integers(1, n), st.integers(0, months - 1),
                                    st.sampled_from([0.0, 5.0, 9.5, 10.0, 33.3, 100.0])),
                          min_size=1, max_size=60))
    rows = {}
    for cid, m, v in cells:
        rows[(cid, m)] = v
    return [(c, f"2023-{m + 1:02d}-01", v) for (c, m), v in rows.items()]


@settings(max_examples=20, deadline=None)
@given(mrr_tables())
def test_bridge_is_exact_in_every_row(rows):
    # docs/metrics.md "MRR movements": mrr_end = mrr_start + new + reactivation + expansion
    # - contraction - churn, in every row
    if not any(v > 0 for _, _, v in rows):
        return
    m = segwork.mrr_movements(_data(rows), "2023-08-31")
    rhs = m.mrr_start + m.new + m.reactivation + m.expansion - m.contraction - m.churn
    np.testing.assert_allclose(m.mrr_end, rhs, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(m.mrr_start.iloc[1:].to_numpy(), m.mrr_end.iloc[:-1].to_numpy(), atol=1e-9)
    assert (m[["new", "reactivation", "expansion", "contraction", "churn"]] >= 0).all().all()


def test_pandas_and_parquet_backed_datasets_agree(tmp_path):
    data = _data([(1, "2024-01-01", 10), (1, "2024-03-01", 12), (2, "2024-02-01", 20)], plans={1: "a", 2: "b"})
    data.write(tmp_path, format="parquet")
    again = segwork.load(tmp_path)
    pd.testing.assert_frame_equal(segwork.mrr_movements(data, "2024-03-31", by="plan"),
                                  segwork.mrr_movements(again, "2024-03-31", by="plan"))


@settings(max_examples=20, deadline=None)
@given(mrr_tables(), st.sampled_from([None, "plan"]), st.integers(3, 8))
def test_window_path_equals_the_definition(rows, by, as_of_month):
    """The engine's faster path (one window over each customer's months,
    segwork.metrics.mrr.movement_sums_window) gives the definition's table (the full outer join
    of each month with the previous one: an engine with fast_paths=False), split or not, with
    months after as_of in the data."""
    if not any(v > 0 for _, _, v in rows):
        return
    plans = {c: (None if c % 3 == 0 else "ab"[c % 2]) for c, _, _ in rows}
    data = _data(rows, plans=plans)
    as_of = pd.Timestamp(f"2023-{as_of_month:02d}-01") + pd.offsets.MonthEnd(0)
    try:
        definition = segwork.mrr_movements(segwork.Engine(data, fast_paths=False), as_of, by=by)
    except ValueError:  # no MRR on or before as_of: both say so
        with pytest.raises(ValueError):
            segwork.mrr_movements(data, as_of, by=by)
        return
    pd.testing.assert_frame_equal(segwork.mrr_movements(data, as_of, by=by), definition)


@st.composite
def fx_tables(draw):
    """MRR rows in USD, EUR or GBP (a customer may change currency between months) and a rate
    of every foreign currency for every month."""
    rows = draw(mrr_tables())
    codes = [draw(st.sampled_from(["USD", "EUR", "GBP"])) for _ in rows]
    rates = {
        (code, m): draw(st.sampled_from([0.8, 1.0, 1.1, 1.25, 1.3]))
        for code in ("EUR", "GBP")
        for m in range(12)
    }
    return rows, codes, rates


@settings(max_examples=25, deadline=None)
@given(fx_tables(), st.sampled_from([None, "plan"]), st.integers(3, 8))
def test_window_path_in_several_currencies_equals_the_definition(tables, by, as_of_month):
    """With an fx table the window path carries each month's MRR at the next month's rates
    (segwork.data.monthly.in_base_with_next): the same bridge, fx_adjustment included, as the
    definition's outer join with last month's MRR revalued (docs/metrics.md "MRR movements")."""
    rows, codes, rates = tables
    if not any(v > 0 for _, _, v in rows):
        return
    mrr = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"]).assign(currency=codes)
    ids = sorted(set(mrr.customer_id))
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": ["2020-01-01"] * len(ids),
            "plan": [None if c % 3 == 0 else "ab"[c % 2] for c in ids],
        }
    )
    fx = pd.DataFrame(
        [(code, f"2023-{m + 1:02d}-01", r) for (code, m), r in rates.items()],
        columns=["currency", "month", "rate"],
    )
    data = segwork.load({"customers": customers, "mrr": mrr, "fx": fx}, base_currency="USD")
    as_of = pd.Timestamp(f"2023-{as_of_month:02d}-01") + pd.offsets.MonthEnd(0)
    try:
        definition = segwork.mrr_movements(segwork.Engine(data, fast_paths=False), as_of, by=by)
    except ValueError:  # no MRR on or before as_of: both say so
        with pytest.raises(ValueError):
            segwork.mrr_movements(data, as_of, by=by)
        return
    fast = segwork.mrr_movements(data, as_of, by=by)  # a one-off: the rates planned in
    pd.testing.assert_frame_equal(fast, definition, check_exact=False, rtol=1e-9, atol=1e-9)
    kept = segwork.mrr_movements(segwork.Engine(data), as_of, by=by)  # the rates table kept
    pd.testing.assert_frame_equal(kept, fast)
