"""The metric core runs unchanged on Spark through Ibis's PySpark backend (local[2] session).

Every metric on the sample must equal the DuckDB result.  Marked `spark`; skipped where pyspark or
Java is missing (tasks.sh test installs both).
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import segwork

pytestmark = pytest.mark.spark
if shutil.which("java") is None:
    pytest.skip("no Java runtime (tasks.sh test installs openjdk-17-jre-headless)", allow_module_level=True)
pyspark_sql = pytest.importorskip("pyspark.sql")

AS_OF = "2024-09-30"
CALLS = {
    "monthly_mrr": lambda d: segwork.monthly_mrr(d, AS_OF),
    "mrr_movements": lambda d: segwork.mrr_movements(d, AS_OF, by="plan"),
    "segment_table": lambda d: segwork.segment_table(d, ["billing_interval", "lifecycle_stage"], AS_OF),
    "segment_table_bins": lambda d: segwork.segment_table(
        d, ["company_size", "engagement"], AS_OF, bins={"company_size": [10, 50, 250]}),
    "cohort_logo": lambda d: segwork.cohort_retention(d, AS_OF, period="quarter"),
    "cohort_nrr": lambda d: segwork.cohort_retention(d, AS_OF, metric="nrr", by="region"),
    "cohort_grr_signup": lambda d: segwork.cohort_retention(d, AS_OF, metric="grr", cohort="signup"),
    "survival": lambda d: segwork.survival(d, AS_OF, by="billing_interval"),
    "rfm": lambda d: segwork.rfm(d, AS_OF),
    "engagement": lambda d: segwork.engagement(d, AS_OF),
}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    spark = (
        pyspark_sql.SparkSession.builder.master("local[2]").appName("segwork-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")  # pandas in via Arrow
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    reference = segwork.load_sample()
    for name in ("customers", "subscriptions", "events", "transactions", "market"):
        # a temporary view over the rows, as a notebook on a cluster registers its frames
        # (a managed table would write Parquet to the warehouse first: 8 s more)
        spark.createDataFrame(reference.to_pandas(name)).createOrReplaceTempView(name)
    yield reference, segwork.load(spark)  # a SparkSession is accepted directly
    spark.stop()


def _normal(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]) or c == "signup_date":
            out[c] = pd.to_datetime(out[c])
    return out


def test_spark_dataset_is_lazy_in_the_engine(datasets):
    _, on_spark = datasets
    assert on_spark.backend.name == "pyspark"
    assert on_spark.mrr_derived


@pytest.mark.parametrize("metric", list(CALLS))
def test_same_numbers_on_spark_as_on_duckdb(datasets, metric):
    reference, on_spark = datasets
    got, want = _normal(CALLS[metric](on_spark)), _normal(CALLS[metric](reference))
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9, obj=f"{metric} on Spark")
