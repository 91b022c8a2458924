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
