"""The metric core: one Ibis implementation of every METRICS.md metric."""
