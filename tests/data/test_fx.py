"""Several currencies (docs/metrics.md "Currencies", "MRR movements"): hand-worked cases."""

from __future__ import annotations

import pandas as pd
import pytest

import segwork
from segwork import DataContractError

MONTHS = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
#: USD per EUR and per GBP, January to April
EUR = [1.1, 1.2, 1.0, 1.05]
GBP = [1.3, 1.25, 1.27, 1.3]


def fx(months: list[str] = MONTHS) -> pd.DataFrame:
    n = len(months)
    return pd.DataFrame(
        {
            "currency": ["EUR"] * n + ["gbp"] * n,  # codes are case-insensitive
            "month": months * 2,
            "rate": EUR[:n] + GBP[:n],
        }
    )


def three_customers(**tables: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """EUR 100 a month from January (open); USD 50 January-February; GBP 80 February-March."""
    return {
        "customers": pd.DataFrame(
            {"customer_id": [1, 2, 3], "signup_date": ["2024-01-05", "2024-01-10", "2024-02-03"]}
        ),
        "subscriptions": pd.DataFrame(
            {
                "customer_id": [1, 2, 3],
                "start_date": ["2024-01-05", "2024-01-10", "2024-02-03"],
                "end_date": [None, "2024-03-01", "2024-04-01"],
                "amount": [100.0, 50.0, 80.0],
                "billing_interval": ["month"] * 3,
                "currency": ["eur", "USD", "GBP"],
            }
        ),
        "fx": fx(),
        **tables,
    }


def test_mrr_converted_at_each_months_rate():
    data = segwork.load(three_customers(), base_currency="usd")
    assert data.currency == "USD" and data.currencies.converts
    assert any("converted to USD" in n for n in data.notes)
    got = segwork.monthly_mrr(data, "2024-04-30")
    got = got.pivot(index="month", columns="customer_id", values="mrr").fillna(0.0)
    assert got[1].tolist() == pytest.approx([110.0, 120.0, 100.0, 105.0])  # 100 EUR x rate
    assert got[2].tolist() == [50.0, 50.0, 0.0, 0.0]  # USD: as it is
    assert got[3].tolist() == pytest.approx([0.0, 100.0, 101.6, 0.0])  # 80 GBP x rate


def test_bridge_is_exact_with_fx_adjustment():
    data = segwork.load(three_customers(), base_currency="USD")
    m = segwork.mrr_movements(data, "2024-04-30").set_index("month")
    feb, mar, apr = (m.loc[pd.Timestamp(d)] for d in MONTHS[1:])
    # February: GBP customer new at February's rate; EUR 100 x (1.2 - 1.1) is FX, not expansion
    assert feb.new == pytest.approx(100.0) and feb.expansion == 0.0
    assert feb.fx_adjustment == pytest.approx(10.0)
    # March: USD churn 50; EUR 100 x (1.0 - 1.2) + GBP 80 x (1.27 - 1.25)
    assert mar.churn == pytest.approx(50.0) and mar.contraction == 0.0
    assert mar.fx_adjustment == pytest.approx(-18.4)
    # April: GBP churn valued at April's rate (80 x 1.3); FX 100 x 0.05 + 80 x 0.03
    assert apr.churn == pytest.approx(104.0) and apr.fx_adjustment == pytest.approx(7.4)
    moves = m.new + m.reactivation + m.expansion - m.contraction - m.churn + m.fx_adjustment
    assert (m.mrr_start + moves - m.mrr_end).abs().max() < 1e-9  # exact in every row
    assert (m.mrr_start.iloc[1:].to_numpy() == m.mrr_end.iloc[:-1].to_numpy()).all()


def test_unchanged_price_is_no_expansion_when_the_rate_moves():
    data = segwork.load(three_customers(), base_currency="USD")
    by = segwork.mrr_movements(data, "2024-04-30", where={"customer_id": [1]})
    assert (by.expansion == 0).all() and (by.contraction == 0).all()
    assert by.fx_adjustment.sum() == pytest.approx(105.0 - 110.0)
    # one currency: the column is there and zero
    usd = segwork.load_sample()
    assert (segwork.mrr_movements(usd, "2024-06-30").fx_adjustment == 0).all()


def test_a_price_change_in_a_foreign_currency_is_an_expansion_at_the_new_rate():
    tables = three_customers()
    subs = tables["subscriptions"]
    subs.loc[0, "end_date"] = "2024-03-01"
    more = pd.DataFrame(
        {"customer_id": [1], "start_date": ["2024-03-01"], "end_date": [None], "amount": [150.0],
         "billing_interval": ["month"], "currency": ["EUR"]}
    )
    tables["subscriptions"] = pd.concat([subs, more], ignore_index=True)
    m = segwork.mrr_movements(segwork.load(tables, base_currency="USD"), "2024-03-31")
    mar = m.set_index("month").loc[pd.Timestamp("2024-03-01")]
    assert mar.expansion == pytest.approx((150 - 100) * 1.0)  # at March's rate
    assert mar.fx_adjustment == pytest.approx(100 * (1.0 - 1.2) + 80 * (1.27 - 1.25))


def test_segment_metrics_use_the_converted_mrr():
    data = segwork.load(three_customers(), base_currency="USD")
    table = segwork.segment_table(data, "lifecycle_stage", "2024-03-31")
    assert table["mrr"].sum() == pytest.approx(100.0 + 101.6)


def test_missing_rate_is_named():
    tables = three_customers(fx=fx(MONTHS[:2]))
    data = segwork.load(tables, base_currency="USD")  # the data's last date is in February
    with pytest.raises(DataContractError) as err:
        segwork.monthly_mrr(data, "2024-04-30")
    assert err.value.table == "fx" and err.value.rule == "missing_rate"
    assert "EUR: 2024-03, 2024-04" in str(err.value) and "GBP: 2024-03, 2024-04" in str(err.value)
    # an order in a month without its rate is refused when loading
    orders = pd.DataFrame({"customer_id": [1], "order_id": ["a"], "date": ["2024-03-09"],
                           "amount": [10.0], "currency": ["EUR"]})
    with pytest.raises(DataContractError, match="no rate for EUR: 2024-03") as err:
        segwork.load({**tables, "transactions": orders}, base_currency="USD")
    assert err.value.table == "fx" and err.value.n_rows == 1


def test_mixed_currencies_without_fx_are_refused_with_the_hint():
    tables = three_customers()
    del tables["fx"]
    with pytest.raises(DataContractError, match="base_currency") as err:
        segwork.load(tables)
    assert err.value.rule == "mixed_currency" and "fx table" in str(err.value)
    # across tables too: USD subscriptions and EUR orders
    tables["subscriptions"]["currency"] = "USD"
    orders = pd.DataFrame({"customer_id": [1], "order_id": ["a"], "date": ["2024-01-09"],
                           "amount": [10.0], "currency": ["EUR"]})
    with pytest.raises(DataContractError) as err:
        segwork.load({**tables, "transactions": orders})
    assert err.value.rule == "mixed_currency" and err.value.table == "transactions"


def test_fx_without_base_currency_is_refused():
    with pytest.raises(DataContractError) as err:
        segwork.load(three_customers())
    assert err.value.table == "fx" and err.value.rule == "base_currency_missing"


def test_single_foreign_currency_needs_no_fx():
    tables = three_customers()
    del tables["fx"]
    tables["subscriptions"]["currency"] = "GBP"
    data = segwork.load(tables)
    assert data.currency == "GBP" and not data.currencies.converts
    assert segwork.monthly_mrr(data, "2024-01-31")["mrr"].sum() == 150.0  # as given
    assert segwork.load(tables, base_currency="gbp").currency == "GBP"
    with pytest.raises(DataContractError, match="amounts are in GBP, not base_currency USD"):
        segwork.load(tables, base_currency="USD")
    assert segwork.load_sample().currency == "USD"


def test_orders_converted_at_their_months_rate():
    orders = pd.DataFrame(
        {"customer_id": [1, 1, 2], "order_id": ["a", "a", "b"],
         "date": ["2024-01-09", "2024-01-09", "2024-02-10"], "amount": [10.0, 5.0, 20.0],
         "price": [10.0, 5.0, 20.0], "currency": ["EUR", "EUR", "GBP"]}
    )
    data = segwork.load({"transactions": orders, "fx": fx()}, base_currency="USD")
    t = data.to_pandas("transactions").sort_values(["order_id", "amount_original"])
    assert t["amount"].tolist() == pytest.approx([5 * 1.1, 10 * 1.1, 20 * 1.25])
    assert t["price"].tolist() == pytest.approx([5 * 1.1, 10 * 1.1, 20 * 1.25])
    assert set(t["currency"]) == {"USD"} and t["currency_original"].tolist() == ["EUR"] * 2 + [
        "GBP"
    ]
    rfm = segwork.rfm(data, "2024-03-31")
    assert rfm.set_index("customer_id").loc[1, "monetary"] == pytest.approx(15 * 1.1)


def test_market_acv_converted_at_the_latest_rate():
    market = pd.DataFrame(
        {"industry": ["software", "retail"], "accounts": [10, 20], "acv": [1000.0, 500.0],
         "currency": ["EUR", "USD"]}
    )
    data = segwork.load({"market": market, "fx": fx()}, base_currency="USD")
    m = data.to_pandas("market").set_index("industry")
    assert m.loc["software", "acv"] == pytest.approx(1000 * 1.05)  # April, the latest EUR rate
    assert m.loc["retail", "acv"] == 500.0


def test_written_and_reloaded_data_is_not_converted_twice(tmp_path):
    orders = pd.DataFrame({"customer_id": [1], "order_id": ["a"], "date": ["2024-01-09"],
                           "amount": [10.0], "currency": ["EUR"]})
    data = segwork.load({"transactions": orders, "fx": fx()}, base_currency="USD")
    data.write(tmp_path, format="parquet")
    again = segwork.load(tmp_path, base_currency="USD")
    assert again.to_pandas("transactions")["amount"].tolist() == pytest.approx([11.0])
    assert not again.currencies.converts
