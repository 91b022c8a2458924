"""Every metric gives the same numbers whatever backs the Dataset (pandas, CSV, Parquet, DuckDB file).

Issue "Metric core": "results are equal whether the Dataset is backed by pandas, Parquet or DuckDB".
Run on the committed sample (2,000 customers) so that every code path sees realistic data.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import segwork
from segwork.paths import SAMPLE_DIR

AS_OF = "2024-09-30"
CALLS = {
    "monthly_mrr": lambda d: segwork.monthly_mrr(d, AS_OF),
    "mrr_movements": lambda d: segwork.mrr_movements(d, AS_OF, by="plan"),
    "segment_table": lambda d: segwork.segment_table(
        d, ["billing_interval", "lifecycle_stage"], AS_OF, bins=None),
    "segment_table_bins": lambda d: segwork.segment_table(
        d, ["company_size", "engagement"], AS_OF, bins={"company_size": [10, 50, 250]}),
    "cohort_logo": lambda d: segwork.cohort_retention(d, AS_OF, period="quarter"),
    "cohort_nrr": lambda d: segwork.cohort_retention(d, AS_OF, metric="nrr", by="region"),
    "cohort_grr_signup": lambda d: segwork.cohort_retention(d, AS_OF, metric="grr", cohort="signup",
                                                            where={"plan": ["pro", "enterprise"]}),
    "survival": lambda d: segwork.survival(d, AS_OF, by="billing_interval"),
    "rfm": lambda d: segwork.rfm(d, AS_OF),
    "rfm_segment_as_criterion": lambda d: segwork.segment_table(d, "rfm_segment", AS_OF),
    "engagement": lambda d: segwork.engagement(d, AS_OF),
    "lifecycle": lambda d: segwork.lifecycle_stage(d, AS_OF),
    "plan_moves": lambda d: segwork.plan_moves(d, AS_OF),
    "current_plan_as_criterion": lambda d: segwork.segment_table(
        d, ["current_plan", "first_plan"], AS_OF),
}


@pytest.fixture(scope="module")
def backends(tmp_path_factory) -> dict[str, segwork.Dataset]:
    frames = {
        name: pd.read_csv(SAMPLE_DIR / f"{name}.csv")
        for name in segwork.TABLE_NAMES
        if (SAMPLE_DIR / f"{name}.csv").exists()  # the sample is in one currency: no fx
    }
    frames.pop("mrr")  # derive it everywhere from subscriptions
    root = tmp_path_factory.mktemp("backends")
    pq = root / "parquet"
    pq.mkdir()
    for name, frame in frames.items():
        frame.to_parquet(pq / f"{name}.parquet")
    db = root / "sample.duckdb"
    con = duckdb.connect(str(db))
    for name, frame in frames.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    return {
        "csv": segwork.load_sample(),
        "pandas": segwork.load(frames),
        "parquet": segwork.load(pq),
        "duckdb": segwork.load(db),
    }


def _normal(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]) or c in ("signup_date",):
            out[c] = pd.to_datetime(out[c])
    return out.reset_index(drop=True)


@pytest.mark.parametrize("metric", list(CALLS))
def test_same_numbers_on_every_backend(backends, metric):
    results = {name: _normal(CALLS[metric](data)) for name, data in backends.items()}
    reference = results.pop("csv")
    assert len(reference) > 0
    for name, got in results.items():
        pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12, obj=f"{metric} on {name}")
