"""Sections a page builds ahead while idle: time them through the widgets, at scale.

    python benchmarks/sections.py [--customers 1000000] [--label now] [--out benchmarks/results]

An A/B helper beside ``interactive.py``: it times the rows the pages' idle steps serve (the
segmentation page's Personas, the cohort page's Projection and Churn conventions), each page on
a fresh Dataset of the ``run.py`` Parquet cache, ``Explorer.prepare()`` standing for the idle
kernel.  To compare with another version, run it from that version's checkout on the same data
in the same hour (``PYTHONPATH=/path/to/checkout python benchmarks/sections.py --label base``),
alternating the two.  Prints one line per row and saves ``sections_<n>_<label>.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# segwork first, from the environment (a PYTHONPATH checkout for the other side of an A/B): run.py,
# imported next for its data cache, puts this checkout on the path
import segwork  # noqa: E402
import segwork.widgets  # noqa: E402

sys.path.insert(0, str(HERE))
import run as R  # noqa: E402

AS_OF = "2024-12-31"
FILTERED = {"period": "quarter", "by": "plan", "where": '{"billing_interval": ["annual"]}'}


def run_rows(d: Path, label: str) -> dict[str, float]:
    rows: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        rows[name] = round(time.perf_counter() - t0, 3)
        print(f"{label:6s} {name:55s} {rows[name]:7.2f}", flush=True)
        return out

    def change(page: Any, **values: Any) -> None:
        for param, value in values.items():
            page.controls[param].value = value
        if page.error:
            raise RuntimeError(f"the page shows an error: {page.error}")

    def click(page: Any, title: str) -> None:
        page.open_section(title)
        if page.error:
            raise RuntimeError(f"section {title!r} shows an error: {page.error}")

    def segmentation() -> None:
        data = segwork.load(d)  # loading is timed by run.py, not here
        seg = timed(
            "segmentation first render",
            lambda: segwork.widgets.SegmentExplorer(
                data, as_of=AS_OF, by=["plan", "billing_interval"]
            ),
        )
        timed("segmentation built ahead when idle", seg.prepare)
        timed("segmentation open Personas (page's state)", lambda: click(seg, "Personas"))
        timed("segmentation personas k 4 -> 5 (open)", lambda: change(seg, k=5))
        timed("segmentation churn window 6 (Personas open)", lambda: change(seg, window_months=6))

    def cohorts() -> None:
        data = segwork.load(d)
        coh = timed(
            "cohorts first render", lambda: segwork.widgets.CohortExplorer(data, as_of=AS_OF)
        )
        timed("cohorts built ahead when idle", coh.prepare)
        timed("cohorts open Projection (page's state)", lambda: click(coh, "Projection"))
        coh = segwork.widgets.CohortExplorer(segwork.load(d), as_of=AS_OF)  # a fresh page
        coh.prepare()
        change(coh, **FILTERED)
        timed("cohorts quarter/plan/annual: open Projection", lambda: click(coh, "Projection"))
        timed(
            "cohorts quarter/plan/annual: open Churn conventions",
            lambda: click(coh, "Churn conventions"),
        )

    segmentation()  # each page's caches are released before the next
    cohorts()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--label", default="now")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    args = ap.parse_args(argv)
    d, _ = R.ensure_data(args.customers, args.cache)
    rows = run_rows(d, args.label)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"sections_{args.customers}_{args.label}.json"
    out.write_text(
        json.dumps({"customers": args.customers, "as_of": AS_OF, "rows": rows}, indent=2)
    )
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
