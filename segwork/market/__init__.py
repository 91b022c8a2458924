"""Market sizing (docs/metrics.md "Market sizing"): TAM / SAM / SOM by segment with ranges and a
seeded Monte Carlo, the tornado of assumptions, penetration of the market by the customers, and the
ideal customer profile found in the data."""

from segwork.market.icp import ICP, ideal_customer_profile
from segwork.market.penetration import Penetration, penetration
from segwork.market.sensitivity import sensitivity
from segwork.market.sizing import MarketSize, market_size

__all__ = [
    "ICP",
    "MarketSize",
    "Penetration",
    "ideal_customer_profile",
    "market_size",
    "penetration",
    "sensitivity",
]
