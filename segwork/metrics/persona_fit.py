"""The personas' k-means (docs/metrics.md "Personas"): standardised features, one fit per k, and
the profile of each cluster.

:func:`segwork.metrics.personas.personas` computes the per-customer features with the engine;
this module clusters them with scikit-learn (imported on first use, :func:`import_clustering`)
and profiles the clusters with pandas.  A :class:`Clustering` holds what every k shares and fits
each k once, so the fits behind ``silhouette_by_k`` also serve a later change of k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "LOG_FEATURES",
    "SILHOUETTE_MAX_N",
    "Clustering",
    "cluster_profiles",
    "import_clustering",
]

#: Features drawn on a log scale (log1p) before standardising: heavy-tailed amounts and counts.
LOG_FEATURES = frozenset({"arpa", "usage"})
#: Above this many fitted customers the silhouette is measured on a seeded sample of this size.
SILHOUETTE_MAX_N = 2000
#: k-means fits run at once by :meth:`Clustering.fit_all` (each on one thread).
_FIT_WORKERS = 2


class Clustering:
    """The customers active at as_of as standardised features, with their k-means fits.

    What every k shares: the members (the customers active at as_of), the plan tiers, the
    standardised matrix and the seeded fitting sample.  :meth:`fit` fits k once and keeps it, so
    ``silhouette_by_k``'s fits serve a later change of k.
    """

    def __init__(
        self,
        raw: pd.DataFrame,
        avail: dict[str, bool],
        used: tuple[str, ...],
        random_state: int,
        fit_max_n: int,
    ) -> None:
        self.used = used
        self.random_state = random_state
        self.members = raw[raw["member"]].reset_index(drop=True)
        self.n = n = len(self.members)
        self._fits: dict[int, tuple[Any, float]] = {}
        self._labels: dict[int, np.ndarray] = {}
        self._distinct: int | None = None
        # plan tier: plans ranked by their active customers' mean ARPA (cheapest = 0)
        self.plan_rank: dict[Any, float] = {}
        if avail["plan"]:
            means = self.members.groupby("plan", dropna=True, observed=True)["arpa"].mean()
            order = sorted(means.index, key=lambda p: (means[p], str(p)))
            self.plan_rank = {p: float(i) for i, p in enumerate(order)}
        if n == 0:
            self.x = self.x_fit = self._x_raw = np.empty((0, len(used)))
            return
        _, _, StandardScaler, _ = import_clustering()
        x_raw = self._matrix(self.members)
        # a missing value (e.g. no plan recorded) takes the feature's mean, i.e. z = 0
        self._fill = pd.DataFrame(x_raw).mean().fillna(0.0).to_numpy()
        self._x_raw = x_raw = np.where(np.isnan(x_raw), self._fill, x_raw)
        self._scaler = StandardScaler().fit(x_raw)
        self.x = self._scaler.transform(x_raw)
        # fit on a seeded sample when there are many customers; every customer is then assigned
        # to its nearest centre (k-means centres of 20,000 points are stable; 7 fits of 1M are
        # not interactive)
        if n > fit_max_n:
            rng = np.random.default_rng(random_state)
            self.x_fit = self.x[np.sort(rng.choice(n, size=fit_max_n, replace=False))]
        else:
            self.x_fit = self.x

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for f in self.used:
            if f == "plan_tier":
                plan = frame["plan"].astype("category").cat
                ranks = np.array(
                    [self.plan_rank.get(p, np.nan) for p in plan.categories] + [np.nan]
                )
                v = ranks[plan.codes.to_numpy()]  # code -1 (no plan) takes the last: NaN
            elif f == "annual":
                v = frame["annual"].astype("float64").to_numpy()
            else:
                s = pd.to_numeric(frame[f]).astype("float64")
                if f in LOG_FEATURES:
                    s = np.log1p(s.clip(lower=0))
                v = s.to_numpy()
            cols.append(v)
        return np.column_stack(cols)

    def distinct(self, enough: int) -> int:
        """The number of distinct feature rows, or some number >= ``enough`` (see
        :func:`distinct_rows`)."""
        if self._distinct is not None:
            return self._distinct
        got = distinct_rows(self._x_raw, enough=enough)
        if len(self._x_raw) <= 10_000 or got < enough:  # exact: keep it
            self._distinct = got
        return got

    def fit(self, n_clusters: int) -> tuple[Any, float]:
        """The fitted ``KMeans`` of ``n_clusters`` and its silhouette (NaN for a single cluster
        or one cluster per customer), fitted on first use."""
        self.fit_all([n_clusters])
        return self._fits[n_clusters]

    def fit_all(self, ks: Sequence[int]) -> None:
        """Fit every k of ``ks`` not fitted yet, two at a time.

        Each fit runs on one OpenMP thread (on a few thousand rows more threads only add
        overhead and contention, and the result does not depend on the machine's thread count);
        scikit-learn's k-means loop releases the GIL, so two fits in two Python threads use two
        cores.  Each fit is the same computation as alone: the same numbers.
        """
        todo = [k for k in dict.fromkeys(ks) if k not in self._fits]
        if not todo:
            return
        _, _, _, threadpool_limits = import_clustering()
        # BLAS's limit is the process's: set once, here (OpenMP's in each fit's own thread)
        with threadpool_limits(limits=1):
            if len(todo) == 1:
                got = [self._fit_one(todo[0])]
            else:
                with ThreadPoolExecutor(max_workers=_FIT_WORKERS) as pool:
                    got = list(pool.map(self._fit_one, todo))
        self._fits.update(zip(todo, got, strict=True))

    def _fit_one(self, n_clusters: int) -> tuple[Any, float]:
        KMeans, silhouette_score, _, threadpool_limits = import_clustering()
        x_fit, n_fit = self.x_fit, len(self.x_fit)
        km = KMeans(n_clusters=n_clusters, n_init=10, random_state=self.random_state)
        # OpenMP's thread count is each thread's own: limited here, in the thread that fits
        with threadpool_limits(limits=1, user_api="openmp"):
            km.fit(x_fit)
        fit_labels = km.labels_
        if 2 <= len(np.unique(fit_labels)) <= n_fit - 1:
            sample = SILHOUETTE_MAX_N if n_fit > SILHOUETTE_MAX_N else None
            sil = float(
                silhouette_score(x_fit, fit_labels, sample_size=sample,
                                 random_state=self.random_state)
            )  # fmt: skip
        else:
            sil = math.nan
        return km, sil

    def labels(self, n_clusters: int) -> np.ndarray:
        """Each member's cluster (0 .. n_clusters-1) under :meth:`fit`'s centres."""
        if n_clusters not in self._labels:
            km, _ = self.fit(n_clusters)
            if self.x_fit is self.x:
                self._labels[n_clusters] = np.asarray(km.labels_)
            else:
                self._labels[n_clusters] = self._predict(km, self.x)
        return self._labels[n_clusters]

    def predict(self, km: Any, frame: pd.DataFrame) -> np.ndarray:
        """The nearest centre of each row of ``frame`` (features standardised as the members')."""
        x = self._matrix(frame)
        return self._predict(km, self._scaler.transform(np.where(np.isnan(x), self._fill, x)))

    @staticmethod
    def _predict(km: Any, x: np.ndarray) -> np.ndarray:
        _, _, _, threadpool_limits = import_clustering()
        with threadpool_limits(limits=1):
            return np.asarray(km.predict(x))


def cluster_profiles(
    members: pd.DataFrame, labels: np.ndarray, k: int, plan_rank: dict[Any, float]
) -> pd.DataFrame:
    """``_c, customers, median_*, engagement, share_annual, dominant_plan, mrr`` per cluster
    0..k-1 of the members (grouped once, not one filter of every member per cluster)."""
    frame = members.assign(_c=labels)
    groups = frame.groupby("_c", sort=True)
    empty = pd.Series(math.nan, index=range(k))

    def median(col: str) -> pd.Series:
        if col not in frame.columns:
            return empty
        return groups[col].median().reindex(range(k)).astype("float64")

    annual = frame[frame["annual"].notna()]
    share_annual = (
        annual["annual"].astype(bool).groupby(annual["_c"]).mean().reindex(range(k))
        if len(annual)
        else empty
    )
    engagement = _modes(frame, "engagement", k, ("high", "medium", "low"))
    plans = _modes(frame, "plan", k, sorted(plan_rank, key=plan_rank.__getitem__, reverse=True))
    mrr = np.bincount(labels, weights=frame["arpa"].to_numpy(dtype="float64"), minlength=k)
    return pd.DataFrame(
        {
            "_c": np.arange(k),
            "customers": np.bincount(labels, minlength=k),
            "median_arpa": median("arpa").to_numpy(),
            "median_tenure_months": median("tenure_months").to_numpy(),
            "median_usage": median("usage").to_numpy(),
            "median_features_used": median("features_used").to_numpy(),
            "engagement": engagement,
            "share_annual": share_annual.astype("float64").to_numpy(),
            "dominant_plan": plans,
            "mrr": mrr,
        }
    )


def _modes(frame: pd.DataFrame, col: str, k: int, preference: Sequence[Any]) -> list[Any]:
    """The most common non-null value of ``col`` in each cluster 0..k-1 (None where it has none);
    ties go to the earliest in ``preference``, then the smallest as text."""
    if col not in frame.columns:
        return [None] * k
    values = frame[col]
    known = values.notna().to_numpy()
    counts = (
        pd.DataFrame({"_c": frame["_c"].to_numpy()[known], "v": values.to_numpy()[known]})
        .groupby(["_c", "v"], observed=True, sort=False)
        .size()
    )
    rank = {v: i for i, v in enumerate(preference)}
    out: list[Any] = [None] * k
    best: dict[int, tuple[int, int, str]] = {}
    for (c, v), m in counts.items():
        key = (-int(m), rank.get(v, len(rank)), str(v))
        if c not in best or key < best[c]:
            best[int(c)], out[int(c)] = key, v
    return out


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


def distinct_rows(x: np.ndarray, enough: int) -> int:
    """The number of distinct rows of ``x``, or some number >= ``enough`` when there are that many.

    Sorting every row (``np.unique(axis=0)``) of a million customers takes a second; the callers
    only compare the count with k and the silhouette's k range, so a first block of rows that
    already holds ``enough`` distinct ones answers.

    >>> distinct_rows(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]), enough=5)
    2
    """
    head = len(np.unique(x[:10_000], axis=0))
    if head >= enough or len(x) <= 10_000:
        return head
    return len(np.unique(x, axis=0))
