"""Customer personas: k-means clusters of the active customers, profiled and labelled.

docs/metrics.md "Personas".  A segmentation can use criteria such as plan, billing interval,
engagement level and tenure (docs/metrics.md "Segmentations and derived attributes"); personas
combine them.  The per-customer features are computed by the engine in one Ibis query (one row per
customer comes back); scikit-learn's ``KMeans`` clusters the standardised features; each cluster is
then profiled with the definitions of docs/metrics.md (ARPA, pooled logo churn over the churn window
with its Wilson interval, MRR share).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index, month_index_of, month_start_of, subscription_mrr
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import engagement_expr, population
from segwork.metrics.segments import per_customer
from segwork.metrics.stats import safe_ratio, wilson_interval

__all__ = ["FEATURES", "PROFILE_COLUMNS", "Personas", "personas"]


@dataclass(frozen=True)
class PersonaReference(CacheKey):
    """The customers at the personas' reference month with tenure and churn-window counts."""

    as_of: dt.date
    window_months: int


#: The clustering features, in order (``features=None`` uses every one the data supports).
FEATURES: tuple[str, ...] = (
    "arpa",
    "tenure_months",
    "usage",
    "features_used",
    "plan_tier",
    "annual",
)

#: Columns of :attr:`Personas.profiles`, in order.
PROFILE_COLUMNS: tuple[str, ...] = (
    "persona",
    "cluster",
    "customers",
    "customers_share",
    "median_arpa",
    "median_tenure_months",
    "median_usage",
    "median_features_used",
    "engagement",
    "share_annual",
    "dominant_plan",
    "mrr",
    "mrr_share",
    "at_risk_customer_months",
    "churned_customer_months",
    "churn_rate",
    "churn_rate_low",
    "churn_rate_high",
)

#: Features drawn on a log scale (log1p) before standardising: heavy-tailed amounts and counts.
_LOG_FEATURES = frozenset({"arpa", "usage"})
#: Words describing a cluster whose mean z-score of a feature is high / low, in label word order.
_WORDS: dict[str, tuple[str, str]] = {
    "tenure_months": ("long-standing", "new"),
    "arpa": ("high-ARPA", "low-ARPA"),
    "usage": ("heavy-usage", "low-usage"),
    "features_used": ("multi-feature", "few-feature"),
    "annual": ("annual", "monthly"),
}
_MIN_Z = 0.3  # a feature distinguishes a cluster when |mean z| >= this
_USAGE_WINDOW = 3  # months of the usage / engagement window (docs/metrics.md "Engagement")
_SILHOUETTE_KS = range(2, 9)
_SILHOUETTE_MAX_N = 2000
#: Above this many active customers k-means is fitted on a seeded sample of this size.
_FIT_MAX_N = 20_000
_ANNUAL_VALUES = ("annual", "year", "yearly")


@dataclass(frozen=True)
class Personas:
    """The result of :func:`personas`.

    Attributes
    ----------
    profiles : pandas.DataFrame
        One row per persona (columns :data:`PROFILE_COLUMNS`), ordered by MRR descending;
        ``cluster`` numbers them 1..k in that order.
    members : pandas.DataFrame
        ``customer_id, persona`` of every clustered customer, sorted by ``customer_id``.
    silhouette : float
        Mean silhouette of the chosen clustering (NaN when k equals the number of customers).
    silhouette_by_k : pandas.DataFrame
        ``k, silhouette`` for k = 2..8 (those below the number of customers and at most the number
        of distinct feature profiles), same features and random_state, to help choose k (higher is
        better separated).
    centers : pandas.DataFrame
        Mean z-score of every feature per persona (index ``persona``, one column per feature):
        what the labels are derived from.
    features : tuple of str
        The features used.
    """

    profiles: pd.DataFrame
    members: pd.DataFrame
    silhouette: float
    silhouette_by_k: pd.DataFrame
    centers: pd.DataFrame
    features: tuple[str, ...]
    as_of: dt.date
    k: int
    random_state: int
    meta: dict[str, Any] = field(default_factory=dict)


# -- per-customer features (engine) ----------------------------------------------------------------
def _subscription_flags(data: Data, as_of: dt.date, ref: ir.Table) -> ir.Table | None:
    """Plan and annual flag of each customer's subscriptions active in its reference month.

    Active in month m as in docs/metrics.md "MRR" (start_date <= last day of m and end_date empty
    or > first day of m); the plan is the one of the active subscription with the largest MRR.
    """
    eng = engine_for(data)
    data = eng.data
    if not data.has("subscriptions"):
        return None
    subs = data.table("subscriptions")
    subs = subs.filter(subs.start_date <= as_of)
    first = month_index(subs.start_date)
    last = ibis.coalesce(month_index(subs.end_date - ibis.interval(days=1)), ibis.literal(10**7))
    s = subs.select(
        customer_id=subs.customer_id,
        first=first,
        last=last,
        interval=subs.billing_interval,
        plan=subs.plan if "plan" in subs.columns else ibis.null("string"),
        value=subscription_mrr(subs),
    )
    j = s.join(ref.select("customer_id", "ref_idx"), "customer_id")
    j = j.filter((j.first <= j.ref_idx) & (j.last >= j.ref_idx))
    return j.group_by("customer_id").aggregate(
        sub_annual=(j.interval == "year").any(),
        sub_plan=j.plan.argmax(j.value),
    )


def _features_expr(
    data: Data, day: dt.date, window_months: int
) -> tuple[ir.Table, dict[str, bool]]:
    """One row per customer seen active in months A-w .. A (A = as_of's month).

    ``ref_idx`` is the customer's last active month in that range (A for the customers active at
    as_of, the *members*); the features are measured at ``ref_idx``: ``arpa`` its MRR then,
    ``tenure_months`` = ref_idx - signup month, ``usage`` = events per active month over the 3
    months ending at ref_idx, ``features_used`` = distinct event names in those months, ``plan`` /
    ``annual`` from the subscription(s) active in ref_idx (else the customers columns).
    ``at_risk`` / ``churned`` count the churn-window customer-months (docs/metrics.md "Churn
    window", exactly as in the segment table).
    """
    eng = engine_for(data)
    data = eng.data
    a = month_index_of(day)
    w = window_months
    pop = population(eng, day)
    mrr = eng.monthly_mrr(day)
    win = mrr.filter((mrr.month_idx >= a - w) & (mrr.month_idx <= a))
    ref = win.group_by("customer_id").aggregate(ref_idx=win.month_idx.max())
    ref = ref.join(pop.select("customer_id", "signup_date"), "customer_id")
    at_ref = win.join(ref.select("customer_id", "ref_idx"), "customer_id")
    at_ref = at_ref.filter(at_ref.month_idx == at_ref.ref_idx).select(
        "customer_id", ref_mrr=at_ref.mrr
    )
    t = ref.join(at_ref, "customer_id")
    t = t.mutate(tenure=(t.ref_idx - month_index(t.signup_date)).cast("int64"))
    churn = per_customer(eng, a, w, day).select("customer_id", "at_risk", "churned")
    t = t.left_join(churn, "customer_id").drop("customer_id_right")
    t = base = eng.table(PersonaReference(day, w), lambda: t)

    avail = {"usage": data.has("events"), "plan": False, "annual": False}
    if avail["usage"]:
        months = mrr.filter(mrr.month_idx >= a - w - (_USAGE_WINDOW - 1))
        months = months.join(t.select("customer_id", "ref_idx"), "customer_id")
        months = months.filter(
            (months.month_idx <= months.ref_idx)
            & (months.month_idx >= months.ref_idx - (_USAGE_WINDOW - 1))
        )
        # one row per customer and month (the mrr table's key): a count, not a distinct count
        active = months.group_by("customer_id").aggregate(active_months=months.count())
        ev = data.table("events")
        # only the months any customer's usage window can reach (a plain range on the raw
        # timestamp first: the engine prunes it before computing month indexes)
        lo = dt.datetime.combine(month_start_of(a - w - (_USAGE_WINDOW - 1)), dt.time())
        hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        ev = ev.filter((ev.timestamp >= lo) & (ev.timestamp < hi))
        ev = ev.select("customer_id", "event", n=ev["count"], m=month_index(ev.timestamp.date()))
        ev = ev.join(t.select("customer_id", "ref_idx"), "customer_id")
        ev = ev.filter((ev.m <= ev.ref_idx) & (ev.m >= ev.ref_idx - (_USAGE_WINDOW - 1)))
        used = ev.group_by("customer_id").aggregate(
            n_events=ev.n.sum(), features_used=ev.event.nunique()
        )
        t = t.left_join(active, "customer_id").drop("customer_id_right")
        t = t.left_join(used, "customer_id").drop("customer_id_right")
        t = t.mutate(
            usage=t.n_events.fill_null(0).cast("float64") / t.active_months,
            features_used=t.features_used.fill_null(0).cast("int64"),
        )
    # from the reference table, not from t with its usage: the events would be read twice
    sub = _subscription_flags(eng, day, base)
    plan: ir.Value = ibis.null("string")
    annual: ir.Value = ibis.null("boolean")
    if sub is not None:
        t = t.left_join(sub, "customer_id").drop("customer_id_right")
        plan = t.sub_plan
        annual = t.sub_annual
        avail["annual"] = True
        avail["plan"] = "plan" in data.table("subscriptions").columns
    if "plan" in pop.columns:
        attrs = pop.select("customer_id", cust_plan=pop.plan.cast("string"))
        t = t.left_join(attrs, "customer_id").drop("customer_id_right")
        plan = ibis.coalesce(plan, t.cust_plan)
        avail["plan"] = True
    if "billing_interval" in pop.columns:
        bi = pop.select(
            "customer_id",
            cust_annual=pop.billing_interval.cast("string").lower().isin(_ANNUAL_VALUES),
        )
        t = t.left_join(bi, "customer_id").drop("customer_id_right")
        annual = ibis.coalesce(annual, t.cust_annual)
        avail["annual"] = True
    cols: dict[str, Any] = {
        "customer_id": t.customer_id,
        "member": t.ref_idx == a,
        "arpa": t.ref_mrr.cast("float64"),
        "tenure_months": t.tenure,
        "plan": plan,
        "annual": annual,
        "at_risk": t.at_risk.fill_null(0).cast("int64"),
        "churned": t.churned.fill_null(0).cast("int64"),
    }
    if avail["usage"]:
        cols["usage"] = t.usage
        cols["features_used"] = t.features_used
    out = t.select(**cols)
    if avail["usage"]:
        eng = engagement_expr(eng, day, window_months=_USAGE_WINDOW).select(
            "customer_id", "engagement"
        )
        out = out.left_join(eng, "customer_id").drop("customer_id_right")
    return out, avail


# -- labels ----------------------------------------------------------------------------------------
def _label_words(z: pd.Series, n_words: int) -> list[str]:
    cands = [f for f in z.index if f in _WORDS and abs(z[f]) >= _MIN_Z]
    cands.sort(key=lambda f: (-abs(z[f]), list(_WORDS).index(f)))
    chosen = sorted(cands[:n_words], key=list(_WORDS).index)
    return [_WORDS[f][0] if z[f] > 0 else _WORDS[f][1] for f in chosen]


def _labels(centers: pd.DataFrame, plans: list[str | None]) -> list[str]:
    """A unique descriptive label per cluster from its distinguishing features.

    The two features with the largest |mean z-score| (at least 0.3) give words ("new",
    "high-ARPA", "low-usage", "annual", ...), written in a fixed order, then the cluster's
    dominant plan and "customers": e.g. "High-ARPA annual enterprise customers".  Clusters whose
    labels collide get more distinguishing words; a label still not unique gets " (group i)".
    """
    k = len(centers)
    n_words = [2] * k
    max_words = len(_WORDS)

    def make(i: int) -> str:
        words = _label_words(centers.iloc[i], n_words[i])
        noun = f"{plans[i]} customers" if plans[i] else "customers"
        text = " ".join([*words, noun]) if words else f"typical {noun}"
        return text[0].upper() + text[1:]

    labels = [make(i) for i in range(k)]
    for _ in range(max_words):
        dup = [i for i in range(k) if labels.count(labels[i]) > 1]
        if not dup:
            break
        for i in dup:
            n_words[i] += 1
        labels = [make(i) for i in range(k)]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if labels.count(lab) > 1:
            seen[lab] = seen.get(lab, 0) + 1
            lab = f"{lab} (group {seen[lab]})"
        out.append(lab)
    return out


# -- the public function ---------------------------------------------------------------------------
def _check_int(name: str, value: Any, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def personas(
    data: Data,
    as_of: Any,
    *,
    k: int = 4,
    random_state: int = 0,
    features: Sequence[str] | None = None,
    window_months: int = 12,
) -> Personas:
    """Cluster the customers active at as_of into k personas and profile each one.

    docs/metrics.md "Personas".  **Who is clustered**: the customers active at as_of (MRR > 0 in
    as_of's month A, docs/metrics.md "Active customer"; population signup_date <= as_of).

    **Features** (one row per customer, computed by the engine): ``arpa`` the customer's MRR in A
    (docs/metrics.md "ARPA" of a group of one); ``tenure_months`` whole months from the signup month
    to A; ``usage`` events per active month over the 3 months ending with A (the rate of
    docs/metrics.md "Engagement"); ``features_used`` the number of distinct event names in those
    months (breadth of use); ``plan_tier`` the plan as an ordinal, plans ranked by their customers'
    mean ARPA (cheapest 0); ``annual`` 1 when billed yearly.  Plan and interval come from the
    subscription(s) active in A (the biggest one's plan) and else from the ``customers`` columns
    ``plan`` / ``billing_interval``.  ``arpa`` and ``usage`` are heavy-tailed and enter as
    ``log1p``; every feature is then standardised (z-score over the clustered customers).  Features
    the data lacks (no events, no plan) are left out.

    **Clustering**: ``sklearn.cluster.KMeans(n_clusters=k, n_init=10, random_state)`` on the
    standardised features, run on one thread; the same arguments give the same personas.  With
    more than 20,000 active customers the fit uses a seeded random sample of 20,000 of them and
    every customer is then assigned to its nearest centre (``KMeans.predict``), so 1M customers
    cluster in seconds.  ``silhouette`` is ``sklearn.metrics.silhouette_score`` of the fitted
    customers (on a seeded sample of 2,000 when there are more); ``silhouette_by_k`` repeats the
    fit for k = 2..8.

    **Profiles**: per persona ``customers`` (add up to the clustered total), ``customers_share``,
    median ARPA / tenure / usage / features used, ``engagement`` (the most common engagement level
    of docs/metrics.md "Engagement", 3 quantile levels over the 3-month window), ``share_annual``,
    ``dominant_plan``, ``mrr`` in A and ``mrr_share`` (adds up to 1).  ``churn_rate``: pooled logo
    churn over the churn window A-w+1 .. A (docs/metrics.md "Churn window", "Logo churn") with its
    Wilson interval (docs/metrics.md "Confidence intervals").  Because the customers active at as_of
    have by construction not left (their only churned months are ones they came back from), the
    churn is measured on every customer active in A-w .. A, each assigned to the persona nearest to
    its features at its last active month in that range (the fitted KMeans's ``predict``): the churn
    of customers like these, not survivors only.

    **Labels** come from the cluster means of the z-scores: the (up to) two most distinguishing
    features give words ("new", "high-ARPA", "low-usage", "annual", ...) followed by the dominant
    plan, e.g. "High-ARPA annual enterprise customers", "New low-usage starter customers";
    labels are unique (more words are added where two clusters would share a label).

    Parameters
    ----------
    data : Dataset or Engine
        Needs ``customers`` and ``mrr`` (given or derived); ``events`` for the usage features.
    as_of : date-like
        Explicit as-of date; data dated after it is ignored.
    k : int, default 4
        Number of personas, 2 <= k <= number of active customers.
    random_state : int, default 0
        Seed of KMeans (and of the silhouette sample).
    features : sequence of str, optional
        A subset of :data:`FEATURES`; default every one the data supports.
    window_months : int, default 12
        The churn window w.

    Returns
    -------
    Personas
        ``profiles``, ``members``, ``silhouette``, ``silhouette_by_k``, ``centers``.

    Raises
    ------
    ValueError
        k < 2 or above the number of active customers (or of their distinct feature profiles), an
        unknown or unavailable feature, no customer active at as_of.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.personas import personas
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "signup_date": ["2023-01-01", "2023-02-01", "2024-05-01", "2024-06-01"],
    ...     "plan": ["pro", "pro", "starter", "starter"]})
    >>> mrr = pd.DataFrame({"customer_id": [1, 2, 3, 4], "month": ["2024-06-01"] * 4,
    ...     "mrr": [500.0, 450.0, 20.0, 25.0]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> p = personas(data, "2024-06-30", k=2)
    >>> p.profiles[["persona", "customers", "mrr_share"]].round(3)
                                     persona  customers  mrr_share
    0  Long-standing high-ARPA pro customers          2      0.955
    1         New low-ARPA starter customers          2      0.045
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    k = _check_int("k", k, 2)
    random_state = _check_int("random_state", random_state, 0)
    window_months = _check_int("window_months", window_months, 1)
    expr, avail = _features_expr(eng, day, window_months)
    allowed = [
        f
        for f in FEATURES
        if (f not in ("usage", "features_used") or avail["usage"])
        and (f != "plan_tier" or avail["plan"])
        and (f != "annual" or avail["annual"])
    ]
    if features is None:
        used = tuple(allowed)
    else:
        used = tuple(dict.fromkeys(features))
        bad = [f for f in used if f not in FEATURES]
        if bad:
            raise ValueError(f"unknown persona feature(s) {bad}; allowed: {', '.join(FEATURES)}")
        missing = [f for f in used if f not in allowed]
        if missing:
            raise ValueError(
                f"feature(s) {missing} are not available in this data; available: "
                f"{', '.join(allowed)}"
            )
        if not used:
            raise ValueError(f"features must name at least one of: {', '.join(allowed)}")

    # ordered here rather than by the engine (a sort of a million rows there costs a second)
    raw = expr.to_pandas().sort_values("customer_id", kind="stable", ignore_index=True)
    raw["member"] = raw["member"].astype(bool)
    members = raw[raw["member"]].reset_index(drop=True)
    n = len(members)
    if n == 0:
        raise ValueError(f"no customer is active at as_of={day}; nothing to cluster")
    if k > n:
        if n < 2:
            raise ValueError(
                f"only {n} customer is active at {day}: personas need at least 2; choose a "
                "later as_of"
            )
        raise ValueError(f"k={k} is more than the {n} customers active at {day}; use 2 <= k <= {n}")

    # plan tier: plans ranked by their active customers' mean ARPA (cheapest = 0)
    plan_rank: dict[Any, float] = {}
    if avail["plan"]:
        means = members.groupby("plan", dropna=True)["arpa"].mean()
        order = sorted(means.index, key=lambda p: (means[p], str(p)))
        plan_rank = {p: float(i) for i, p in enumerate(order)}

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for f in used:
            if f == "plan_tier":
                v = frame["plan"].map(plan_rank).astype("float64")
            elif f == "annual":
                v = frame["annual"].astype("float64")
            else:
                v = pd.to_numeric(frame[f]).astype("float64")
                if f in _LOG_FEATURES:
                    v = np.log1p(v.clip(lower=0))
            cols.append(v.to_numpy())
        return np.column_stack(cols)

    KMeans, silhouette_score, StandardScaler, threadpool_limits = import_clustering()

    x_raw = matrix(members)
    # a missing value (e.g. no plan recorded) takes the feature's mean, i.e. z = 0
    fill = pd.DataFrame(x_raw).mean().fillna(0.0).to_numpy()
    x_raw = np.where(np.isnan(x_raw), fill, x_raw)
    distinct = _distinct_rows(x_raw, enough=max(k, max(_SILHOUETTE_KS)) + 1)
    if distinct < 2:
        raise ValueError(
            f"the {n} customers active at {day} all have the same features: nothing to cluster"
        )
    if k > distinct:
        raise ValueError(
            f"k={k} is more than the {distinct} distinct feature profiles among the {n} customers "
            f"active at {day}; use 2 <= k <= {distinct}"
        )
    scaler = StandardScaler().fit(x_raw)
    x = scaler.transform(x_raw)

    # fit on a seeded sample when there are many customers; every customer is then assigned
    # to its nearest centre (k-means centres of 20,000 points are stable; 7 fits of 1M are not
    # interactive)
    if n > _FIT_MAX_N:
        rng = np.random.default_rng(random_state)
        x_fit = x[np.sort(rng.choice(n, size=_FIT_MAX_N, replace=False))]
    else:
        x_fit = x
    n_fit = len(x_fit)

    def fit(n_clusters: int) -> tuple[Any, float]:
        # one thread: on a few thousand rows OpenMP threads only add overhead (and contention on
        # a busy machine), and the result does not depend on the machine's thread count
        with threadpool_limits(limits=1):
            km = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit(x_fit)
            fit_labels = km.labels_
            if 2 <= len(np.unique(fit_labels)) <= n_fit - 1:
                sample = _SILHOUETTE_MAX_N if n_fit > _SILHOUETTE_MAX_N else None
                sil = float(
                    silhouette_score(x_fit, fit_labels, sample_size=sample,
                                     random_state=random_state)
                )  # fmt: skip
            else:
                sil = math.nan
        return km, sil

    km, sil = fit(k)
    if x_fit is x:
        labels = km.labels_
    else:
        with threadpool_limits(limits=1):
            labels = km.predict(x)
    by_k = []
    for kk in _SILHOUETTE_KS:
        if kk >= n or kk > distinct:
            break
        by_k.append({"k": kk, "silhouette": sil if kk == k else fit(kk)[1]})
    silhouette_by_k = pd.DataFrame(by_k, columns=["k", "silhouette"]).astype(
        {"k": "int64", "silhouette": "float64"}
    )

    members = members.assign(_c=labels)
    # every customer active in the window, assigned to its nearest persona (for churn)
    others = raw[~raw["member"]]
    parts = [members[["at_risk", "churned", "_c"]]]
    if len(others):
        x_others = matrix(others)
        x_others = scaler.transform(np.where(np.isnan(x_others), fill, x_others))
        with threadpool_limits(limits=1):
            nearest = km.predict(x_others)
        parts.append(others.assign(_c=nearest)[["at_risk", "churned", "_c"]])
    everyone = pd.concat(parts, ignore_index=True)
    churn = everyone.groupby("_c")[["at_risk", "churned"]].sum()

    z = pd.DataFrame(x, columns=list(used)).assign(_c=labels).groupby("_c").mean()
    rows = []
    for c in range(k):
        g = members[members["_c"] == c]
        eng = g["engagement"].dropna() if "engagement" in g else pd.Series(dtype=object)
        plans = g["plan"].dropna().astype(str)
        rows.append(
            {
                "_c": c,
                "customers": len(g),
                "median_arpa": float(g["arpa"].median()),
                "median_tenure_months": float(g["tenure_months"].median()),
                "median_usage": float(g["usage"].median()) if "usage" in g else math.nan,
                "median_features_used": (
                    float(g["features_used"].median()) if "features_used" in g else math.nan
                ),
                "engagement": _mode(eng, ("high", "medium", "low")),
                "share_annual": (
                    float(g["annual"].dropna().astype(bool).mean())
                    if g["annual"].notna().any()
                    else math.nan
                ),
                "dominant_plan": _mode(
                    plans, sorted(plan_rank, key=plan_rank.__getitem__, reverse=True)
                ),
                "mrr": float(g["arpa"].sum()),
                "at_risk_customer_months": int(churn["at_risk"].get(c, 0)),
                "churned_customer_months": int(churn["churned"].get(c, 0)),
            }
        )
    prof = pd.DataFrame(rows)
    prof = prof.assign(_key=-prof["mrr"], _arpa=-z.loc[prof["_c"], used[0]].to_numpy())
    prof = prof.sort_values(["_key", "_arpa", "_c"], kind="mergesort").reset_index(drop=True)
    centers = z.loc[prof["_c"]].reset_index(drop=True)
    names = _labels(centers, [p if isinstance(p, str) else None for p in prof["dominant_plan"]])
    prof["persona"] = names
    prof["cluster"] = np.arange(1, k + 1, dtype="int64")
    prof["customers"] = prof["customers"].astype("int64")
    prof["customers_share"] = safe_ratio(prof["customers"], prof["customers"].sum())
    prof["mrr_share"] = safe_ratio(prof["mrr"], prof["mrr"].sum())
    at_risk = prof["at_risk_customer_months"].to_numpy()
    churned = prof["churned_customer_months"].to_numpy()
    prof["churn_rate"] = safe_ratio(churned, at_risk)
    low, high = wilson_interval(churned, at_risk)
    prof["churn_rate_low"] = low
    prof["churn_rate_high"] = high
    for col in ("at_risk_customer_months", "churned_customer_months"):
        prof[col] = prof[col].astype("int64")
    label_of = dict(zip(prof["_c"], prof["persona"], strict=True))
    profiles = prof[list(PROFILE_COLUMNS)]
    centers.index = pd.Index(names, name="persona")
    member_frame = pd.DataFrame(
        {
            "customer_id": members["customer_id"].to_numpy(),
            "persona": members["_c"].map(label_of).to_numpy(),
        }
    )
    profiles.attrs.update(
        {
            "as_of": day,
            "k": k,
            "random_state": random_state,
            "window_months": window_months,
            "silhouette": sil,
        }
    )
    return Personas(
        profiles=profiles,
        members=member_frame,
        silhouette=sil,
        silhouette_by_k=silhouette_by_k,
        centers=centers,
        features=used,
        as_of=day,
        k=k,
        random_state=random_state,
        meta={"clustered": n, "assigned_for_churn": len(everyone), "plan_rank": plan_rank},
    )


def import_clustering() -> tuple[Any, Any, Any, Any]:
    """scikit-learn's ``KMeans``, ``silhouette_score``, ``StandardScaler`` and threadpoolctl's
    ``threadpool_limits``, imported on first use: seconds on a cold kernel, so a page imports
    them while its kernel is idle (:meth:`segwork.widgets.SegmentExplorer.preparations`), before
    a click on its Personas section, and a notebook that never clusters never pays.

    >>> KMeans, silhouette_score, StandardScaler, threadpool_limits = import_clustering()
    >>> KMeans.__name__
    'KMeans'
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    return KMeans, silhouette_score, StandardScaler, threadpool_limits


def _distinct_rows(x: np.ndarray, enough: int) -> int:
    """The number of distinct rows of ``x``, or some number >= ``enough`` when there are that many.

    Sorting every row (``np.unique(axis=0)``) of a million customers takes a second; the callers
    only compare the count with k and the silhouette's k range, so a first block of rows that
    already holds ``enough`` distinct ones answers.

    >>> _distinct_rows(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]), enough=5)
    2
    """
    head = len(np.unique(x[:10_000], axis=0))
    if head >= enough or len(x) <= 10_000:
        return head
    return len(np.unique(x, axis=0))


def _mode(values: pd.Series, preference: Sequence[Any]) -> Any:
    """The most common value; ties go to the earliest in ``preference`` (then the smallest)."""
    if values.empty:
        return None
    counts = values.value_counts()
    top = counts[counts == counts.max()].index
    rank = {v: i for i, v in enumerate(preference)}
    return sorted(top, key=lambda v: (rank.get(v, len(rank)), str(v)))[0]
