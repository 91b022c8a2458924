"""Tests of the plan criteria and plan moves (docs/metrics.md "Current and first plan", "Plan moves").

Expected values are worked out by hand; the arithmetic is in the comments.  Subscriptions are
monthly unless said otherwise; a subscription ending on the 1st of a month is not active in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.metrics._common import attribute_tables, plan_source
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.moves import PLAN_MOVE_COLUMNS, plan_moves
from segwork.metrics.plans import PlanHistory, customer_plans, prepare_plans

AS_OF = "2024-06-30"
SUB_COLUMNS = ["customer_id", "plan", "start_date", "end_date", "amount", "billing_interval"]


def _subs(rows: list[tuple], **extra: list) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=SUB_COLUMNS)
    for name, values in extra.items():
        frame[name] = values
    return frame


def _customers(n: int, **extra: list) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": list(range(1, n + 1)), "signup_date": ["2023-01-01"] * n})
    for name, values in extra.items():
        frame[name] = values
    return frame


def plan_data() -> segwork.Dataset:
    """One customer per case of docs/metrics.md "Current and first plan", as of 2024-06-30.

    c1 (a) starter 20 Jan-Feb, pro 50 from March: current pro, first starter
    c2 (b) team 60/month and business 1200/year (= 100/month) both active: business wins on MRR
    c3 (b) pro 30 from Jan, basic 30 from Feb, both active: equal MRR, latest start wins: basic
    c4 (b) zeta 30 and alpha 30 from the same day: equal MRR and start, plan name: alpha (both)
    c5 (c) churned: big 90 Jan-Nov 2023, small 10 Mar-Apr 2023: latest paid month Nov: big
    c6 (d) trial pro (amount 0) Jan 1-15, then starter 20: current and first starter
    c7 (d) only a trial: no plan
    c8 (e) starter 20 from Jan; pro 50 from 2024-07-15, after as_of: starter
    c9 (e) only a subscription starting after as_of: no plan
    """
    rows = [
        (1, "starter", "2024-01-01", "2024-03-01", 20.0, "month"),
        (1, "pro", "2024-03-01", None, 50.0, "month"),
        (2, "team", "2024-01-01", None, 60.0, "month"),
        (2, "business", "2024-02-01", None, 1200.0, "year"),
        (3, "pro", "2024-01-01", None, 30.0, "month"),
        (3, "basic", "2024-02-01", None, 30.0, "month"),
        (4, "zeta", "2024-01-01", None, 30.0, "month"),
        (4, "alpha", "2024-01-01", None, 30.0, "month"),
        (5, "big", "2023-01-01", "2023-12-01", 90.0, "month"),
        (5, "small", "2023-03-01", "2023-05-01", 10.0, "month"),
        (6, "pro", "2024-01-01", "2024-01-15", 0.0, "month"),
        (6, "starter", "2024-01-15", None, 20.0, "month"),
        (7, "pro", "2024-01-01", "2024-01-15", 0.0, "month"),
        (8, "starter", "2024-01-01", None, 20.0, "month"),
        (8, "pro", "2024-07-15", None, 50.0, "month"),
        (9, "pro", "2024-07-15", None, 50.0, "month"),
    ]
    return segwork.load({"customers": _customers(9), "subscriptions": _subs(rows)})


EXPECTED_PLANS = {
    1: ("pro", "starter"),
    2: ("business", "team"),
    3: ("basic", "pro"),
    4: ("alpha", "alpha"),
    5: ("big", "big"),
    6: ("starter", "starter"),
    7: (None, None),
    8: ("starter", "starter"),
    9: (None, None),
}


def _plans_of(frame: pd.DataFrame) -> dict[int, tuple]:
    return {
        int(r.customer_id): (
            None if pd.isna(r.current_plan) else r.current_plan,
            None if pd.isna(r.first_plan) else r.first_plan,
        )
        for r in frame.itertuples()
    }


def test_current_and_first_plan_by_hand():
    data = plan_data()
    assert plan_source(data) == "subscriptions"
    got = customer_plans(data, AS_OF)
    assert got["customer_id"].tolist() == list(range(1, 10))  # every customer, nulls included
    assert _plans_of(got) == EXPECTED_PLANS


def test_same_plans_through_customer_attributes():
    data = plan_data()
    attrs, by = customer_attributes(
        data, pd.Timestamp(AS_OF).date(), ["current_plan", "first_plan"]
    )
    assert by == ["current_plan", "first_plan"]
    assert _plans_of(attrs.order_by("customer_id").to_pandas()) == EXPECTED_PLANS


def test_subscription_after_as_of_counts_once_it_started():
    data = plan_data()
    later = _plans_of(customer_plans(data, "2024-07-31"))
    assert later[8] == ("pro", "starter")  # pro 50 now active and above starter 20
    assert later[9] == ("pro", "pro")
    # before c1's upgrade: starter; a customer with nothing started yet is still listed (None)
    early = _plans_of(customer_plans(data, "2024-02-15"))
    assert early[1] == ("starter", "starter")
    assert early[3] == ("basic", "pro")  # basic started on Feb 1 <= as_of


def test_null_plan_is_its_own_segment():
    data = plan_data()
    table = segwork.segment_table(data, "current_plan", AS_OF, min_customers=1)
    sizes = dict(zip(table["current_plan"].fillna("<none>"), table["customers"], strict=True))
    # c7 (trial only) and c9 (starts after as_of) have no plan
    assert sizes == {"alpha": 1, "basic": 1, "big": 1, "business": 1, "pro": 1, "starter": 2,
                     "<none>": 2}  # fmt: skip
    assert table["customers"].sum() == 9


def test_where_current_plan():
    data = plan_data()
    table = segwork.segment_table(data, None, AS_OF, where={"current_plan": ["starter", "pro"]})
    assert int(table["customers"].iloc[0]) == 3  # c1 (pro), c6 and c8 (starter)
    # MRR in June: c1 50, c6 20, c8 20
    assert float(table["mrr"].iloc[0]) == pytest.approx(90.0)
    first = segwork.segment_table(data, None, AS_OF, where={"first_plan": "pro"})
    assert int(first["customers"].iloc[0]) == 1  # c3
    with pytest.raises(ValueError, match="matches no customer"):
        segwork.segment_table(data, None, AS_OF, where={"current_plan": "nope"})


def test_given_mrr_with_plan():
    """A given mrr table with a plan column is read instead of subscriptions.plan.

    month:   Jan          Feb          Mar       Apr
    c1       pro 0        starter 20   pro 50    pro 50     (the trial month is not a plan)
    c2       pro 50       starter 20   -         -          (churned in March)
    c3       -            -            - 0       -          (a 0 row only: no plan)
    """
    mrr = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "month": [
                "2024-01-01",
                "2024-02-01",
                "2024-03-01",
                "2024-04-01",
                "2024-01-01",
                "2024-02-01",
                "2024-03-01",
            ],
            "mrr": [0.0, 20.0, 50.0, 50.0, 50.0, 20.0, 0.0],
            "plan": ["pro", "starter", "pro", "pro", "pro", "starter", "pro"],
        }
    )
    subs = _subs([(c, "other", "2024-01-01", None, 10.0, "month") for c in (1, 2, 3)])
    data = segwork.load({"customers": _customers(3), "subscriptions": subs, "mrr": mrr})
    assert plan_source(data) == "mrr"
    assert attribute_tables(data, ["current_plan"]) == ["mrr"]
    assert _plans_of(customer_plans(data, "2024-03-31")) == {
        1: ("pro", "starter"),  # the as-of month's row
        2: ("starter", "pro"),  # the latest paid month, February
        3: (None, None),
    }
    assert _plans_of(customer_plans(data, "2024-02-15"))[1] == ("starter", "starter")
    moves = plan_moves(data, "2024-04-30", months=3)  # m = Feb, Mar, Apr
    assert moves[["from_plan", "to_plan", "customers", "mrr_from", "mrr_to"]].values.tolist() == [
        ["pro", "starter", 1, 50.0, 20.0],  # c2 in Feb
        ["starter", "pro", 1, 20.0, 50.0],  # c1 in Mar (Jan -> Feb is no move: Jan is a trial)
    ]
    no_plan = segwork.load({"customers": _customers(3), "mrr": mrr.drop(columns="plan")})
    assert plan_source(no_plan) is None
    assert "current_plan" not in segwork.available_attributes(no_plan)
    with pytest.raises(ValueError, match="needs a plan"):
        segwork.segment_table(no_plan, "current_plan", "2024-04-30")
    with pytest.raises(ValueError, match="needs a plan"):
        plan_moves(no_plan, "2024-04-30")


def test_available_and_attribute_tables():
    data = plan_data()
    names = segwork.available_attributes(data)
    assert {"current_plan", "first_plan"} <= set(names)
    assert attribute_tables(data, ["first_plan", "plan"]) == ["subscriptions"]
    subs = plan_data().to_pandas("subscriptions").drop(columns="plan")
    subs["subscription_id"] = range(len(subs))  # c4's two rows differ only by their plan
    without = segwork.load({"customers": _customers(9), "subscriptions": subs})
    assert not {"current_plan", "first_plan"} & set(segwork.available_attributes(without))
    assert attribute_tables(without, ["current_plan"]) == []


def test_highest_mrr_compares_in_the_base_currency():
    # EUR 100 (eu) and USD 110 (us) both active: at 1.2 USD/EUR in February eu is worth 120 and
    # wins; at 1.0 in March it is worth 100 and us wins.  first_plan: same start, eu 110 (Jan
    # rate 1.1) = us 110: plan name, eu.
    fx = pd.DataFrame(
        {
            "currency": ["EUR"] * 3,
            "month": ["2024-01-01", "2024-02-01", "2024-03-01"],
            "rate": [1.1, 1.2, 1.0],
        }
    )
    subs = _subs(
        [
            (1, "eu", "2024-01-01", None, 100.0, "month"),
            (1, "us", "2024-01-01", None, 110.0, "month"),
        ],
        currency=["EUR", "USD"],
    )
    data = segwork.load(
        {"customers": _customers(1), "subscriptions": subs, "fx": fx}, base_currency="USD"
    )
    assert _plans_of(customer_plans(data, "2024-02-29")) == {1: ("eu", "eu")}
    assert _plans_of(customer_plans(data, "2024-03-31")) == {1: ("us", "eu")}
    moves = plan_moves(data, "2024-03-31", months=2)
    # Feb -> Mar: eu -> us with the customer's MRR 120 + 110 = 230 -> 100 + 110 = 210
    assert moves[["from_plan", "to_plan", "customers"]].values.tolist() == [["eu", "us", 1]]
    assert moves["mrr_from"].iloc[0] == pytest.approx(230.0)
    assert moves["mrr_to"].iloc[0] == pytest.approx(210.0)


# -- plan moves ------------------------------------------------------------------------------------
def move_data() -> segwork.Dataset:
    """Plan moves as of 2024-06-30 with months=3: m = April, May, June (m - 1 from March).

    c1 EU starter 20 -> pro 50 on Apr 1                      move in Apr  20 -> 50
    c2 EU pro 50 -> starter 20 on May 1                      move in May  50 -> 20
    c3 EU starter 2 x 20 = 40 -> pro 50 at 20 % off = 40     move in May  40 -> 40
    c4 EU pro 50 -> pro_annual 600/year = 50 on Jun 1        move in Jun  50 -> 50
    c5 EU starter -> pro on Mar 1                            m = Mar: before the window
    c6 US starter until Apr 1, pro from May 15               April has no MRR: no move
    c7 US starter -> pro on Apr 1 -> starter on Jun 1        two moves: Apr 20 -> 50, Jun 50 -> 20
    c8 US starter 20 open; an enterprise trial (0) in May    a trial is no plan: no move
    c9 US starter 20 open; pro 50 also from May 10           highest MRR: move in May 20 -> 70
    """
    rows = [
        (1, "starter", "2024-01-01", "2024-04-01", 20.0, "month"),
        (1, "pro", "2024-04-01", None, 50.0, "month"),
        (2, "pro", "2024-01-01", "2024-05-01", 50.0, "month"),
        (2, "starter", "2024-05-01", None, 20.0, "month"),
        (3, "starter", "2024-01-01", "2024-05-01", 20.0, "month"),
        (3, "pro", "2024-05-01", None, 50.0, "month"),
        (4, "pro", "2024-01-01", "2024-06-01", 50.0, "month"),
        (4, "pro_annual", "2024-06-01", None, 600.0, "year"),
        (5, "starter", "2024-01-01", "2024-03-01", 20.0, "month"),
        (5, "pro", "2024-03-01", None, 50.0, "month"),
        (6, "starter", "2024-01-01", "2024-04-01", 20.0, "month"),
        (6, "pro", "2024-05-15", None, 50.0, "month"),
        (7, "starter", "2024-01-01", "2024-04-01", 20.0, "month"),
        (7, "pro", "2024-04-01", "2024-06-01", 50.0, "month"),
        (7, "starter", "2024-06-01", None, 20.0, "month"),
        (8, "starter", "2024-01-01", None, 20.0, "month"),
        (8, "enterprise", "2024-05-01", "2024-06-01", 0.0, "month"),
        (9, "starter", "2024-01-01", None, 20.0, "month"),
        (9, "pro", "2024-05-10", None, 50.0, "month"),
    ]
    quantity = [1] * len(rows)
    quantity[4] = 2  # c3's starter: 2 seats
    discount = [0.0] * len(rows)
    discount[5] = 0.2  # c3's pro: 20 % off
    subs = _subs(rows, quantity=quantity, discount=discount)
    customers = _customers(9, region=["EU"] * 5 + ["US"] * 4)
    return segwork.load({"customers": customers, "subscriptions": subs})


def _rows(moves: pd.DataFrame) -> list[list]:
    return moves[list(PLAN_MOVE_COLUMNS)].values.tolist()


def test_plan_moves_by_hand():
    moves = plan_moves(move_data(), AS_OF, months=3)
    assert list(moves.columns) == list(PLAN_MOVE_COLUMNS)
    assert _rows(moves) == [
        ["pro", "pro_annual", 1, 50.0, 50.0, 0.0, "lateral"],  # c4
        ["pro", "starter", 2, 100.0, 40.0, -60.0, "downgrade"],  # c2, c7 (June)
        # c1 20 -> 50, c3 40 -> 40, c7 (April) 20 -> 50, c9 20 -> 70
        ["starter", "pro", 4, 100.0, 210.0, 110.0, "upgrade"],
    ]
    assert moves["customers"].dtype == "int64"
    assert moves.attrs["first_month"] == pd.Timestamp("2024-04-01").date()
    assert moves.attrs["last_month"] == pd.Timestamp("2024-06-01").date()


def test_plan_moves_window_and_where():
    data = move_data()
    june = plan_moves(data, AS_OF, months=1)
    assert _rows(june) == [
        ["pro", "pro_annual", 1, 50.0, 50.0, 0.0, "lateral"],
        ["pro", "starter", 1, 50.0, 20.0, -30.0, "downgrade"],
    ]
    year = plan_moves(data, AS_OF)  # 12 months: c5's March move is in
    up = year[(year.from_plan == "starter") & (year.to_plan == "pro")].iloc[0]
    assert (up.customers, up.mrr_from, up.mrr_to) == (5, 120.0, 260.0)
    eu = plan_moves(data, AS_OF, months=3, where={"region": "EU"})
    assert _rows(eu) == [
        ["pro", "pro_annual", 1, 50.0, 50.0, 0.0, "lateral"],
        ["pro", "starter", 1, 50.0, 20.0, -30.0, "downgrade"],
        ["starter", "pro", 2, 60.0, 90.0, 30.0, "upgrade"],
    ]
    by_plan = plan_moves(data, AS_OF, months=3, where={"current_plan": "pro_annual"})
    assert _rows(by_plan) == [["pro", "pro_annual", 1, 50.0, 50.0, 0.0, "lateral"]]
    none = plan_moves(data, "2024-02-29", months=1)
    assert none.empty and list(none.columns) == list(PLAN_MOVE_COLUMNS)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="months must be an integer"):
            plan_moves(data, AS_OF, months=bad)


# -- the sample ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample() -> segwork.Dataset:
    return segwork.load_sample()


SAMPLE_AS_OF = "2024-09-30"


def test_sample_segments_and_cohorts_hold_every_customer(sample):
    as_of = pd.Timestamp(SAMPLE_AS_OF).date()
    everyone = int(
        sample.customers.filter(sample.customers.signup_date <= as_of).count().to_pandas()
    )
    for criterion in ("current_plan", "first_plan"):
        table = segwork.segment_table(sample, criterion, SAMPLE_AS_OF)
        assert int(table["customers"].sum()) == everyone
        assert set(table[criterion].dropna()) <= {"starter", "pro", "enterprise"}
        cohorts = segwork.cohort_retention(sample, SAMPLE_AS_OF, by=criterion, cohort="signup")
        sizes = cohorts.drop_duplicates([criterion, "cohort"])["cohort_customers"]
        assert int(sizes.sum()) == everyone
    # the sample's upgrades and downgrades show: current differs from first for some customers
    plans = customer_plans(sample, SAMPLE_AS_OF)
    assert len(plans) == everyone
    assert (plans["current_plan"] != plans["first_plan"]).any()
    pro = segwork.segment_table(sample, None, SAMPLE_AS_OF, where={"current_plan": ["pro"]})
    assert int(pro["customers"].iloc[0]) == int((plans["current_plan"] == "pro").sum())


def _pandas_plan_by_month(subs: pd.DataFrame, a: int) -> pd.DataFrame:
    """The definition of docs/metrics.md "Plan moves", month by month, in pandas."""
    months = {"month": 1, "quarter": 3, "year": 12, "week": 12 / 52, "day": 12 / 365}
    s = subs.copy()
    s["start_date"] = pd.to_datetime(s["start_date"])
    s["end_date"] = pd.to_datetime(s["end_date"])
    s["value"] = (
        s["amount"] * s["quantity"] * (1 - s["discount"]) / s["billing_interval"].map(months)
    )
    s["first"] = s["start_date"].dt.year * 12 + s["start_date"].dt.month - 1
    last_day = s["end_date"] - pd.Timedelta(days=1)
    s["last"] = (last_day.dt.year * 12 + last_day.dt.month - 1).fillna(a).clip(upper=a)
    s = s[(s["value"] > 0) & s["plan"].notna() & (s["last"] >= s["first"])]
    s = s.assign(
        month_idx=[
            list(range(int(f), int(la) + 1)) for f, la in zip(s["first"], s["last"], strict=True)
        ]
    )
    s = s.explode("month_idx").astype({"month_idx": "int64"})
    s = s.sort_values(
        ["customer_id", "month_idx", "value", "start_date", "plan"],
        ascending=[True, True, False, False, True],
    )
    return s.drop_duplicates(["customer_id", "month_idx"])[["customer_id", "month_idx", "plan"]]


def test_sample_plan_moves_match_a_pandas_recomputation(sample):
    as_of = pd.Timestamp(SAMPLE_AS_OF)
    a = as_of.year * 12 + as_of.month - 1
    months = 12
    subs = sample.to_pandas("subscriptions")
    subs = subs[pd.to_datetime(subs["start_date"]) <= as_of]
    plan = _pandas_plan_by_month(subs, a)
    mrr = segwork.monthly_mrr(sample, SAMPLE_AS_OF)
    mrr["month_idx"] = mrr["month"].dt.year * 12 + mrr["month"].dt.month - 1
    m = mrr[mrr["mrr"] > 0].merge(plan, on=["customer_id", "month_idx"])
    prev = m.assign(month_idx=m["month_idx"] + 1).rename(
        columns={"plan": "from_plan", "mrr": "mrr_from"}
    )
    pairs = m.merge(
        prev[["customer_id", "month_idx", "from_plan", "mrr_from"]], on=["customer_id", "month_idx"]
    )
    moved = pairs[(pairs["plan"] != pairs["from_plan"]) & (pairs["month_idx"] > a - months)]
    expected = (
        moved.groupby(["from_plan", "plan"])
        .agg(customers=("customer_id", "size"), mrr_from=("mrr_from", "sum"), mrr_to=("mrr", "sum"))
        .reset_index()
        .rename(columns={"plan": "to_plan"})
    )
    got = plan_moves(sample, SAMPLE_AS_OF, months=months)
    assert int(got["customers"].sum()) == len(moved) > 0
    pd.testing.assert_frame_equal(
        got[["from_plan", "to_plan", "customers", "mrr_from", "mrr_to"]],
        expected[["from_plan", "to_plan", "customers", "mrr_from", "mrr_to"]],
        check_dtype=False,
        rtol=1e-9,
    )
    sign = np.sign(got["mrr_change"])
    assert got["direction"].tolist() == [
        {1.0: "upgrade", -1.0: "downgrade", 0.0: "lateral"}[s] for s in sign
    ]


# -- the plan history of a page -------------------------------------------------------------------
def _random_subscriptions(seed: int, n: int = 150) -> pd.DataFrame:
    """1-4 subscriptions per customer over 2022-2024 with ties on MRR, start day and plan name,
    trials (amount 0), subscriptions without a plan, ending the day after they start, on the 1st of
    a month or mid-month, or open."""
    rng = np.random.default_rng(seed)
    rows = []
    base = pd.Timestamp("2022-01-01")
    for c in range(1, n + 1):
        shared = base + pd.Timedelta(days=int(rng.integers(0, 900)))
        for _ in range(int(rng.integers(1, 5))):
            start = base + pd.Timedelta(days=int(rng.integers(0, 1000)))
            if rng.random() < 0.3:
                start = shared
            if rng.random() < 0.15:
                start = start.replace(day=1)
            kind = rng.random()
            if kind < 0.3:
                end = None
            elif kind < 0.4:
                end = start + pd.Timedelta(days=1)
            elif kind < 0.6:
                end = (start + pd.DateOffset(months=int(rng.integers(1, 14)))).replace(day=1)
            else:
                end = start + pd.Timedelta(days=int(rng.integers(1, 500)))
            plan = rng.choice(["alpha", "beta", "gamma", None, ""], p=[0.35, 0.3, 0.25, 0.05, 0.05])
            amount = float(rng.choice([0.0, 20.0, 30.0, 30.0, 360.0]))
            interval = "year" if amount == 360.0 else "month"
            stop = end and end.date().isoformat()
            rows.append((c, plan, start.date().isoformat(), stop, amount, interval))
    frame = _subs(rows)
    frame["subscription_id"] = range(len(frame))
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plans_read_from_the_history_equal_the_definition_on_every_kind_of_day(seed):
    subs = _random_subscriptions(seed)
    customers = _customers(150).assign(signup_date="2021-06-01")
    data = segwork.load({"customers": customers, "subscriptions": subs})
    page = segwork.Engine(data, reuse_across_dates=True)
    prepare_plans(page)
    assert PlanHistory() in page.table_keys()
    starts = pd.to_datetime(subs["start_date"])
    ends = pd.to_datetime(subs["end_date"]).dropna()
    rng = np.random.default_rng(seed)
    days = {pd.Timestamp("2021-12-31"), pd.Timestamp("2026-06-15")}  # before and after the data
    days |= set(rng.choice(starts, 12)) | set(rng.choice(ends, 8))
    days |= {d - pd.Timedelta(days=1) for d in rng.choice(ends, 6)}
    days |= set(pd.date_range("2022-01-31", "2025-01-31", freq="5ME"))  # month ends
    days |= set(pd.date_range("2022-02-14", "2025-02-14", freq="7MS") + pd.Timedelta(days=13))
    for day in sorted({pd.Timestamp(d).date() for d in days}):
        expected = customer_plans(data, day)  # a one-off call: the definition
        got = customer_plans(page, day)
        pd.testing.assert_frame_equal(got, expected, obj=f"plans at {day}")
