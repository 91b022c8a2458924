"""A page's MRR bridge of every as_of from one table (segwork.metrics.mrr_history), held equal
to the definition (docs/metrics.md "MRR movements")."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.mrr_history import MovementHistory

SIGNUPS = st.sampled_from(
    ["2022-12-15", "2023-01-01", "2023-01-02", "2023-02-20", "2023-03-01", "2023-04-30",
     "2023-06-10"]
)  # fmt: skip
AS_OF = st.sampled_from(
    ["2023-01-01", "2023-01-15", "2023-02-28", "2023-03-01", "2023-04-29", "2023-04-30",
     "2023-06-09", "2023-06-10", "2023-07-31", "2023-08-31"]
)  # fmt: skip


@st.composite
def tables(draw):
    n = draw(st.integers(1, 10))
    cells = draw(
        st.lists(
            st.tuples(
                st.integers(1, n),
                st.integers(0, 7),
                st.sampled_from([0.0, 5.0, 9.5, 10.0, 33.3, 100.0]),
            ),
            min_size=1,
            max_size=50,
        )
    )
    rows = {(c, m): v for c, m, v in cells}
    mrr = pd.DataFrame(
        [(c, f"2023-{m + 1:02d}-01", v) for (c, m), v in rows.items()],
        columns=["customer_id", "month", "mrr"],
    )
    ids = sorted(set(mrr.customer_id))
    signups = [draw(SIGNUPS) for _ in ids]
    customers = pd.DataFrame({"customer_id": ids, "signup_date": signups})
    return customers, mrr


def _bridge(engine, as_of):
    try:
        return segwork.mrr_movements(engine, as_of)
    except ValueError as err:
        return str(err)


@settings(max_examples=25, deadline=None)
@given(tables(), st.lists(AS_OF, min_size=1, max_size=4))
@example(
    (
        pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2023-01-02", "2023-03-01"]}),
        pd.DataFrame(
            {"customer_id": [1, 1, 2], "month": ["2023-01-01", "2023-03-01", "2023-01-01"],
             "mrr": [10.0, 12.0, 5.0]}
        ),
    ),
    ["2023-01-01", "2023-01-15", "2023-02-28", "2023-03-01"],
)  # fmt: skip
def test_every_as_of_read_from_the_history_equals_the_definition(data, dates):
    """One page engine answers several dates from the history; each equals the definition (the
    full outer join of each month with the previous one) on a fresh engine, errors included:
    mid-month signups, signups after MRR rows (rows set aside), zero MRR."""
    customers, mrr = data
    dataset = segwork.load({"customers": customers, "mrr": mrr})
    page = segwork.Engine(dataset, reuse_across_dates=True)
    for as_of in dates:
        want = _bridge(segwork.Engine(dataset, fast_paths=False), as_of)
        got = _bridge(page, as_of)
        if isinstance(want, str):
            assert got == want
        else:
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-9)


def test_a_page_keeps_one_history_and_splits_run_per_date() -> None:
    data = segwork.load_sample()
    page = segwork.Engine(data, reuse_across_dates=True)
    segwork.mrr_movements(page, "2024-12-31")
    segwork.mrr_movements(page, "2024-03-31")
    assert page.frame_keys().count(MovementHistory()) == 1
    split = segwork.Engine(data, reuse_across_dates=True)
    segwork.mrr_movements(split, "2024-12-31", by="plan")
    segwork.mrr_movements(split, "2024-12-31", where={"plan": "pro"})
    assert MovementHistory() not in split.frame_keys()
    one_off = segwork.Engine(data)  # a one-off call: the per-date plan
    segwork.mrr_movements(one_off, "2024-12-31")
    assert MovementHistory() not in one_off.frame_keys()


def test_before_every_signup_the_page_says_what_the_definition_says() -> None:
    page = segwork.Engine(segwork.load_sample(), reuse_across_dates=True)
    with pytest.raises(ValueError, match="before all data"):
        segwork.mrr_movements(page, "2019-01-01")
