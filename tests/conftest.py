"""Shared fixtures: small hand-made tables (kept tiny so the arithmetic can be checked by hand)."""

from __future__ import annotations

import pandas as pd
import pytest


def tiny_frames() -> dict[str, pd.DataFrame]:
    """Three customers with every table; valid under the contract."""
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": [1, 2, 3],
                "signup_date": ["2024-01-05", "2024-02-10", "2024-03-01"],
                "plan": ["pro", "starter", "pro"],
                "company_size": [12, 3, 400],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "customer_id": [1, 2, 3],
                "start_date": ["2024-01-05", "2024-02-10", "2024-03-01"],
                "end_date": [None, "2024-04-15", None],
                "amount": [1200.0, 10.0, 50.0],
                "billing_interval": ["year", "month", "month"],
                "quantity": [1, 3, 1],
                "discount": [0.0, 0.0, 0.2],
            }
        ),
        "events": pd.DataFrame(
            {
                "customer_id": [1, 2],
                "timestamp": ["2024-02-01 10:00:00", "2024-03-02 11:30:00"],
                "event": ["reports", "api"],
                "count": [3, 1],
            }
        ),
        "transactions": pd.DataFrame(
            {
                "customer_id": [1, 2, 2],
                "order_id": [10, 11, 12],
                "date": ["2024-01-05", "2024-02-10", "2024-03-10"],
                "amount": [1200.0, 30.0, 30.0],
            }
        ),
        "market": pd.DataFrame(
            {
                "industry": ["software", "retail"],
                "accounts": [1000, 500],
                "acv_low": [1000.0, 500.0],
                "acv_mode": [2000.0, 800.0],
                "acv_high": [5000.0, 1500.0],
            }
        ),
    }


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    return tiny_frames()


#: Test files that take the longest (minutes of ten browser sessions, a Spark session, report
#: runs, property tests over many dates), slowest first.  ``--dist loadfile`` hands files to the
#: workers in collection order: started first, they run beside the many short files instead of
#: leaving one worker alone at the end (tests/test_conftest.py).
SLOW_FILES = (
    "tests/test_app_load.py",
    "tests/browser/test_app_pages.py",
    "tests/test_report.py",
    "tests/test_spark.py",
    "tests/metrics/test_cohorts.py",
    "tests/metrics/test_history.py",
    "tests/test_report_faults.py",
    "tests/test_server.py",
    "tests/test_readme.py",
    "tests/test_app.py",
    "tests/test_report_notebooks.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run :data:`SLOW_FILES` first, in that order; every other item keeps its place (a stable
    sort, so the items of one file stay together and in order)."""
    rank = {name: i for i, name in enumerate(SLOW_FILES)}

    def key(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(SLOW_FILES))

    items.sort(key=key)
