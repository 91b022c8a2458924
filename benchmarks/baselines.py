"""Reference implementations of the benchmarked metrics: plain pandas and hand-written DuckDB SQL.

Both follow docs/metrics.md (the segwork metric reference) and return frames with the same
column names as the segwork functions, so :mod:`benchmarks.run` can compare them column by column.

* pandas derives monthly MRR from ``subscriptions`` (docs/metrics.md "MRR"), the way
  an analyst with only the raw subscriptions would; it does not read ``mrr.parquet``.
* DuckDB SQL reads ``mrr.parquet`` (the same input segwork uses when an ``mrr`` table is given).
  So a pandas-vs-(segwork, SQL) mismatch on MRR metrics points at ``mrr.parquet`` disagreeing
  with ``subscriptions.parquet``; a segwork-vs-(pandas, SQL) mismatch points at segwork.

Every function reads its own inputs (a cold run), like a fresh ``segwork.load``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

WINDOW = 12  # segment_table churn window (months) and NRR horizon
MONTHS_PER_INTERVAL = {"week": 12 / 52, "month": 1.0, "quarter": 3.0, "year": 12.0}

RFM_TABLE = {  # (R, F) -> name, docs/metrics.md "RFM"
    5: ["New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"],
    3: ["About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "Cannot lose"],
    1: ["Lost", "Hibernating", "At risk", "At risk", "Cannot lose"],
}


def month_idx_of(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def idx_to_ts(idx: np.ndarray | pd.Series) -> pd.Series:
    idx = np.asarray(idx, dtype="int64")
    return pd.Series(pd.to_datetime({"year": idx // 12, "month": idx % 12 + 1, "day": 1}))


def z95() -> float:
    return 1.959963984540054


# ================================================================================================
# pandas
# ================================================================================================
def _pd_idx(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s)
    return (s.dt.year * 12 + s.dt.month - 1).astype("int64")


def pd_population(d: Path, as_of: dt.date, columns: list[str] | None = None) -> pd.DataFrame:
    cols = ["customer_id", "signup_date", *(columns or [])]
    c = pd.read_parquet(d / "customers.parquet", columns=cols)
    c["signup_date"] = pd.to_datetime(c["signup_date"])
    return c[c["signup_date"] <= pd.Timestamp(as_of)]


def pd_monthly_mrr(d: Path, as_of: dt.date) -> pd.DataFrame:
    """``customer_id, month_idx, mrr`` (MRR > 0, months <= as_of) derived from subscriptions."""
    s = pd.read_parquet(
        d / "subscriptions.parquet",
        columns=[
            "customer_id",
            "billing_interval",
            "start_date",
            "end_date",
            "amount",
            "quantity",
            "discount",
        ],
    )
    a = month_idx_of(as_of)
    s["start_date"] = pd.to_datetime(s["start_date"])
    s["end_date"] = pd.to_datetime(s["end_date"])
    s = s[s["start_date"] <= pd.Timestamp(as_of)]
    start = _pd_idx(s["start_date"]).to_numpy()
    last_day = s["end_date"] - pd.Timedelta(days=1)  # active in m <=> end_date > first day of m
    end = np.where(s["end_date"].isna(), a, _pd_idx(last_day.fillna(pd.Timestamp(as_of))))
    end = np.minimum(end, a)
    discount = s["discount"].fillna(0.0) if "discount" in s else 0.0
    value = (
        s["amount"]
        * s["quantity"]
        * (1 - discount)
        / s["billing_interval"].map(MONTHS_PER_INTERVAL)
    ).to_numpy()
    n = np.clip(end - start + 1, 0, None)
    rep = np.repeat(np.arange(len(s)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    long = pd.DataFrame(
        {
            "customer_id": s["customer_id"].to_numpy()[rep],
            "month_idx": start[rep] + offset,
            "mrr": value[rep],
        }
    )
    m = long.groupby(["customer_id", "month_idx"], as_index=False, sort=False)["mrr"].sum()
    return m[m["mrr"] > 0]


def _pop_mrr(d: Path, as_of: dt.date, columns: list[str] | None = None):
    pop = pd_population(d, as_of, columns)
    m = pd_monthly_mrr(d, as_of)
    m = m[m["customer_id"].isin(pop["customer_id"])]
    return pop, m


def pd_segment_table(d: Path, as_of: dt.date, by: list[str]) -> pd.DataFrame:
    a = month_idx_of(as_of)
    pop, m = _pop_mrr(d, as_of, by)
    at_a = m[m["month_idx"] == a].set_index("customer_id")["mrr"]
    base = m[m["month_idx"] == a - WINDOW].set_index("customer_id")["mrr"]
    risk = m[(m["month_idx"] >= a - WINDOW) & (m["month_idx"] <= a - 1)][
        ["customer_id", "month_idx"]
    ]
    nxt = m[["customer_id", "month_idx"]].assign(month_idx=lambda x: x["month_idx"] - 1, stay=True)
    risk = risk.merge(nxt, on=["customer_id", "month_idx"], how="left")
    risk["churned"] = risk["stay"].isna()
    per = risk.groupby("customer_id").agg(at_risk=("month_idx", "size"), churned=("churned", "sum"))
    t = pop[["customer_id", *by]].set_index("customer_id")
    t["mrr_a"] = at_a.reindex(t.index).fillna(0.0)
    t["active_a"] = t.index.isin(at_a.index)
    t["nrr_base"] = base.reindex(t.index).fillna(0.0)
    t["nrr_end"] = np.where(t["nrr_base"] > 0, t["mrr_a"], 0.0)
    t = t.join(per).fillna({"at_risk": 0, "churned": 0})
    g = (
        t.groupby(by, dropna=False)
        .agg(
            customers=("mrr_a", "size"),
            active_customers=("active_a", "sum"),
            mrr=("mrr_a", "sum"),
            at_risk_customer_months=("at_risk", "sum"),
            churned_customer_months=("churned", "sum"),
            nrr_base=("nrr_base", "sum"),
            nrr_end=("nrr_end", "sum"),
        )
        .reset_index()
    )
    return _segment_ratios(g)


def _segment_ratios(g: pd.DataFrame) -> pd.DataFrame:
    g = g.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        g["arpa"] = g["mrr"] / g["active_customers"].replace(0, np.nan)
        g["churn_rate"] = g["churned_customer_months"] / g["at_risk_customer_months"].replace(
            0, np.nan
        )
        g["nrr_12m"] = np.where(
            g["nrr_base"] > 0, g["nrr_end"] / g["nrr_base"].where(g["nrr_base"] > 0), np.nan
        )
        g["ltv"] = np.where(
            g["churn_rate"] > 0, g["arpa"] / g["churn_rate"].where(g["churn_rate"] > 0), np.nan
        )
    return g


def pd_cohort_retention(d: Path, as_of: dt.date, metric: str = "logo") -> pd.DataFrame:
    a = month_idx_of(as_of)
    _, m = _pop_mrr(d, as_of)
    m = m.copy()
    m["cohort"] = m.groupby("customer_id")["month_idx"].transform("min")
    m["age"] = m["month_idx"] - m["cohort"]
    cell = m.groupby(["cohort", "age"]).agg(
        active_customers=("mrr", "size"), mrr_at_age=("mrr", "sum")
    )
    base = (
        m[m["age"] == 0]
        .groupby("cohort")
        .agg(cohort_customers=("mrr", "size"), mrr_base=("mrr", "sum"))
    )
    cohorts = base.index.to_numpy()
    n_age = a - cohorts + 1
    grid = pd.MultiIndex.from_arrays(
        [np.repeat(cohorts, n_age), np.concatenate([np.arange(k) for k in n_age])],
        names=["cohort", "age"],
    )
    out = cell.reindex(grid).fillna(0.0).join(base, on="cohort").reset_index()
    out["cohort"] = idx_to_ts(out["cohort"]).to_numpy()
    if metric == "logo":
        out["retention"] = out["active_customers"] / out["cohort_customers"]
        return out[["cohort", "age", "cohort_customers", "active_customers", "retention"]]
    out["nrr"] = out["mrr_at_age"] / out["mrr_base"].where(out["mrr_base"] > 0)
    return out[["cohort", "age", "mrr_base", "mrr_at_age", "nrr"]]


def pd_mrr_movements(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    _, m = _pop_mrr(d, as_of)
    lo = int(m["month_idx"].min())
    wide = m.pivot_table(index="customer_id", columns="month_idx", values="mrr", aggfunc="sum")
    wide = wide.reindex(columns=range(lo - 1, a + 1)).fillna(0.0).to_numpy()
    cur, prev = wide[:, 1:], wide[:, :-1]
    first = (cur > 0).argmax(axis=1)[:, None]  # every customer here has some MRR > 0
    col = np.arange(cur.shape[1])[None, :]
    starts = (prev == 0) & (cur > 0)
    diff = cur - prev
    out = pd.DataFrame(
        {
            "month": idx_to_ts(np.arange(lo, a + 1)),
            "mrr_start": prev.sum(0),
            "new": np.where(starts & (col == first), cur, 0).sum(0),
            "reactivation": np.where(starts & (col > first), cur, 0).sum(0),
            "expansion": np.where((prev > 0) & (diff > 0), diff, 0).sum(0),
            "contraction": np.where((cur > 0) & (diff < 0), -diff, 0).sum(0),
            "churn": np.where((prev > 0) & (cur == 0), prev, 0).sum(0),
            "mrr_end": cur.sum(0),
            "customers_start": (prev > 0).sum(0),
            "customers_end": (cur > 0).sum(0),
        }
    )
    return out


def _km(dur: pd.DataFrame) -> pd.DataFrame:
    """dur: columns duration, event (0/1) -> KM table like segwork.survival (no CI)."""
    t_max = int(dur["duration"].max())
    t = np.arange(t_max + 1)
    n_dur = np.bincount(dur["duration"], minlength=t_max + 1)
    d = np.bincount(dur["duration"], weights=dur["event"], minlength=t_max + 1).astype("int64")
    at_risk = n_dur[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(at_risk > 0, 1 - d / at_risk, 1.0)
    step[0] = 1.0
    return pd.DataFrame(
        {
            "tenure": t,
            "n_at_risk": at_risk,
            "n_events": d,
            "n_censored": n_dur - d,
            "survival": np.cumprod(step),
        }
    )


def pd_survival(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    _, m = _pop_mrr(d, as_of)
    m = m.sort_values(["customer_id", "month_idx"])
    g = m["month_idx"] - m.groupby("customer_id").cumcount()
    first_run = m[g == g.groupby(m["customer_id"]).transform("min")]
    per = first_run.groupby("customer_id")["month_idx"].agg(s="min", T="size")
    event = (per["s"] + per["T"]) <= a
    dur = pd.DataFrame(
        {
            "duration": np.where(event, per["T"], a - per["s"]).astype("int64"),
            "event": event.astype("int64"),
        }
    )
    return _km(dur)


def _quintile(values: pd.Series) -> pd.Series:
    r = values.rank(method="min")
    return (1 + np.floor(5 * (r - 1) / len(values))).astype("int64")


def _rfm_finish(per: pd.DataFrame) -> pd.DataFrame:
    per["r_score"] = _quintile(-per["recency_days"])
    per["f_score"] = _quintile(per["frequency"])
    per["m_score"] = _quintile(per["monetary"])
    names = {(r, f + 1): name for r, row in RFM_TABLE.items() for f, name in enumerate(row)}
    per["rfm_segment"] = [names[k] for k in zip(per["r_score"], per["f_score"], strict=True)]
    return per.sort_values("customer_id").reset_index(drop=True)


def pd_rfm(d: Path, as_of: dt.date) -> pd.DataFrame:
    pop = pd_population(d, as_of)
    tx = pd.read_parquet(
        d / "transactions.parquet", columns=["customer_id", "order_id", "date", "amount"]
    )
    tx["date"] = pd.to_datetime(tx["date"])
    tx = tx[(tx["date"] <= pd.Timestamp(as_of)) & tx["customer_id"].isin(pop["customer_id"])]
    per = (
        tx.groupby("customer_id")
        .agg(last=("date", "max"), frequency=("order_id", "nunique"), monetary=("amount", "sum"))
        .reset_index()
    )
    per["recency_days"] = (pd.Timestamp(as_of) - per.pop("last")).dt.days.astype("int64")
    return _rfm_finish(per[["customer_id", "recency_days", "frequency", "monetary"]].copy())


# ================================================================================================
# DuckDB SQL
# ================================================================================================
def _con(d: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in ("customers", "subscriptions", "mrr", "transactions"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{d / (t + '.parquet')}')")
    return con


def _mrr_cte(as_of: dt.date) -> str:
    """CTE ``m(customer_id, mi, mrr)``: population's customer-months with MRR > 0, months <= A."""
    return f"""
    pop AS (SELECT * FROM customers WHERE signup_date <= DATE '{as_of}'),
    m AS (
      SELECT r.customer_id, year(r.month) * 12 + month(r.month) - 1 AS mi, r.mrr
      FROM mrr r SEMI JOIN pop USING (customer_id)
      WHERE r.mrr > 0 AND year(r.month) * 12 + month(r.month) - 1 <= {month_idx_of(as_of)}
    )"""


def sql_segment_table(d: Path, as_of: dt.date, by: list[str]) -> pd.DataFrame:
    a, w = month_idx_of(as_of), WINDOW
    cols = ", ".join(by)
    q = f"""
    WITH {_mrr_cte(as_of)},
    r AS (
      SELECT *, lead(mi) OVER (PARTITION BY customer_id ORDER BY mi) AS nxt
      FROM m WHERE mi >= {a - w} OR mi = {a - w}
    ),
    per AS (
      SELECT customer_id,
        bool_or(mi = {a}) AS active_a,
        sum(CASE WHEN mi = {a} THEN mrr ELSE 0 END) AS mrr_a,
        count(*) FILTER (WHERE mi BETWEEN {a - w} AND {a - 1}) AS at_risk,
        count(*) FILTER (WHERE mi BETWEEN {a - w} AND {a - 1}
                         AND (nxt IS NULL OR nxt <> mi + 1)) AS churned,
        sum(CASE WHEN mi = {a - w} THEN mrr ELSE 0 END) AS nrr_base
      FROM r GROUP BY customer_id
    )
    SELECT {cols}, count(*) AS customers,
      sum(CASE WHEN coalesce(active_a, false) THEN 1 ELSE 0 END) AS active_customers,
      coalesce(sum(mrr_a), 0) AS mrr,
      coalesce(sum(at_risk), 0) AS at_risk_customer_months,
      coalesce(sum(churned), 0) AS churned_customer_months,
      coalesce(sum(nrr_base), 0) AS nrr_base,
      coalesce(sum(CASE WHEN nrr_base > 0 THEN mrr_a ELSE 0 END), 0) AS nrr_end
    FROM pop LEFT JOIN per USING (customer_id)
    GROUP BY ALL
    """
    with _con(d) as con:
        g = con.execute(q).df()
    return _segment_ratios(g)


def sql_cohort_retention(d: Path, as_of: dt.date, metric: str = "logo") -> pd.DataFrame:
    a = month_idx_of(as_of)
    q = f"""
    WITH {_mrr_cte(as_of)},
    mc AS (SELECT *, min(mi) OVER (PARTITION BY customer_id) AS cohort FROM m),
    base AS (SELECT cohort, count(*) AS cohort_customers, sum(mrr) AS mrr_base
             FROM mc WHERE mi = cohort GROUP BY cohort),
    cell AS (SELECT cohort, mi - cohort AS age, count(*) AS active_customers, sum(mrr) AS mrr_at_age
             FROM mc GROUP BY ALL),
    grid AS (SELECT cohort, cohort_customers, mrr_base, unnest(range(0, {a} - cohort + 1)) AS age
             FROM base)
    SELECT make_date(CAST(g.cohort // 12 AS INT), CAST(g.cohort % 12 + 1 AS INT), 1) AS cohort,
      g.age, g.cohort_customers, coalesce(c.active_customers, 0) AS active_customers,
      g.mrr_base, coalesce(c.mrr_at_age, 0) AS mrr_at_age
    FROM grid g LEFT JOIN cell c USING (cohort, age)
    ORDER BY g.cohort, g.age
    """
    with _con(d) as con:
        out = con.execute(q).df()
    out["cohort"] = pd.to_datetime(out["cohort"])
    if metric == "logo":
        out["retention"] = out["active_customers"] / out["cohort_customers"]
        return out[["cohort", "age", "cohort_customers", "active_customers", "retention"]]
    out["nrr"] = out["mrr_at_age"] / out["mrr_base"].where(out["mrr_base"] > 0)
    return out[["cohort", "age", "mrr_base", "mrr_at_age", "nrr"]]


def sql_mrr_movements(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    q = f"""
    WITH {_mrr_cte(as_of)},
    first AS (SELECT customer_id, min(mi) AS fi FROM m GROUP BY customer_id),
    both_ AS (
      SELECT coalesce(c.customer_id, p.customer_id) AS customer_id,
             coalesce(c.mi, p.mi + 1) AS mi,
             coalesce(c.mrr, 0) AS cur, coalesce(p.mrr, 0) AS prev
      FROM m c FULL OUTER JOIN m p ON c.customer_id = p.customer_id AND c.mi = p.mi + 1
    ),
    f AS (SELECT b.*, fi FROM both_ b JOIN first USING (customer_id) WHERE mi <= {a}),
    agg AS (
      SELECT mi, sum(prev) AS mrr_start,
        sum(CASE WHEN prev = 0 AND cur > 0 AND mi = fi THEN cur ELSE 0 END) AS new,
        sum(CASE WHEN prev = 0 AND cur > 0 AND mi > fi THEN cur ELSE 0 END) AS reactivation,
        sum(CASE WHEN prev > 0 AND cur > prev THEN cur - prev ELSE 0 END) AS expansion,
        sum(CASE WHEN cur > 0 AND cur < prev THEN prev - cur ELSE 0 END) AS contraction,
        sum(CASE WHEN prev > 0 AND cur = 0 THEN prev ELSE 0 END) AS churn,
        sum(cur) AS mrr_end,
        count(*) FILTER (WHERE prev > 0) AS customers_start,
        count(*) FILTER (WHERE cur > 0) AS customers_end
      FROM f GROUP BY mi
    ),
    cal AS (SELECT unnest(range((SELECT min(mi) FROM m), {a} + 1)) AS mi)
    SELECT make_date(CAST(mi // 12 AS INT), CAST(mi % 12 + 1 AS INT), 1) AS month, agg.* EXCLUDE (mi)
    FROM cal LEFT JOIN agg USING (mi) ORDER BY mi
    """
    with _con(d) as con:
        out = con.execute(q).df()
    out["month"] = pd.to_datetime(out["month"])
    return out.fillna(0)


def sql_survival(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    q = f"""
    WITH {_mrr_cte(as_of)},
    g AS (SELECT customer_id, mi, mi - row_number() OVER (PARTITION BY customer_id ORDER BY mi) AS grp
          FROM m),
    g0 AS (SELECT *, min(grp) OVER (PARTITION BY customer_id) AS grp0 FROM g),
    per AS (SELECT customer_id, min(mi) AS s, count(*) AS t FROM g0 WHERE grp = grp0 GROUP BY ALL)
    SELECT CASE WHEN s + t <= {a} THEN t ELSE {a} - s END AS duration,
           CASE WHEN s + t <= {a} THEN 1 ELSE 0 END AS event
    FROM per
    """
    # The KM product over the (tiny) duration histogram is done in numpy, as segwork does.
    q2 = f"SELECT duration, sum(event)::BIGINT AS d, count(*) AS n FROM ({q}) GROUP BY duration"
    with _con(d) as con:
        h = con.execute(q2).df()
    t_max = int(h["duration"].max())
    n = np.zeros(t_max + 1, dtype="int64")
    ev = np.zeros(t_max + 1, dtype="int64")
    n[h["duration"]] = h["n"]
    ev[h["duration"]] = h["d"]
    at_risk = n[::-1].cumsum()[::-1]
    step = np.where(at_risk > 0, 1 - ev / np.maximum(at_risk, 1), 1.0)
    step[0] = 1.0
    return pd.DataFrame(
        {
            "tenure": np.arange(t_max + 1),
            "n_at_risk": at_risk,
            "n_events": ev,
            "n_censored": n - ev,
            "survival": np.cumprod(step),
        }
    )


def sql_rfm(d: Path, as_of: dt.date) -> pd.DataFrame:
    q = f"""
    WITH pop AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '{as_of}'),
    per AS (
      SELECT customer_id, DATE '{as_of}' - max(date) AS recency_days,
             count(DISTINCT order_id) AS frequency, sum(amount)::DOUBLE AS monetary
      FROM transactions SEMI JOIN pop USING (customer_id)
      WHERE date <= DATE '{as_of}' GROUP BY customer_id
    )
    SELECT *,
      1 + floor(5 * (rank() OVER (ORDER BY recency_days DESC) - 1) / count(*) OVER ())::BIGINT AS r_score,
      1 + floor(5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER ())::BIGINT AS f_score,
      1 + floor(5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER ())::BIGINT AS m_score
    FROM per
    """
    names = [(r, f + 1, name) for r, row in RFM_TABLE.items() for f, name in enumerate(row)]
    seg = (
        "CASE "
        + " ".join(f"WHEN r_score = {r} AND f_score = {f} THEN '{n}'" for r, f, n in names)
        + " END"
    )
    q = f"SELECT *, {seg} AS rfm_segment FROM ({q}) ORDER BY customer_id"
    with _con(d) as con:
        out = con.execute(q).df()
    for c in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        out[c] = out[c].astype("int64")
    return out


# ================================================================================================
# Fastest hand-written DuckDB SQL (issue 25): what an expert writes for speed.  Same inputs and
# results as the sql_* above; the differences are the plans (EXPLAIN ANALYZE at 1M, see
# benchmarks/README.md "Fastest SQL"):
#   * dates are filtered as dates (``month <= DATE``, Parquet min/max pruning) and the month index
#     is computed on the surviving rows only;
#   * counts are count(*) over unique customer-month keys (the contract makes (customer_id, month)
#     unique), never count(DISTINCT);
#   * the 13-month churn window is a per-customer bitmask (one GROUP BY, no self-join, no window);
#   * the cohort of a customer is a GROUP BY joined back, not min() OVER (PARTITION BY);
#   * MRR movements and survival use one lag/lead pass instead of a full outer self-join;
#   * RFM frequency is a two-level GROUP BY instead of count(DISTINCT), and the R and F quintiles
#     come from a histogram of the (few) distinct values instead of a rank() sort.
# ================================================================================================
def _fast_m(as_of: dt.date, lo: dt.date | None = None) -> str:
    """CTEs ``pop`` and ``m(customer_id, mi, mrr)``, months filtered as dates (lo <= month <= A)."""
    low = f" AND r.month >= DATE '{lo}'" if lo is not None else ""
    return f"""
    pop AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '{as_of}'),
    m AS (
      SELECT r.customer_id, year(r.month) * 12 + month(r.month) - 1 AS mi, r.mrr
      FROM mrr r SEMI JOIN pop USING (customer_id)
      WHERE r.mrr > 0 AND r.month <= DATE '{as_of}'{low}
    )"""


def _month_start(idx: int) -> dt.date:
    return dt.date(idx // 12, idx % 12 + 1, 1)


def fast_sql_segment_table(d: Path, as_of: dt.date, by: list[str]) -> pd.DataFrame:
    a, w = month_idx_of(as_of), WINDOW
    lo = a - w
    cols = ", ".join(by)
    low12 = (1 << w) - 1
    q = f"""
    WITH per AS (
      SELECT customer_id,
        bit_or(1::UBIGINT << (year(month) * 12 + month(month) - 1 - {lo})) AS b,
        sum(mrr) FILTER (WHERE month = DATE '{_month_start(a)}') AS mrr_a,
        sum(mrr) FILTER (WHERE month = DATE '{_month_start(lo)}') AS nrr_base
      FROM mrr
      WHERE mrr > 0 AND month >= DATE '{_month_start(lo)}' AND month <= DATE '{as_of}'
      GROUP BY customer_id
    )
    SELECT {cols}, count(*) AS customers,
      count(*) FILTER (WHERE b >> {w} = 1) AS active_customers,
      coalesce(sum(mrr_a), 0) AS mrr,
      coalesce(sum(bit_count(b & {low12}::UBIGINT)), 0) AS at_risk_customer_months,
      coalesce(sum(bit_count(b & ~(b >> 1) & {low12}::UBIGINT)), 0) AS churned_customer_months,
      coalesce(sum(nrr_base), 0) AS nrr_base,
      coalesce(sum(mrr_a) FILTER (WHERE nrr_base > 0), 0) AS nrr_end
    FROM customers c LEFT JOIN per USING (customer_id)
    WHERE c.signup_date <= DATE '{as_of}'
    GROUP BY ALL
    """
    with _con(d) as con:
        g = con.execute(q).df()
    return _segment_ratios(g)


def fast_sql_cohort_retention(d: Path, as_of: dt.date, metric: str = "logo") -> pd.DataFrame:
    a = month_idx_of(as_of)
    q = f"""
    WITH {_fast_m(as_of)},
    f AS (SELECT customer_id, min(mi) AS cohort FROM m GROUP BY customer_id),
    cell AS (SELECT cohort, mi - cohort AS age, count(*) AS active_customers,
                    sum(mrr) AS mrr_at_age
             FROM m JOIN f USING (customer_id) GROUP BY ALL),
    grid AS (SELECT cohort, active_customers AS cohort_customers, mrr_at_age AS mrr_base,
                    unnest(range(0, {a} - cohort + 1)) AS age
             FROM cell WHERE age = 0)
    SELECT make_date(CAST(g.cohort // 12 AS INT), CAST(g.cohort % 12 + 1 AS INT), 1) AS cohort,
      g.age, g.cohort_customers, coalesce(c.active_customers, 0) AS active_customers,
      g.mrr_base, coalesce(c.mrr_at_age, 0) AS mrr_at_age
    FROM grid g LEFT JOIN cell c USING (cohort, age)
    ORDER BY g.cohort, g.age
    """
    with _con(d) as con:
        out = con.execute(q).df()
    out["cohort"] = pd.to_datetime(out["cohort"])
    if metric == "logo":
        out["retention"] = out["active_customers"] / out["cohort_customers"]
        return out[["cohort", "age", "cohort_customers", "active_customers", "retention"]]
    out["nrr"] = out["mrr_at_age"] / out["mrr_base"].where(out["mrr_base"] > 0)
    return out[["cohort", "age", "mrr_base", "mrr_at_age", "nrr"]]


def fast_sql_mrr_movements(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    q = f"""
    WITH {_fast_m(as_of)},
    w AS (
      SELECT mi, mrr, lag(mi) OVER s AS pmi, lag(mrr) OVER s AS pmrr, lead(mi) OVER s AS nmi
      FROM m WINDOW s AS (PARTITION BY customer_id ORDER BY mi)
    ),
    cur AS (
      SELECT mi,
        sum(CASE WHEN pmi IS NULL THEN mrr ELSE 0 END) AS new,
        sum(CASE WHEN pmi < mi - 1 THEN mrr ELSE 0 END) AS reactivation,
        sum(CASE WHEN pmi = mi - 1 AND mrr > pmrr THEN mrr - pmrr ELSE 0 END) AS expansion,
        sum(CASE WHEN pmi = mi - 1 AND mrr < pmrr THEN pmrr - mrr ELSE 0 END) AS contraction,
        sum(CASE WHEN pmi = mi - 1 THEN pmrr ELSE 0 END) AS kept_start,
        count(*) FILTER (WHERE pmi = mi - 1) AS kept_n,
        sum(mrr) AS mrr_end, count(*) AS customers_end
      FROM w GROUP BY mi
    ),
    gone AS (
      SELECT mi + 1 AS mi, sum(mrr) AS churn, count(*) AS churn_n
      FROM w WHERE (nmi IS NULL OR nmi > mi + 1) AND mi + 1 <= {a} GROUP BY ALL
    ),
    cal AS (SELECT unnest(range((SELECT min(mi) FROM cur), {a} + 1)) AS mi)
    SELECT make_date(CAST(mi // 12 AS INT), CAST(mi % 12 + 1 AS INT), 1) AS month,
      coalesce(kept_start, 0) + coalesce(churn, 0) AS mrr_start,
      coalesce(new, 0) AS new, coalesce(reactivation, 0) AS reactivation,
      coalesce(expansion, 0) AS expansion, coalesce(contraction, 0) AS contraction,
      coalesce(churn, 0) AS churn, coalesce(mrr_end, 0) AS mrr_end,
      coalesce(kept_n, 0) + coalesce(churn_n, 0) AS customers_start,
      coalesce(customers_end, 0) AS customers_end
    FROM cal LEFT JOIN cur USING (mi) LEFT JOIN gone USING (mi) ORDER BY mi
    """
    with _con(d) as con:
        out = con.execute(q).df()
    out["month"] = pd.to_datetime(out["month"])
    return out


def _km_from_hist(h: pd.DataFrame) -> pd.DataFrame:
    t_max = int(h["duration"].max())
    n = np.zeros(t_max + 1, dtype="int64")
    ev = np.zeros(t_max + 1, dtype="int64")
    n[h["duration"].to_numpy()] = h["n"].to_numpy()
    ev[h["duration"].to_numpy()] = h["d"].to_numpy()
    at_risk = n[::-1].cumsum()[::-1]
    step = np.where(at_risk > 0, 1 - ev / np.maximum(at_risk, 1), 1.0)
    step[0] = 1.0
    return pd.DataFrame(
        {
            "tenure": np.arange(t_max + 1),
            "n_at_risk": at_risk,
            "n_events": ev,
            "n_censored": n - ev,
            "survival": np.cumprod(step),
        }
    )


def fast_sql_survival(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    q = f"""
    WITH {_fast_m(as_of)},
    w AS (SELECT customer_id, mi,
                 lead(mi) OVER (PARTITION BY customer_id ORDER BY mi) AS nmi FROM m),
    per AS (SELECT min(mi) AS s, min(mi) FILTER (WHERE nmi IS NULL OR nmi > mi + 1) AS e
            FROM w GROUP BY customer_id)
    SELECT CASE WHEN e < {a} THEN e - s + 1 ELSE {a} - s END AS duration,
           count(*) FILTER (WHERE e < {a}) AS d, count(*) AS n
    FROM per GROUP BY ALL
    """
    with _con(d) as con:
        h = con.execute(q).df()
    return _km_from_hist(h)


def fast_sql_rfm(d: Path, as_of: dt.date) -> pd.DataFrame:
    names = [(r, f + 1, name) for r, row in RFM_TABLE.items() for f, name in enumerate(row)]
    seg = (
        "CASE "
        + " ".join(f"WHEN r_score = {r} AND f_score = {f} THEN '{n}'" for r, f, n in names)
        + " END"
    )
    q = f"""
    WITH pop AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '{as_of}'),
    o AS (
      SELECT customer_id, max(date) AS last, sum(amount) AS amount
      FROM transactions SEMI JOIN pop USING (customer_id)
      WHERE date <= DATE '{as_of}' GROUP BY customer_id, order_id
    ),
    per AS (
      SELECT customer_id, DATE '{as_of}' - max(last) AS recency_days, count(*) AS frequency,
             sum(amount)::DOUBLE AS monetary
      FROM o GROUP BY customer_id
    ),
    n AS (SELECT count(*) AS n FROM per),
    rh AS (SELECT recency_days, 1 + floor(5 * (coalesce(sum(count(*)) OVER (ORDER BY recency_days
              DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) / (SELECT n FROM n))::BIGINT
              AS r_score FROM per GROUP BY recency_days),
    fh AS (SELECT frequency, 1 + floor(5 * (coalesce(sum(count(*)) OVER (ORDER BY frequency
              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) / (SELECT n FROM n))::BIGINT
              AS f_score FROM per GROUP BY frequency),
    scored AS (
      SELECT per.*, r_score, f_score,
        1 + floor(5 * (rank() OVER (ORDER BY monetary) - 1) / (SELECT n FROM n))::BIGINT AS m_score
      FROM per JOIN rh USING (recency_days) JOIN fh USING (frequency)
    )
    SELECT *, {seg} AS rfm_segment FROM scored ORDER BY customer_id
    """
    with _con(d) as con:
        out = con.execute(q).df()
    for c in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        out[c] = out[c].astype("int64")
    return out


# ================================================================================================
# Polars (lazy, reading the same Parquet files; the same inputs and results as the SQL)
# ================================================================================================
def _pl():
    import polars as pl

    return pl


def _pl_m(d: Path, as_of: dt.date, lo: dt.date | None = None):
    """LazyFrames (population ids, m: customer_id, mi, mrr) like :func:`_fast_m`."""
    pl = _pl()
    pop = (
        pl.scan_parquet(d / "customers.parquet")
        .filter(pl.col("signup_date") <= as_of)
        .select("customer_id")
    )
    cond = (pl.col("mrr") > 0) & (pl.col("month") <= as_of)
    if lo is not None:
        cond = cond & (pl.col("month") >= lo)
    m = (
        pl.scan_parquet(d / "mrr.parquet")
        .filter(cond)
        .join(pop, on="customer_id", how="semi")
        .select(
            "customer_id",
            (pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month() - 1).alias(
                "mi"
            ),
            "mrr",
        )
    )
    return pop, m


def pl_load(d: Path) -> dict:
    pl = _pl()
    return {p.stem: pl.read_parquet(p) for p in sorted(d.glob("*.parquet"))}


def pl_segment_table(d: Path, as_of: dt.date, by: list[str]) -> pd.DataFrame:
    pl = _pl()
    a, w = month_idx_of(as_of), WINDOW
    lo = a - w
    c = pl.col
    cust = (
        pl.scan_parquet(d / "customers.parquet")
        .filter(c("signup_date") <= as_of)
        .select("customer_id", *by)
    )
    per = (
        pl.scan_parquet(d / "mrr.parquet")
        .filter((c("mrr") > 0) & (c("month") >= _month_start(lo)) & (c("month") <= as_of))
        .with_columns(
            (c("month").dt.year().cast(pl.Int64) * 12 + c("month").dt.month() - 1 - lo).alias("k")
        )
        .group_by("customer_id")
        .agg(
            pl.lit(1, pl.UInt64).bitwise_left_shift(c("k")).bitwise_or().alias("b")
            if hasattr(pl.Expr, "bitwise_left_shift")
            else (pl.lit(2, pl.UInt64).pow(c("k")).cast(pl.UInt64)).sum().alias("b"),
            c("mrr").filter(c("k") == w).sum().alias("mrr_a"),
            c("mrr").filter(c("k") == 0).sum().alias("nrr_base"),
        )
    )
    low = (1 << w) - 1
    b = c("b")
    t = cust.join(per, on="customer_id", how="left").with_columns(
        active=(b >= (1 << w)).fill_null(False),
        at_risk=(b & low).bitwise_count_ones().fill_null(0),
        churned=(b & ~(b >> 1 if hasattr(pl.Expr, "__rshift__") else b // 2) & low)
        .bitwise_count_ones()
        .fill_null(0),
        mrr_a=c("mrr_a").fill_null(0.0),
        nrr_base=c("nrr_base").fill_null(0.0),
    )
    g = (
        t.group_by(by)
        .agg(
            pl.len().alias("customers"),
            c("active").sum().alias("active_customers"),
            c("mrr_a").sum().alias("mrr"),
            c("at_risk").sum().alias("at_risk_customer_months"),
            c("churned").sum().alias("churned_customer_months"),
            c("nrr_base").sum().alias("nrr_base"),
            c("mrr_a").filter(c("nrr_base") > 0).sum().alias("nrr_end"),
        )
        .collect()
        .to_pandas()
    )
    return _segment_ratios(g)


def pl_cohort_retention(d: Path, as_of: dt.date, metric: str = "logo") -> pd.DataFrame:
    pl = _pl()
    a = month_idx_of(as_of)
    c = pl.col
    _, m = _pl_m(d, as_of)
    m = m.with_columns(cohort=c("mi").min().over("customer_id"))
    cell = (
        m.group_by("cohort", (c("mi") - c("cohort")).alias("age"))
        .agg(pl.len().alias("active_customers"), c("mrr").sum().alias("mrr_at_age"))
        .collect()
    )
    base = cell.filter(c("age") == 0).select(
        "cohort", cohort_customers="active_customers", mrr_base="mrr_at_age"
    )
    grid = base.with_columns(age=pl.int_ranges(0, a - c("cohort") + 1)).explode("age")
    out = (
        grid.join(cell, on=["cohort", "age"], how="left")
        .with_columns(c("active_customers").fill_null(0), c("mrr_at_age").fill_null(0.0))
        .sort("cohort", "age")
        .to_pandas()
    )
    out["cohort"] = idx_to_ts(out["cohort"]).to_numpy()
    if metric == "logo":
        out["retention"] = out["active_customers"] / out["cohort_customers"]
        return out[["cohort", "age", "cohort_customers", "active_customers", "retention"]]
    out["nrr"] = out["mrr_at_age"] / out["mrr_base"].where(out["mrr_base"] > 0)
    return out[["cohort", "age", "mrr_base", "mrr_at_age", "nrr"]]


def pl_mrr_movements(d: Path, as_of: dt.date) -> pd.DataFrame:
    pl = _pl()
    a = month_idx_of(as_of)
    c = pl.col
    _, m = _pl_m(d, as_of)
    w = m.sort("customer_id", "mi").with_columns(
        pmi=c("mi").shift(1).over("customer_id"),
        pmrr=c("mrr").shift(1).over("customer_id"),
        nmi=c("mi").shift(-1).over("customer_id"),
    )
    kept = c("pmi") == c("mi") - 1
    cur = w.group_by("mi").agg(
        c("mrr").filter(c("pmi").is_null()).sum().alias("new"),
        c("mrr").filter(c("pmi") < c("mi") - 1).sum().alias("reactivation"),
        (c("mrr") - c("pmrr")).filter(kept & (c("mrr") > c("pmrr"))).sum().alias("expansion"),
        (c("pmrr") - c("mrr")).filter(kept & (c("mrr") < c("pmrr"))).sum().alias("contraction"),
        c("pmrr").filter(kept).sum().alias("kept_start"),
        kept.sum().alias("kept_n"),
        c("mrr").sum().alias("mrr_end"),
        pl.len().alias("customers_end"),
    )
    gone = (
        w.filter((c("nmi").is_null() | (c("nmi") > c("mi") + 1)) & (c("mi") + 1 <= a))
        .group_by((c("mi") + 1).alias("mi"))
        .agg(c("mrr").sum().alias("churn"), pl.len().alias("churn_n"))
    )
    cur_df, gone_df = pl.collect_all([cur, gone])
    lo = int(cur_df["mi"].min())
    cal = pl.DataFrame({"mi": np.arange(lo, a + 1, dtype="int64")})
    out = (
        cal.join(cur_df, on="mi", how="left")
        .join(gone_df, on="mi", how="left")
        .fill_null(0)
        .sort("mi")
        .to_pandas()
    )
    out["mrr_start"] = out["kept_start"] + out["churn"]
    out["customers_start"] = out["kept_n"] + out["churn_n"]
    out.insert(0, "month", idx_to_ts(out.pop("mi")).to_numpy())
    return out


def pl_survival(d: Path, as_of: dt.date) -> pd.DataFrame:
    pl = _pl()
    a = month_idx_of(as_of)
    c = pl.col
    _, m = _pl_m(d, as_of)
    per = (
        m.sort("customer_id", "mi")
        .with_columns(nmi=c("mi").shift(-1).over("customer_id"))
        .group_by("customer_id")
        .agg(
            c("mi").min().alias("s"),
            c("mi").filter(c("nmi").is_null() | (c("nmi") > c("mi") + 1)).min().alias("e"),
        )
    )
    event = c("e") < a
    h = (
        per.group_by(
            pl.when(event).then(c("e") - c("s") + 1).otherwise(a - c("s")).alias("duration")
        )
        .agg(event.sum().alias("d"), pl.len().alias("n"))
        .collect()
        .to_pandas()
    )
    return _km_from_hist(h)


def pl_rfm(d: Path, as_of: dt.date) -> pd.DataFrame:
    pl = _pl()
    c = pl.col
    pop = (
        pl.scan_parquet(d / "customers.parquet")
        .filter(c("signup_date") <= as_of)
        .select("customer_id")
    )
    per = (
        pl.scan_parquet(d / "transactions.parquet")
        .filter(c("date") <= as_of)
        .join(pop, on="customer_id", how="semi")
        .group_by("customer_id")
        .agg(
            (pl.lit(as_of) - c("date").max()).dt.total_days().alias("recency_days"),
            c("order_id").n_unique().alias("frequency"),
            c("amount").sum().cast(pl.Float64).alias("monetary"),
        )
    )
    n = pl.len()

    def q(x):
        return (1 + (5 * (x.rank("min") - 1) / n).floor()).cast(pl.Int64)

    out = per.with_columns(
        r_score=q(-c("recency_days")), f_score=q(c("frequency")), m_score=q(c("monetary"))
    )
    names = pl.DataFrame(
        [(r, f + 1, name) for r, row in RFM_TABLE.items() for f, name in enumerate(row)],
        schema={"r_score": pl.Int64, "f_score": pl.Int64, "rfm_segment": pl.String},
        orient="row",
    )
    out = out.join(names.lazy(), on=["r_score", "f_score"], how="left").sort("customer_id")
    res = out.collect().to_pandas()
    for col in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        res[col] = res[col].astype("int64")
    return res


# ================================================================================================
# Predicted customer value (docs/metrics.md "Predicted customer value"): the per-customer summary
# is the engines' work; the BG/NBD and Gamma-Gamma fits are numpy/scipy, the same code for every
# engine (segwork.clv's fits on the engine's summary), so the clv row's ratios show the summary.
# ================================================================================================
WEEK_DAYS = 7.0


def _clv_finish(df: pd.DataFrame) -> pd.DataFrame:
    """``customer_id, frequency, recency, T, monetary_value`` (weeks) from days, by customer."""
    df = df.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            "customer_id": df["customer_id"].astype("int64"),
            "frequency": df["frequency"].astype("int64"),
            "recency": df["recency_days"].astype("float64") / WEEK_DAYS,
            "T": df["T_days"].astype("float64") / WEEK_DAYS,
            "monetary_value": pd.to_numeric(df["monetary_value"]).astype("float64"),
        }
    )


def _clv_predict(summary: pd.DataFrame) -> pd.DataFrame:
    from segwork.clv import clv_from_fits, fit_bg_nbd, fit_value_model

    gg, error = fit_value_model(summary, "missing")
    return clv_from_fits(summary, fit_bg_nbd(summary), gg, value_error=error)


def pd_clv_summary(d: Path, as_of: dt.date) -> pd.DataFrame:
    tx = pd.read_parquet(d / "transactions.parquet", columns=["customer_id", "date", "amount"])
    tx["date"] = pd.to_datetime(tx["date"])
    tx = tx[tx["date"] <= pd.Timestamp(as_of)]
    days = tx.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    days["first"] = days.groupby("customer_id")["date"].transform("min")
    days["repeat"] = days["amount"].where(days["date"] > days["first"], 0.0)
    per = days.groupby("customer_id").agg(
        first=("date", "min"), last=("date", "max"), n=("date", "size"), repeat=("repeat", "sum")
    )
    freq = per["n"] - 1
    return _clv_finish(
        pd.DataFrame(
            {
                "customer_id": per.index,
                "frequency": freq.to_numpy(),
                "recency_days": (per["last"] - per["first"]).dt.days.to_numpy(),
                "T_days": (pd.Timestamp(as_of) - per["first"]).dt.days.to_numpy(),
                "monetary_value": (per["repeat"] / freq.where(freq > 0)).to_numpy(),
            }
        )
    )


def pd_clv(d: Path, as_of: dt.date) -> pd.DataFrame:
    return _clv_predict(pd_clv_summary(d, as_of))


def sql_clv_summary(d: Path, as_of: dt.date) -> pd.DataFrame:
    """As written first: the first purchase day as a window over each customer's days."""
    q = f"""
    WITH days AS (
      SELECT customer_id, date, sum(amount) AS a FROM transactions
      WHERE date <= DATE '{as_of}' GROUP BY customer_id, date
    ),
    w AS (SELECT *, min(date) OVER (PARTITION BY customer_id) AS f FROM days)
    SELECT customer_id, count(*) - 1 AS frequency, max(date) - min(date) AS recency_days,
      DATE '{as_of}' - min(date) AS T_days,
      sum(a) FILTER (WHERE date > f) / nullif(count(*) - 1, 0) AS monetary_value
    FROM w GROUP BY customer_id
    """
    with _con(d) as con:
        return _clv_finish(con.execute(q).df())


def sql_clv(d: Path, as_of: dt.date) -> pd.DataFrame:
    return _clv_predict(sql_clv_summary(d, as_of))


def fast_sql_clv_summary(d: Path, as_of: dt.date) -> pd.DataFrame:
    """The first purchase day as a GROUP BY joined on, not a window (about twice as fast at
    1M); the repeat amount summed over the later days, not the total minus the first day's (a
    subtraction that would change the last digits)."""
    q = f"""
    WITH t AS (SELECT customer_id, date, amount FROM transactions WHERE date <= DATE '{as_of}'),
    days AS (SELECT customer_id, date, sum(amount) AS a FROM t GROUP BY customer_id, date),
    f AS (SELECT customer_id, min(date) AS f FROM t GROUP BY customer_id)
    SELECT customer_id, count(*) - 1 AS frequency, max(date) - min(date) AS recency_days,
      DATE '{as_of}' - min(date) AS T_days,
      sum(a) FILTER (WHERE date > f) / nullif(count(*) - 1, 0) AS monetary_value
    FROM days JOIN f USING (customer_id) GROUP BY customer_id
    """
    with _con(d) as con:
        return _clv_finish(con.execute(q).df())


def fast_sql_clv(d: Path, as_of: dt.date) -> pd.DataFrame:
    return _clv_predict(fast_sql_clv_summary(d, as_of))


def pl_clv_summary(d: Path, as_of: dt.date) -> pd.DataFrame:
    pl = _pl()
    c = pl.col
    days = (
        pl.scan_parquet(d / "transactions.parquet")
        .filter(c("date") <= as_of)
        .group_by("customer_id", "date")
        .agg(c("amount").sum())
    )
    per = days.group_by("customer_id").agg(
        (pl.len() - 1).alias("frequency"),
        (c("date").max() - c("date").min()).dt.total_days().alias("recency_days"),
        (pl.lit(as_of) - c("date").min()).dt.total_days().alias("T_days"),
        c("amount").filter(c("date") > c("date").min()).sum().alias("repeat"),
    )
    per = per.with_columns(
        monetary_value=pl.when(c("frequency") > 0).then(c("repeat") / c("frequency"))
    )
    return _clv_finish(per.collect().to_pandas())


def pl_clv(d: Path, as_of: dt.date) -> pd.DataFrame:
    return _clv_predict(pl_clv_summary(d, as_of))


# ================================================================================================
# MRR movements in several currencies (docs/metrics.md "MRR movements", "Currencies"): the same
# data with each customer's MRR in USD, EUR or GBP and a monthly ``fx`` table (run.py writes it
# next to the data, ``cache/<n>-fx``).  Month m's MRR is valued at m's rates, a churn is last
# month's MRR at this month's rates, and fx_adjustment is the start MRR's change of value.
# ================================================================================================
BASE_CURRENCY = "USD"


def _con_fx(d: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in ("customers", "mrr", "fx"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{d / (t + '.parquet')}')")
    return con


def _fx_m(as_of: dt.date) -> str:
    """CTEs ``pop``, ``m`` (native rows), ``fx(currency, mi, rate)`` and ``v(customer_id, mi,
    mrr, next_at)``: each customer-month's MRR at its month's rates and at the next month's."""
    return f"""
    pop AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '{as_of}'),
    m AS (
      SELECT r.customer_id, r.currency, year(r.month) * 12 + month(r.month) - 1 AS mi, r.mrr
      FROM mrr r SEMI JOIN pop USING (customer_id)
      WHERE r.mrr > 0 AND r.month <= DATE '{as_of}'
    ),
    fx AS (SELECT currency, year(month) * 12 + month(month) - 1 AS mi, rate FROM fx),
    v AS (
      SELECT m.customer_id, m.mi,
        sum(m.mrr * CASE WHEN m.currency = '{BASE_CURRENCY}' THEN 1.0 ELSE f0.rate END) AS mrr,
        sum(m.mrr * CASE WHEN m.currency = '{BASE_CURRENCY}' THEN 1.0 ELSE f1.rate END) AS next_at
      FROM m LEFT JOIN fx f0 ON f0.currency = m.currency AND f0.mi = m.mi
        LEFT JOIN fx f1 ON f1.currency = m.currency AND f1.mi = m.mi + 1
      GROUP BY m.customer_id, m.mi
    )"""


def sql_mrr_movements_fx(d: Path, as_of: dt.date) -> pd.DataFrame:
    """As the definition reads: a full outer join of each month with the previous one."""
    a = month_idx_of(as_of)
    q = f"""
    WITH {_fx_m(as_of)},
    first AS (SELECT customer_id, min(mi) AS fi FROM v GROUP BY customer_id),
    both_ AS (
      SELECT coalesce(c.customer_id, p.customer_id) AS customer_id,
             coalesce(c.mi, p.mi + 1) AS mi, coalesce(c.mrr, 0) AS cur,
             coalesce(p.mrr, 0) AS prev, coalesce(p.next_at, 0) AS prev_at
      FROM v c FULL OUTER JOIN v p ON c.customer_id = p.customer_id AND c.mi = p.mi + 1
    ),
    f AS (SELECT b.*, fi FROM both_ b JOIN first USING (customer_id) WHERE mi <= {a}),
    agg AS (
      SELECT mi, sum(prev) AS mrr_start,
        sum(CASE WHEN prev = 0 AND cur > 0 AND mi = fi THEN cur ELSE 0 END) AS new,
        sum(CASE WHEN prev = 0 AND cur > 0 AND mi > fi THEN cur ELSE 0 END) AS reactivation,
        sum(CASE WHEN prev > 0 AND cur > prev_at THEN cur - prev_at ELSE 0 END) AS expansion,
        sum(CASE WHEN cur > 0 AND cur < prev_at THEN prev_at - cur ELSE 0 END) AS contraction,
        sum(CASE WHEN prev > 0 AND cur = 0 THEN prev_at ELSE 0 END) AS churn,
        sum(prev_at - prev) AS fx_adjustment,
        sum(cur) AS mrr_end,
        count(*) FILTER (WHERE prev > 0) AS customers_start,
        count(*) FILTER (WHERE cur > 0) AS customers_end
      FROM f GROUP BY mi
    ),
    cal AS (SELECT unnest(range((SELECT min(mi) FROM v), {a} + 1)) AS mi)
    SELECT make_date(CAST(mi // 12 AS INT), CAST(mi % 12 + 1 AS INT), 1) AS month, agg.* EXCLUDE (mi)
    FROM cal LEFT JOIN agg USING (mi) ORDER BY mi
    """
    with _con_fx(d) as con:
        out = con.execute(q).df()
    out["month"] = pd.to_datetime(out["month"])
    return out.fillna(0)


def fast_sql_mrr_movements_fx(d: Path, as_of: dt.date) -> pd.DataFrame:
    """One lag/lead pass over each customer's months valued in base currency (as the
    single-currency fast query), each row also carrying its MRR at the next month's rates."""
    a = month_idx_of(as_of)
    q = f"""
    WITH {_fx_m(as_of)},
    w AS (
      SELECT mi, mrr, next_at, lag(mi) OVER s AS pmi, lag(mrr) OVER s AS pmrr,
        lag(next_at) OVER s AS pat, lead(mi) OVER s AS nmi
      FROM v WINDOW s AS (PARTITION BY customer_id ORDER BY mi)
    ),
    cur AS (
      SELECT mi,
        sum(CASE WHEN pmi IS NULL THEN mrr ELSE 0 END) AS new,
        sum(CASE WHEN pmi < mi - 1 THEN mrr ELSE 0 END) AS reactivation,
        sum(CASE WHEN pmi = mi - 1 AND mrr > pat THEN mrr - pat ELSE 0 END) AS expansion,
        sum(CASE WHEN pmi = mi - 1 AND mrr < pat THEN pat - mrr ELSE 0 END) AS contraction,
        sum(CASE WHEN pmi = mi - 1 THEN pmrr ELSE 0 END) AS kept_start,
        sum(CASE WHEN pmi = mi - 1 THEN pat - pmrr ELSE 0 END) AS kept_fx,
        count(*) FILTER (WHERE pmi = mi - 1) AS kept_n,
        sum(mrr) AS mrr_end, count(*) AS customers_end
      FROM w GROUP BY mi
    ),
    gone AS (
      SELECT mi + 1 AS mi, sum(mrr) AS gone_start, sum(next_at) AS churn, count(*) AS churn_n
      FROM w WHERE (nmi IS NULL OR nmi > mi + 1) AND mi + 1 <= {a} GROUP BY ALL
    ),
    cal AS (SELECT unnest(range((SELECT min(mi) FROM cur), {a} + 1)) AS mi)
    SELECT make_date(CAST(mi // 12 AS INT), CAST(mi % 12 + 1 AS INT), 1) AS month,
      coalesce(kept_start, 0) + coalesce(gone_start, 0) AS mrr_start,
      coalesce(new, 0) AS new, coalesce(reactivation, 0) AS reactivation,
      coalesce(expansion, 0) AS expansion, coalesce(contraction, 0) AS contraction,
      coalesce(churn, 0) AS churn,
      coalesce(kept_fx, 0) + coalesce(churn, 0) - coalesce(gone_start, 0) AS fx_adjustment,
      coalesce(mrr_end, 0) AS mrr_end,
      coalesce(kept_n, 0) + coalesce(churn_n, 0) AS customers_start,
      coalesce(customers_end, 0) AS customers_end
    FROM cal LEFT JOIN cur USING (mi) LEFT JOIN gone USING (mi) ORDER BY mi
    """
    with _con_fx(d) as con:
        out = con.execute(q).df()
    out["month"] = pd.to_datetime(out["month"])
    return out


def pl_mrr_movements_fx(d: Path, as_of: dt.date) -> pd.DataFrame:
    pl = _pl()
    c = pl.col
    a = month_idx_of(as_of)
    pop = (
        pl.scan_parquet(d / "customers.parquet")
        .filter(c("signup_date") <= as_of)
        .select("customer_id")
    )

    def idx(col):
        return c(col).dt.year().cast(pl.Int64) * 12 + c(col).dt.month().cast(pl.Int64) - 1

    fx = pl.scan_parquet(d / "fx.parquet").select("currency", mi=idx("month"), rate=c("rate"))
    m = (
        pl.scan_parquet(d / "mrr.parquet")
        .filter((c("mrr") > 0) & (c("month") <= as_of))
        .join(pop, on="customer_id", how="semi")
        .select("customer_id", "currency", c("mrr"), mi=idx("month"))
    )
    base = c("currency") == BASE_CURRENCY
    v = (
        m.join(fx, on=["currency", "mi"], how="left")
        .join(
            fx.select("currency", mi=c("mi") - 1, rate1=c("rate")),
            on=["currency", "mi"],
            how="left",
        )
        .with_columns(
            at=c("mrr") * pl.when(base).then(1.0).otherwise(c("rate")),
            at1=c("mrr") * pl.when(base).then(1.0).otherwise(c("rate1")),
        )
        .group_by("customer_id", "mi")
        .agg(mrr=c("at").sum(), next_at=c("at1").sum())
        .sort("customer_id", "mi")
    )
    w = v.with_columns(
        pmi=c("mi").shift(1).over("customer_id"),
        pmrr=c("mrr").shift(1).over("customer_id"),
        pat=c("next_at").shift(1).over("customer_id"),
        nmi=c("mi").shift(-1).over("customer_id"),
    )
    kept = c("pmi") == c("mi") - 1
    zero = pl.lit(0.0)
    cur = w.group_by("mi").agg(
        new=pl.when(c("pmi").is_null()).then(c("mrr")).otherwise(zero).sum(),
        reactivation=pl.when(c("pmi") < c("mi") - 1).then(c("mrr")).otherwise(zero).sum(),
        expansion=pl.when(kept & (c("mrr") > c("pat")))
        .then(c("mrr") - c("pat"))
        .otherwise(zero)
        .sum(),
        contraction=pl.when(kept & (c("mrr") < c("pat")))
        .then(c("pat") - c("mrr"))
        .otherwise(zero)
        .sum(),
        kept_start=pl.when(kept).then(c("pmrr")).otherwise(zero).sum(),
        kept_fx=pl.when(kept).then(c("pat") - c("pmrr")).otherwise(zero).sum(),
        kept_n=kept.fill_null(False).sum(),
        mrr_end=c("mrr").sum(),
        customers_end=pl.len(),
    )
    gone = (
        w.filter((c("nmi").is_null() | (c("nmi") > c("mi") + 1)) & (c("mi") + 1 <= a))
        .group_by(mi=c("mi") + 1)
        .agg(gone_start=c("mrr").sum(), churn=c("next_at").sum(), churn_n=pl.len())
    )
    res = cur.join(gone, on="mi", how="full", coalesce=True).collect().to_pandas()
    lo = int(res["mi"].min())
    cal = pd.DataFrame({"mi": np.arange(lo, a + 1)})
    res = cal.merge(res, on="mi", how="left").fillna(0)
    out = pd.DataFrame(
        {
            "month": idx_to_ts(res["mi"]),
            "mrr_start": res["kept_start"] + res["gone_start"],
            "new": res["new"],
            "reactivation": res["reactivation"],
            "expansion": res["expansion"],
            "contraction": res["contraction"],
            "churn": res["churn"],
            "fx_adjustment": res["kept_fx"] + res["churn"] - res["gone_start"],
            "mrr_end": res["mrr_end"],
            "customers_start": (res["kept_n"] + res["churn_n"]).astype("int64"),
            "customers_end": res["customers_end"].astype("int64"),
        }
    )
    return out


def pd_mrr_movements_fx(d: Path, as_of: dt.date) -> pd.DataFrame:
    a = month_idx_of(as_of)
    pop = pd_population(d, as_of)
    m = pd.read_parquet(d / "mrr.parquet", columns=["customer_id", "month", "mrr", "currency"])
    m["month_idx"] = _pd_idx(pd.to_datetime(m["month"]))
    m = m[(m["mrr"] > 0) & (m["month_idx"] <= a) & m["customer_id"].isin(pop["customer_id"])]
    fx = pd.read_parquet(d / "fx.parquet")
    fx["month_idx"] = _pd_idx(pd.to_datetime(fx["month"]))
    rates = fx.set_index(["currency", "month_idx"])["rate"]
    lo = int(m["month_idx"].min())
    months = range(lo - 1, a + 2)
    # native MRR per customer x currency x month, and each currency's rate of every month
    wide = (
        m.pivot_table(
            index=["customer_id", "currency"], columns="month_idx", values="mrr", aggfunc="sum"
        )
        .reindex(columns=months)
        .fillna(0.0)
    )
    cur_codes = wide.index.get_level_values("currency")
    rate = np.ones((len(wide), len(months)))
    for code in set(cur_codes) - {BASE_CURRENCY}:
        r = rates.loc[code].reindex(months).to_numpy()
        rate[np.asarray(cur_codes == code)] = r
    native = wide.to_numpy()
    cust = wide.index.get_level_values("customer_id")
    valued = pd.DataFrame(native * rate).groupby(cust).sum().to_numpy()  # at own month's rates
    shifted = np.zeros_like(native)
    shifted[:, 1:] = native[:, :-1] * rate[:, 1:]  # last month's MRR at this month's rates
    at_new = pd.DataFrame(shifted).groupby(cust).sum().to_numpy()
    cur, prev, prev_at = valued[:, 1:-1], valued[:, :-2], at_new[:, 1:-1]
    first = (cur > 0).argmax(axis=1)[:, None]
    col = np.arange(cur.shape[1])[None, :]
    starts = (prev == 0) & (cur > 0)
    up = cur - prev_at
    return pd.DataFrame(
        {
            "month": idx_to_ts(np.arange(lo, a + 1)),
            "mrr_start": prev.sum(0),
            "new": np.where(starts & (col == first), cur, 0).sum(0),
            "reactivation": np.where(starts & (col > first), cur, 0).sum(0),
            "expansion": np.where((prev > 0) & (up > 0), up, 0).sum(0),
            "contraction": np.where((cur > 0) & (up < 0), -up, 0).sum(0),
            "churn": np.where((prev > 0) & (cur == 0), prev_at, 0).sum(0),
            "fx_adjustment": (prev_at - prev).sum(0),
            "mrr_end": cur.sum(0),
            "customers_start": (prev > 0).sum(0),
            "customers_end": (cur > 0).sum(0),
        }
    )
