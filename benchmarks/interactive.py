"""Interactive recompute: how long a page takes to answer a typical change, at scale.

    python benchmarks/interactive.py --customers 1000000 [--runs 3] [--out benchmarks/results]

Builds each explorer (segmentation, cohorts, market sizing) on ``make_saas_data(n)`` (the same
Parquet cache as ``run.py``) and times, through the page's own widgets (the handler a click
runs), the first render, what the page then builds ahead while its kernel is idle (the set-aside
histograms, the cohort page's quarters and years: ``Explorer.prepare``, timed on its own row),
and then typical changes a person makes: switch a criterion, change
as_of, change the period, add a filter.  Every change goes to a state not seen before, so the
explorer's memo cannot answer it; what can be reused is the engine's per-as_of cache.  The goal
(issue "Performance and scale-out") is under 0.5 s per change after the first render at 1M
customers.  Prints a table and saves JSON + Markdown under ``benchmarks/results/``.

The pages' slower parts are sections computed when opened (``View.sections``): "first render" is
the page with its sections closed; "every section (first display)" then computes them all, as the
first display of a notebook does for its static HTML (``to_html``); "open <section>" is the click
on a closed section after the changes before it; the last rows repeat a change with sections open.
That change runs on an event loop, as in a kernel: its row is the page's answer (the main part
drawn, the open sections marked as updating) and the row "...: every open section drawn" the
time until the last open section is drawn, one per turn of the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run as R  # noqa: E402

import segwork  # noqa: E402
import segwork.widgets  # noqa: E402

AS_OF = "2024-12-31"
OPEN = "@open"  # a click on the page's section of this title
#: Changes made with every section open run on an event loop, as in a kernel: the page answers
#: with its main part, then draws each open section on a later turn (a second row times that).
ALL_OPEN = "(all open)"
DRAWN = "every open section drawn"
AHEAD = "built ahead, kernel idle after the first render"

# (explorer, first state, [(change label, {param: widget value}), ...]); widget values as the
# controls take them (a multi-select takes a tuple, a date picker a date, JSON text a string).
SCENARIOS: list[tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = [
    (
        "SegmentExplorer",
        {"as_of": AS_OF, "by": ["plan", "billing_interval"]},
        [
            ("criterion -> country", {"by": ("country",)}),
            ("criterion -> plan x lifecycle_stage", {"by": ("plan", "lifecycle_stage")}),
            ("filter country = US", {"where": '{"country": ["US"]}'}),
            ("as_of -> 2024-06-30", {"as_of": dt.date(2024, 6, 30)}),
            ("as_of back to 2024-12-31 (seen before)", {"as_of": dt.date(2024, 12, 31)}),
            ("churn window 6 months", {"window_months": 6}),
            # the page's default criteria: plans as of each date (docs/metrics.md "Current and
            # first plan"), not the customers' plan at signup
            (
                "criterion -> current_plan x billing_interval",
                {"by": ("current_plan", "billing_interval")},
            ),
            ("as_of -> 2024-03-15 (current plan)", {"as_of": dt.date(2024, 3, 15)}),
            (
                "as_of back to 2024-12-31 (current plan, seen before)",
                {"as_of": dt.date(2024, 12, 31)},
            ),
            ("open Personas", {OPEN: "Personas"}),
            ("open Mix shift", {OPEN: "Mix shift"}),
            ("open Predicted customer value", {OPEN: "Predicted customer value"}),
            ("criterion -> region (all open)", {"by": ("region",)}),
        ],
    ),
    (
        "CohortExplorer",
        {"as_of": AS_OF},
        [
            ("metric -> nrr", {"metric": "nrr"}),
            ("period -> quarter", {"period": "quarter"}),
            ("split by plan", {"by": "plan"}),
            ("filter billing annual", {"where": '{"billing_interval": ["annual"]}'}),
            ("as_of -> 2024-06-30", {"as_of": dt.date(2024, 6, 30)}),
            ("as_of back to 2024-12-31 (seen before)", {"as_of": dt.date(2024, 12, 31)}),
            ("metric -> logo", {"metric": "logo"}),
            ("open Projection", {OPEN: "Projection"}),
            ("open MRR movements", {OPEN: "MRR movements"}),
            ("open Survival", {OPEN: "Survival"}),
            ("open Churn conventions", {OPEN: "Churn conventions"}),
            ("split by country (all open)", {"by": "country"}),
        ],
    ),
    (
        "MarketExplorer",
        {"as_of": AS_OF},
        [
            ("share 5% -> 8%", {"share": 0.08}),
            ("horizon 3 -> 5 years", {"horizon_years": 5}),
            ("as_of -> 2024-06-30", {"as_of": dt.date(2024, 6, 30)}),
        ],
    ),
]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _on_a_loop(change: Callable[[], Any], page: Any) -> tuple[float, float]:
    """``change()`` made on a running event loop, as in a kernel: seconds until the page has
    answered (its main part drawn, the open sections marked as updating) and until every open
    section is drawn (:attr:`segwork.widgets.Explorer.pending_sections`)."""

    async def run() -> tuple[float, float]:
        gc.collect()
        t0 = time.perf_counter()
        change()
        answered = time.perf_counter() - t0
        while page.pending_sections:
            await asyncio.sleep(0)
        return answered, time.perf_counter() - t0

    return asyncio.run(run())


def _click_open(page: Any, title: str) -> None:
    """Open the section ``title`` the way a click on its tab does (``open_section``)."""
    page.open_section(title)
    if page.error:
        raise RuntimeError(f"section {title!r} shows an error: {page.error}")


def run_scenarios(d: Path, runs: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, first, changes in SCENARIOS:
        cls = getattr(segwork.widgets, name)
        firsts: list[float] = []
        aheads: list[float] = []
        wholes: list[float] = []
        per_change: dict[str, list[float]] = {label: [] for label, _ in changes}
        for _ in range(runs):
            data = segwork.load(d)  # fresh Dataset each run: nothing cached in the engine
            explorer, sec = _timed(lambda data=data: cls(data, **first))
            firsts.append(sec)
            # what the page builds once shown, while its kernel is idle (segwork.widgets.idle)
            _, sec = _timed(explorer.prepare)
            aheads.append(sec)
            _, sec = _timed(explorer.to_html)  # every section, as a notebook's first display
            wholes.append(sec)
            for label, values in changes:

                def change(values: dict[str, Any] = values, page: Any = explorer) -> None:
                    for param, value in values.items():
                        if param == OPEN:
                            _click_open(page, value)
                        else:
                            page.controls[param].value = value

                if ALL_OPEN in label:  # on a kernel's loop: the answer, then the sections
                    sec, drawn = _on_a_loop(change, explorer)
                    per_change.setdefault(f"{label}: {DRAWN}", []).append(drawn)
                else:
                    _, sec = _timed(change)
                if explorer.error:
                    raise RuntimeError(f"{name} {label}: the page shows an error: {explorer.error}")
                per_change[label].append(sec)
            del explorer, data
        rows.append({"explorer": name, "change": "first render", "runs": firsts})
        rows.append({"explorer": name, "change": AHEAD, "runs": aheads})
        rows.append({"explorer": name, "change": "every section (first display)", "runs": wholes})
        rows += [{"explorer": name, "change": k, "runs": v} for k, v in per_change.items()]
        for r in rows[-len(per_change) - 3 :]:
            r["min_s"], r["median_s"] = min(r["runs"]), statistics.median(r["runs"])
            print(f"  {name:16s} {r['change']:38s} median {r['median_s']:6.3f}s", flush=True)
    return rows


def markdown(n: int, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"### Interactive recompute, {n:,} customers (as_of {AS_OF})",
        "",
        "| explorer | change | min s | median s | under 0.5 s |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        first = r["change"] in ("first render", AHEAD, "every section (first display)")
        first = first or r["change"].endswith(DRAWN)  # sections: the 2 s goal of opening one
        ok = "" if first else ("yes" if r["median_s"] < 0.5 else "no")
        lines.append(
            f"| {r['explorer']} | {r['change']} | {r['min_s']:.3f} | {r['median_s']:.3f} | {ok} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--customers", default="1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for n in (int(float(x)) for x in args.customers.split(",")):
        d, gen = R.ensure_data(n, args.cache)
        print(f"\n=== interactive, {n:,} customers ({'cached' if gen is None else f'{gen:.0f}s'})")
        rows = run_scenarios(d, args.runs)
        md = markdown(n, rows)
        print("\n" + md)
        base = args.out / f"interactive_{n}_{dt.date.today().isoformat()}"
        base.with_suffix(".json").write_text(
            json.dumps({"customers": n, "as_of": AS_OF, "rows": rows}, indent=2)
        )
        base.with_suffix(".md").write_text(md)
        print(f"saved {base}.json / .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
