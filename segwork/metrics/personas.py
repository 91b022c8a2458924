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
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index, month_index_of, month_start_of, subscription_mrr
from segwork.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import engagement_expr, population
from segwork.metrics.persona_fit import Clustering, cluster_profiles, import_clustering
from segwork.metrics.segments import per_customer
from segwork.metrics.stats import safe_ratio, wilson_interval

__all__ = ["FEATURES", "PROFILE_COLUMNS", "Personas", "persona_steps", "personas"]


@dataclass(frozen=True)
class PersonaReference(CacheKey):
    """The customers at the personas' reference month with tenure and churn-window counts."""

    as_of: dt.date
    window_months: int


@dataclass(frozen=True)
class PersonaUsage(CacheKey):
    """Events and active months of each customer over the 3 months ending at its reference month."""

    as_of: dt.date
    window_months: int


@dataclass(frozen=True)
class PersonaFeatures(CacheKey):
    """The personas' per-customer features (a pandas frame, sorted by ``customer_id``)."""

    #: one row per customer: the engine keeps the two most recent (segwork.engine.lru)
    kept: ClassVar[int] = 2
    as_of: dt.date
    window_months: int


@dataclass(frozen=True)
class PersonaClustering(CacheKey):
    """The standardised features of the customers active at as_of, and their k-means fits
    (the same for every churn window: the members' features are measured at as_of)."""

    #: the members' standardised features: the engine keeps the two most recent
    kept: ClassVar[int] = 2
    as_of: dt.date
    features: tuple[str, ...]
    random_state: int
    fit_max_n: int


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


def _reference(eng: Engine, day: dt.date, w: int) -> ir.Table:
    """``customer_id, ref_idx, signup_date, ref_mrr, tenure, at_risk, churned`` of every customer
    active in months A-w .. A, kept by the engine (see :func:`_features_expr`)."""

    def build() -> ir.Table:
        a = month_index_of(day)
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
        return t.left_join(churn, "customer_id").drop("customer_id_right")

    return eng.table(PersonaReference(day, w), build)


def _usage(eng: Engine, day: dt.date, w: int) -> ir.Table:
    """``customer_id, active_months, n_events, features_used`` over the 3 months ending at each
    reference customer's ``ref_idx`` (docs/metrics.md "Engagement"), kept by the engine."""

    def build() -> ir.Table:
        ref = _reference(eng, day, w)
        a = month_index_of(day)
        mrr = eng.monthly_mrr(day)
        months = mrr.filter(mrr.month_idx >= a - w - (_USAGE_WINDOW - 1))
        months = months.join(ref.select("customer_id", "ref_idx"), "customer_id")
        months = months.filter(
            (months.month_idx <= months.ref_idx)
            & (months.month_idx >= months.ref_idx - (_USAGE_WINDOW - 1))
        )
        # one row per customer and month (the mrr table's key): a count, not a distinct count
        active = months.group_by("customer_id").aggregate(active_months=months.count())
        ev = eng.data.table("events")
        # only the months any customer's usage window can reach (a plain range on the raw
        # timestamp first: the engine prunes it before computing month indexes)
        lo = dt.datetime.combine(month_start_of(a - w - (_USAGE_WINDOW - 1)), dt.time())
        hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        ev = ev.filter((ev.timestamp >= lo) & (ev.timestamp < hi))
        ev = ev.select("customer_id", "event", n=ev["count"], m=month_index(ev.timestamp.date()))
        ev = ev.join(ref.select("customer_id", "ref_idx"), "customer_id")
        ev = ev.filter((ev.m <= ev.ref_idx) & (ev.m >= ev.ref_idx - (_USAGE_WINDOW - 1)))
        used = ev.group_by("customer_id").aggregate(
            n_events=ev.n.sum(), features_used=ev.event.nunique()
        )
        return active.left_join(used, "customer_id").drop("customer_id_right")

    return eng.table(PersonaUsage(day, w), build)


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
    t = base = _reference(eng, day, w)

    avail = {"usage": data.has("events"), "plan": False, "annual": False}
    if avail["usage"]:
        t = t.left_join(_usage(eng, day, w), "customer_id").drop("customer_id_right")
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
        "ref_idx": t.ref_idx,
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
        level = engagement_expr(eng, day, window_months=_USAGE_WINDOW).select(
            "customer_id", "engagement"
        )
        out = out.left_join(level, "customer_id").drop("customer_id_right")
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
    fit for k = 2..8.  On an :class:`~segwork.Engine` the features (per as_of and window) and
    each k's fit are kept, so another k or seed reads no event again and a k that
    ``silhouette_by_k`` fitted is not fitted twice (:func:`persona_steps` builds them ahead).

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
    day = to_date(as_of)
    k = _check_int("k", k, 2)
    random_state = _check_int("random_state", random_state, 0)
    window_months = _check_int("window_months", window_months, 1)
    raw, avail = _features_frame(eng, day, window_months)
    used = _used_features(features, avail)
    cl = _clustering(eng, day, window_months, used, random_state)
    n = cl.n
    if n == 0:
        raise ValueError(f"no customer is active at as_of={day}; nothing to cluster")
    if k > n:
        if n < 2:
            raise ValueError(
                f"only {n} customer is active at {day}: personas need at least 2; choose a "
                "later as_of"
            )
        raise ValueError(f"k={k} is more than the {n} customers active at {day}; use 2 <= k <= {n}")
    distinct = _distinct(cl, k)
    if distinct < 2:
        raise ValueError(
            f"the {n} customers active at {day} all have the same features: nothing to cluster"
        )
    if k > distinct:
        raise ValueError(
            f"k={k} is more than the {distinct} distinct feature profiles among the {n} customers "
            f"active at {day}; use 2 <= k <= {distinct}"
        )

    shown = _shown_ks(n, distinct)
    cl.fit_all([k, *shown])  # two at a time
    km, sil = cl.fit(k)
    labels = cl.labels(k)
    by_k = [{"k": kk, "silhouette": cl.fit(kk)[1]} for kk in shown]
    silhouette_by_k = pd.DataFrame(by_k, columns=["k", "silhouette"]).astype(
        {"k": "int64", "silhouette": "float64"}
    )

    members = cl.members
    # the churn-window counts of this window (the clustering serves every window); every
    # customer active in the window, assigned to its nearest persona (for churn)
    window = raw[raw["member"]]
    others = raw[~raw["member"]]
    at_risk = np.bincount(labels, weights=window["at_risk"].to_numpy(), minlength=k)
    churned = np.bincount(labels, weights=window["churned"].to_numpy(), minlength=k)
    if len(others):
        nearest = cl.predict(km, others)
        at_risk += np.bincount(nearest, weights=others["at_risk"].to_numpy(), minlength=k)
        churned += np.bincount(nearest, weights=others["churned"].to_numpy(), minlength=k)

    z = pd.DataFrame(cl.x, columns=list(used)).assign(_c=labels).groupby("_c").mean()
    prof = cluster_profiles(members, labels, k, cl.plan_rank)
    prof["at_risk_customer_months"] = at_risk.round().astype("int64")
    prof["churned_customer_months"] = churned.round().astype("int64")
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
    label_of = dict(zip(prof["_c"], prof["persona"], strict=True))
    profiles = prof[list(PROFILE_COLUMNS)]
    centers.index = pd.Index(names, name="persona")
    member_frame = pd.DataFrame(
        {
            "customer_id": members["customer_id"].to_numpy(),
            "persona": pd.Series(labels).map(label_of).to_numpy(),
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
        meta={"clustered": n, "assigned_for_churn": len(raw), "plan_rank": cl.plan_rank},
    )


def persona_steps(
    data: Data, as_of: Any, *, k: int = 4, random_state: int = 0, window_months: int = 12
) -> list[Callable[[], object]]:
    """What :func:`personas` computes before its profiles, as steps a page runs while its kernel
    is idle (:mod:`segwork.widgets.idle`), each one engine query or one k-means fit.

    In order: the scikit-learn import; the reference table (each customer's last active month and
    churn-window counts); the usage table (its events); the features as a pandas frame (of a
    window narrower than one whose features are kept: those rows, with its churn-window counts,
    and no reference or usage table); the
    standardised features; the fit for ``k``, then those of the other k of ``silhouette_by_k``.
    ``data`` is the engine that keeps them (a Dataset's throwaway engine keeps nothing); a later
    :func:`personas` call on it with the same as_of, window, seed and default features reads them.
    The steps only fill caches: whether they ran never changes a number.

    Examples
    --------
    >>> import segwork
    >>> from segwork.metrics.personas import persona_steps, personas
    >>> engine = segwork.Engine(segwork.make_saas_data(300, random_state=1))
    >>> for step in persona_steps(engine, "2024-06-30", k=3):
    ...     _ = step()
    >>> personas(engine, "2024-06-30", k=3).k  # no query and no fit left to run
    3
    """
    eng = engine_for(data)
    day = to_date(as_of)
    k = _check_int("k", k, 2)
    random_state = _check_int("random_state", random_state, 0)
    w = _check_int("window_months", window_months, 1)

    def clustering() -> Clustering:
        avail = _features_frame(eng, day, w)[1]
        return _clustering(eng, day, w, _used_features(None, avail), random_state)

    def fit(n_clusters: int) -> None:
        # the k that personas() fits: k itself where it is valid, and silhouette_by_k's
        cl = clustering()
        distinct = _distinct(cl, k)
        if n_clusters == k and 2 <= distinct and k <= min(cl.n, distinct):
            cl.labels(k)  # fits k
        elif n_clusters in _shown_ks(cl.n, distinct):
            cl.fit(n_clusters)

    def table(build: Callable[[Engine, dt.date, int], ir.Table]) -> None:
        # not needed where a wider window's features at as_of are kept (_narrowed)
        if _wider_window(eng, day, w) is None:
            build(eng, day, w)

    steps: list[Callable[[], object]] = [import_clustering, partial(table, _reference)]
    if eng.data.has("events"):
        steps.append(partial(table, _usage))
    steps += [partial(_features_frame, eng, day, w), clustering]
    steps += [partial(fit, kk) for kk in dict.fromkeys([k, *_SILHOUETTE_KS])]
    return steps


def _distinct(cl: Clustering, k: int) -> int:
    """The distinct feature profiles of the members, counted far enough to check ``k`` and
    every k of ``silhouette_by_k``."""
    return cl.distinct(enough=max(k, max(_SILHOUETTE_KS)) + 1)


def _shown_ks(n: int, distinct: int) -> list[int]:
    """The k of ``silhouette_by_k``: 2..8, below the ``n`` members and at most their
    ``distinct`` feature profiles."""
    return [kk for kk in _SILHOUETTE_KS if kk < n and kk <= distinct]


# -- the features in pandas, their clustering kept -------------------------------------------------
def _features_frame(eng: Engine, day: dt.date, w: int) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The features of :func:`_features_expr` in pandas, sorted by ``customer_id``, kept by the
    engine per as_of and window: a change of k, seed or features reads no event again."""

    def build() -> tuple[pd.DataFrame, dict[str, bool]]:
        wider = _wider_window(eng, day, w)
        if wider is not None:  # kept: read, not built again
            raw, avail = _features_frame(eng, day, wider)
            return _narrowed(eng, day, w, raw), avail
        expr, avail = _features_expr(eng, day, w)
        # ordered here rather than by the engine (a sort of a million rows there costs a second)
        raw = expr.to_pandas().sort_values("customer_id", kind="stable", ignore_index=True)
        raw["member"] = raw["member"].astype(bool)
        for col in ("plan", "engagement"):  # a few distinct strings: a tenth of the memory
            if col in raw.columns:
                raw[col] = raw[col].astype("category")
        return raw, avail

    return eng.value(PersonaFeatures(day, w), build)


def _wider_window(eng: Engine, day: dt.date, w: int) -> int | None:
    """The narrowest churn window wider than ``w`` whose features at as_of the engine keeps."""
    wider = [
        key.window_months
        for key in eng.value_keys()
        if isinstance(key, PersonaFeatures) and key.as_of == day and key.window_months > w
    ]
    return min(wider, default=None)


def _narrowed(eng: Engine, day: dt.date, w: int, raw: pd.DataFrame) -> pd.DataFrame:
    """The features of window ``w`` from those of a wider window at the same as_of: the same
    rows as :func:`_features_expr` builds (a customer's last active month, features and
    members do not depend on the window: only who is in it, ``ref_idx >= A - w``), with the
    churn-window counts of ``w`` (tests/metrics/test_personas.py holds it equal)."""
    a = month_index_of(day)
    rows = raw[raw["ref_idx"] >= a - w].drop(columns=["at_risk", "churned"])
    churn = per_customer(eng, a, w, day).select("customer_id", "at_risk", "churned")
    out = rows.merge(churn.to_pandas(), on="customer_id", how="left")
    for col in ("at_risk", "churned"):
        out[col] = out[col].fillna(0).astype("int64")
    for col in ("plan", "engagement"):
        if col in out.columns:
            out[col] = out[col].cat.remove_unused_categories()
    return out[list(raw.columns)]


def _used_features(features: Sequence[str] | None, avail: dict[str, bool]) -> tuple[str, ...]:
    """The features to cluster on: ``features`` checked against what the data supports."""
    allowed = [
        f
        for f in FEATURES
        if (f not in ("usage", "features_used") or avail["usage"])
        and (f != "plan_tier" or avail["plan"])
        and (f != "annual" or avail["annual"])
    ]
    if features is None:
        return tuple(allowed)
    used = tuple(dict.fromkeys(features))
    bad = [f for f in used if f not in FEATURES]
    if bad:
        raise ValueError(f"unknown persona feature(s) {bad}; allowed: {', '.join(FEATURES)}")
    missing = [f for f in used if f not in allowed]
    if missing:
        raise ValueError(
            f"feature(s) {missing} are not available in this data; available: {', '.join(allowed)}"
        )
    if not used:
        raise ValueError(f"features must name at least one of: {', '.join(allowed)}")
    return used


def _clustering(
    eng: Engine, day: dt.date, w: int, used: tuple[str, ...], random_state: int
) -> Clustering:
    """The :class:`Clustering` of the features at as_of, kept by the engine."""
    raw, avail = _features_frame(eng, day, w)
    key = PersonaClustering(day, used, random_state, _FIT_MAX_N)
    return eng.value(key, lambda: Clustering(raw, avail, used, random_state, _FIT_MAX_N))
