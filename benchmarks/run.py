"""Benchmark segwork against hand-written DuckDB SQL (plain and fastest), Polars and pandas.

    python benchmarks/run.py --customers 100000,1000000 --runs 3 [--metrics segment_table,rfm]
        [--engines segwork,duckdb_sql,fast_sql,polars,pandas]
        [--out benchmarks/results] [--skip-pandas-above 1000000] [--as-of 2024-12-31]

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import baselines as B  # noqa: E402

import segwork  # noqa: E402
import segwork.clv  # noqa: E402

BY = ["plan", "billing_interval"]
METRICS = [
    "segment_table",
    "cohort_logo",
    "cohort_nrr",
    "mrr_movements",
    "survival",
    "rfm",
    "clv_summary",
    "clv",
    "mrr_movements_fx",
]
#: metrics timed on the data's several-currency copy (ensure_fx_data)
FX_METRICS = {"mrr_movements_fx"}
ENGINES = ["segwork", "duckdb_sql", "fast_sql", "polars", "pandas"]
#: engine -> prefix of its functions in baselines.py
PREFIX = {"duckdb_sql": "sql_", "fast_sql": "fast_sql_", "polars": "pl_", "pandas": "pd_"}
#: pairs cross-checked after each metric (first, second)
PAIRS = [("segwork", e) for e in ENGINES[1:]] + [("duckdb_sql", "pandas"), ("fast_sql", "polars")]

_MOVEMENTS = [
    "mrr_start",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "mrr_end",
    "customers_start",
    "customers_end",
]
# key columns and compared value columns per metric
COMPARE = {
    "segment_table": (
        BY,
        [
            "customers",
            "active_customers",
            "mrr",
            "at_risk_customer_months",
            "churned_customer_months",
            "churn_rate",
            "nrr_12m",
            "ltv",
        ],
    ),
    "cohort_logo": (["cohort", "age"], ["cohort_customers", "active_customers", "retention"]),
    "cohort_nrr": (["cohort", "age"], ["mrr_base", "mrr_at_age", "nrr"]),
    "mrr_movements": (["month"], _MOVEMENTS),
    "survival": (["tenure"], ["n_at_risk", "n_events", "n_censored", "survival"]),
    "rfm": (
        ["customer_id"],
        ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment"],
    ),
    # the same bridge, with the change of the start MRR's value from last month's rates
    "mrr_movements_fx": (["month"], [*_MOVEMENTS[:6], "fx_adjustment", *_MOVEMENTS[6:]]),
    "clv_summary": (["customer_id"], ["frequency", "recency", "T", "monetary_value"]),
    "clv": (["customer_id"], ["frequency", "p_alive", "expected_purchases", "clv"]),
}


def segwork_call(metric: str, data, as_of):
    if metric == "segment_table":
        return segwork.segment_table(data, BY, as_of)
    if metric == "cohort_logo":
        return segwork.cohort_retention(data, as_of)
    if metric == "cohort_nrr":
        return segwork.cohort_retention(data, as_of, metric="nrr")
    if metric == "mrr_movements":
        return segwork.mrr_movements(data, as_of)
    if metric == "survival":
        return segwork.survival(data, as_of)
    if metric == "rfm":
        return segwork.rfm(data, as_of)
    if metric == "mrr_movements_fx":
        return segwork.mrr_movements(data, as_of)
    if metric == "clv_summary":
        return segwork.clv.clv_summary(data, as_of)
    if metric == "clv":
        return segwork.clv.predict_clv(data, as_of, on_value_error="missing")
    raise ValueError(metric)


def baseline_call(engine: str, metric: str, d: Path, as_of: dt.date):
    p = PREFIX[engine]
    if metric in FX_METRICS:
        return getattr(B, p + metric)(ensure_fx_data(d), as_of)
    if metric == "segment_table":
        return getattr(B, p + "segment_table")(d, as_of, BY)
    if metric == "cohort_logo":
        return getattr(B, p + "cohort_retention")(d, as_of, "logo")
    if metric == "cohort_nrr":
        return getattr(B, p + "cohort_retention")(d, as_of, "nrr")
    return getattr(B, p + metric)(d, as_of)


class PeakRSS:
    """Samples this process's RSS every 5 ms while active (DuckDB memory is in-process too)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.start = self.proc.memory_info().rss
        self.peak = self.start
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def delta_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def timed(fn):
    gc.collect()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        out = fn()
        sec = time.perf_counter() - t0
    return out, sec, mem.delta_mb, mem.peak / 2**20


#: Sizes above this are generated in chunks of this many customers (bounded memory).
CHUNK = 1_000_000


def ensure_data(n: int, cache: Path) -> tuple[Path, float | None]:
    """Parquet files of ``make_saas_data(n)`` under ``cache/n`` (generated once, then reused).

    Up to :data:`CHUNK` customers it is one ``make_saas_data(n, random_state=0)``.  Larger sizes
    are generated as independent chunks (``random_state`` = chunk number, ids offset so they stay
    unique) and concatenated by DuckDB, so generating 5M customers needs the memory of 1M.
    """
    d = cache / str(n)
    if (d / "customers.parquet").exists() and (d / "mrr.parquet").exists():
        return d, None
    t0 = time.perf_counter()
    d.mkdir(parents=True, exist_ok=True)
    if n <= CHUNK:
        data = segwork.make_saas_data(n, random_state=0)
        data.write(d, format="parquet")
        del data
    else:
        _generate_chunked(n, d)
    gen = time.perf_counter() - t0
    gc.collect()
    return d, gen


def ensure_fx_data(d: Path) -> Path:
    """``<d>-fx``: the customers and MRR of ``d`` with each customer's MRR in USD (6 in 10),
    EUR or GBP (by ``customer_id % 10``) and an ``fx`` table of monthly rates to USD (written
    once; the MRR amounts are kept and read in the customer's currency)."""
    import duckdb

    out = d.parent / f"{d.name}-fx"
    if (out / "fx.parquet").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{d / 'customers.parquet'}')) "
            f"TO '{out / 'customers.parquet'}' (FORMAT parquet)"
        )
        con.execute(
            f"""COPY (SELECT customer_id, month, mrr,
                CASE WHEN customer_id % 10 IN (6, 7) THEN 'EUR'
                     WHEN customer_id % 10 IN (8, 9) THEN 'GBP' ELSE 'USD' END AS currency
              FROM read_parquet('{d / "mrr.parquet"}'))
            TO '{out / "mrr.parquet"}' (FORMAT parquet)"""
        )
        con.execute(
            f"""COPY (
              WITH months AS (
                SELECT unnest(range(min(month), max(month) + INTERVAL 1 MONTH, INTERVAL 1 MONTH))
                  AS month FROM read_parquet('{d / "mrr.parquet"}')),
              i AS (SELECT CAST(month AS DATE) AS month,
                      row_number() OVER (ORDER BY month) - 1 AS k FROM months)
              SELECT 'EUR' AS currency, month, round(1.10 + 0.05 * sin(k / 3.0), 4) AS rate FROM i
              UNION ALL
              SELECT 'GBP', month, round(1.27 + 0.04 * cos(k / 4.0), 4) FROM i
            ) TO '{out / "fx.parquet"}' (FORMAT parquet)"""
        )
    return out


def _generate_chunked(n: int, d: Path) -> None:
    import duckdb

    from segwork.data.generate import generate_frames

    parts = d / "parts"
    parts.mkdir(exist_ok=True)
    ids = {"customers": "customer_id", "subscriptions": "subscription_id",
           "transactions": "order_id"}  # fmt: skip
    offsets = dict.fromkeys(["customer_id", *ids.values()], 0)
    for i, start in enumerate(range(0, n, CHUNK)):
        size = min(CHUNK, n - start)
        print(f"  generating chunk {i} ({size:,} customers)", flush=True)
        frames = generate_frames(size, random_state=i)
        if i:
            frames.pop("market")  # the market table is not per customer: keep chunk 0's
        for name, frame in frames.items():
            if "customer_id" in frame:
                frame["customer_id"] += offsets["customer_id"]
            own = ids.get(name)
            if own and own != "customer_id":
                frame[own] += offsets[own]
        for own in offsets:
            holder = next(f for nm, f in frames.items() if ids.get(nm) == own)
            offsets[own] = int(holder[own].max())
        data = segwork.load(frames)
        del frames
        data.write(parts / str(i), format="parquet")
        del data
        gc.collect()
    con = duckdb.connect()
    for f in sorted((parts / "0").glob("*.parquet")):
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{parts}/*/{f.name}')) TO '{d / f.name}' "
            "(FORMAT parquet)"
        )
    con.close()
    for f in parts.glob("*/*.parquet"):
        f.unlink()
    for sub in parts.iterdir():
        sub.rmdir()
    parts.rmdir()


# ------------------------------------------------------------------------------------------------
def _norm(df: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    df = df[[*keys, *[c for c in cols if c in df.columns]]].copy()
    for k in keys:
        if "date" in str(df[k].dtype) or k in ("cohort", "month"):
            df[k] = pd.to_datetime(df[k]).astype("datetime64[ns]")
        elif df[k].dtype == object:
            df[k] = df[k].astype(str)
    return df.set_index(keys).sort_index()


def compare(metric: str, a: pd.DataFrame, b: pd.DataFrame, rtol=1e-6, atol=1e-6) -> list[str]:
    """Mismatch notes (empty list = same numbers) between two results of one metric."""
    keys, cols = COMPARE[metric]
    try:
        x, y = _norm(a, keys, cols), _norm(b, keys, cols)
    except Exception as err:
        return [f"could not compare: {type(err).__name__}: {err}"]
    notes = []
    only_x = x.index.difference(y.index)
    only_y = y.index.difference(x.index)
    if len(only_x):
        notes.append(f"{len(only_x)} rows only in first, e.g. {list(only_x[:3])}")
    if len(only_y):
        notes.append(f"{len(only_y)} rows only in second, e.g. {list(only_y[:3])}")
    common = x.index.intersection(y.index)
    for c in cols:
        if c not in x.columns or c not in y.columns:
            notes.append(f"column {c} missing")
            continue
        u, v = x.loc[common, c], y.loc[common, c]
        if u.dtype == object or v.dtype == object:
            bad = u.astype(str).to_numpy() != v.astype(str).to_numpy()
        else:
            uf, vf = u.to_numpy(dtype="float64"), v.to_numpy(dtype="float64")
            bad = ~(np.isclose(uf, vf, rtol=rtol, atol=atol) | (np.isnan(uf) & np.isnan(vf)))
        if bad.any():
            i = np.flatnonzero(bad)[:3]
            ex = [(common[j], u.iloc[j], v.iloc[j]) for j in i]
            notes.append(f"{c}: {int(bad.sum())}/{len(common)} rows differ, e.g. {ex}")
    return notes


# ------------------------------------------------------------------------------------------------
def read_files(engine: str, d: Path):
    """The read floor of ``load``: every file of the folder read into the engine's memory.

    DuckDB: ``CREATE TABLE t AS SELECT * FROM read_parquet(...)`` per file (in-memory tables);
    Polars: ``pl.read_parquet`` per file.  segwork: ``segwork.load(d)`` (read + every contract
    rule checked).
    """
    if engine == "segwork":
        return segwork.load(d)
    if engine == "polars":
        return B.pl_load(d)
    import duckdb

    con = duckdb.connect()
    for f in sorted(d.glob("*.parquet")):
        con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_parquet('{f}')")
    return con


def csv_copy(d: Path) -> Path:
    """The same tables as CSV files, in ``<d>-csv`` (written once by DuckDB, then reused)."""
    import duckdb

    out = d.parent / f"{d.name}-csv"
    files = sorted(d.glob("*.parquet"))
    if all((out / f"{f.stem}.csv").exists() for f in files):
        return out
    out.mkdir(exist_ok=True)
    con = duckdb.connect()
    for f in files:
        con.execute(f"COPY (SELECT * FROM read_parquet('{f}')) TO '{out / (f.stem + '.csv')}'")
    con.close()
    return out


def read_csv_files(engine: str, d: Path):
    """Like :func:`read_files`, from the CSV copy: segwork.load, DuckDB ``read_csv`` (its sniffer
    typing every column), Polars ``read_csv``."""
    if engine == "segwork":
        return segwork.load(d)
    if engine == "polars":
        import polars as pl

        return {p.stem: pl.read_csv(p) for p in sorted(d.glob("*.csv"))}
    import duckdb

    con = duckdb.connect()
    for f in sorted(d.glob("*.csv")):
        con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv('{f}')")
    return con


def worker(engine: str, n: int, args, as_of: dt.date, tmp: Path) -> None:
    """One engine's timings at one size, in this (fresh) process; results under ``tmp``."""
    d = args.cache / str(n)
    rows = []
    if args.load and engine in ("segwork", "duckdb_sql", "fast_sql", "polars"):
        secs, deltas, peaks = [], [], []
        for _ in range(args.runs):
            out, s, dm, pk = timed(lambda: read_files(engine, d))
            del out
            secs.append(s)
            deltas.append(dm)
            peaks.append(pk)
        rows.append(_row("load", engine, secs, None, deltas, peaks))
        print(f"  {'load':14s} {engine:10s} median {statistics.median(secs):7.3f}s", flush=True)
    if args.csv and engine in ("segwork", "duckdb_sql", "fast_sql", "polars"):
        csv_dir = csv_copy(d)
        secs, deltas, peaks = [], [], []
        for _ in range(args.runs):
            out, s, dm, pk = timed(lambda: read_csv_files(engine, csv_dir))
            del out
            secs.append(s)
            deltas.append(dm)
            peaks.append(pk)
        rows.append(_row("load_csv", engine, secs, None, deltas, peaks))
        print(f"  {'load_csv':14s} {engine:10s} median {statistics.median(secs):7.3f}s", flush=True)
    for metric in args.metrics:
        secs, deltas, peaks, warm = [], [], [], None
        out = None
        for _ in range(args.runs):
            if engine == "segwork":
                # a FRESH dataset: no cached monthly MRR
                if metric in FX_METRICS:
                    data = segwork.load(ensure_fx_data(d), base_currency=B.BASE_CURRENCY)
                else:
                    data = segwork.load(d)
                out, s, dm, pk = timed(lambda data=data: segwork_call(metric, data, as_of))
                # warm: second call on the same Dataset (monthly MRR cached in the engine)
                _, ws, _, _ = timed(lambda data=data: segwork_call(metric, data, as_of))
                warm = ws if warm is None else min(warm, ws)
                del data
            else:
                out, s, dm, pk = timed(lambda: baseline_call(engine, metric, d, as_of))
            secs.append(s)
            deltas.append(dm)
            peaks.append(pk)
        keys, cols = COMPARE[metric]
        keep = out[[*keys, *[c for c in cols if c in out.columns]]].reset_index(drop=True)
        keep.to_pickle(tmp / f"{engine}__{metric}.pkl")
        rows.append(_row(metric, engine, secs, warm, deltas, peaks))
        print(
            f"  {metric:14s} {engine:10s} min {min(secs):7.3f}s  median "
            f"{statistics.median(secs):7.3f}s"
            + (f"  warm {warm:7.3f}s" if warm is not None else "")
            + f"  rss +{max(deltas):7.1f} MB",
            flush=True,
        )
    (tmp / f"{engine}.json").write_text(json.dumps(rows))


def _row(metric, engine, secs, warm, deltas, peaks) -> dict:
    return {
        "metric": metric,
        "engine": engine,
        "skipped": False,
        "min_s": min(secs),
        "median_s": statistics.median(secs),
        "runs": secs,
        "warm_s": warm,
        "rss_delta_mb": max(deltas),
        "rss_peak_mb": max(peaks),
    }


def run_size(n: int, args, as_of: dt.date) -> dict:
    """Every engine in its own process, runs interleaved across engines, then the cross-check."""
    import subprocess
    import tempfile

    d, gen = ensure_data(n, args.cache)
    print(
        f"\n=== {n:,} customers  (data: {d}; "
        f"{f'generated in {gen:.1f}s' if gen is not None else 'cached'})",
        flush=True,
    )
    rows: list[dict] = []
    mismatches: list[dict] = []
    engines = list(args.engines)
    if "pandas" in engines and args.skip_pandas_above and n > args.skip_pandas_above:
        engines.remove("pandas")
        rows += [{"metric": m, "engine": "pandas", "skipped": True} for m in args.metrics]
    with tempfile.TemporaryDirectory(prefix="segwork-bench-") as tmpdir:
        tmp = Path(tmpdir)
        runs: dict[tuple[str, str], list[dict]] = {}
        failed: set[str] = set()
        # run r of every engine, then run r + 1 of every engine: a slow spell of the machine
        # (other jobs) hits every engine alike instead of one engine's runs
        for r in range(args.runs):
            print(f"  -- run {r + 1} of {args.runs}", flush=True)
            for engine in engines:
                if engine in failed:
                    continue
                cmd = [
                    sys.executable, __file__, "--worker", engine, "--customers", str(n),
                    "--runs", "1", "--metrics", ",".join(args.metrics),
                    "--cache", str(args.cache), "--as-of", str(as_of), "--tmp", str(tmp),
                ] + ([] if args.load else ["--no-load"]) + (["--csv"] if args.csv else [])  # fmt: skip
                proc = subprocess.run(cmd, check=False)
                if proc.returncode:
                    print(f"  !! {engine} failed (exit {proc.returncode})", flush=True)
                    failed.add(engine)
                    continue
                for row in json.loads((tmp / f"{engine}.json").read_text()):
                    runs.setdefault((row["metric"], row["engine"]), []).append(row)
        done = [e for e in engines if e not in failed]
        for (metric, engine), got in runs.items():
            if engine in done:
                warms = [g["warm_s"] for g in got if g["warm_s"] is not None]
                rows.append(
                    _row(
                        metric,
                        engine,
                        [s for g in got for s in g["runs"]],
                        min(warms) if warms else None,
                        [g["rss_delta_mb"] for g in got],
                        [g["rss_peak_mb"] for g in got],
                    )
                )
        for metric in args.metrics:
            for e1, e2 in PAIRS:
                if e1 in done and e2 in done:
                    a = pd.read_pickle(tmp / f"{e1}__{metric}.pkl")
                    b = pd.read_pickle(tmp / f"{e2}__{metric}.pkl")
                    for note in compare(metric, a, b):
                        mismatches.append(
                            {"metric": metric, "engines": f"{e1} vs {e2}", "note": note}
                        )
                        print(f"  !! MISMATCH {metric}: {e1} vs {e2}: {note}", flush=True)
    load = [r for r in rows if r["metric"] == "load" and r["engine"] == "segwork"]
    return {
        "customers": n,
        "as_of": str(as_of),
        "generate_s": gen,
        "segwork_load_s_median": load[0]["median_s"] if load else None,
        "rows": _ratios(rows),
        "mismatches": mismatches,
    }


#: ratio columns: name -> (numerator engine, denominator engine)
RATIOS = {
    "segwork_over_sql": ("segwork", "duckdb_sql"),
    "segwork_over_fast_sql": ("segwork", "fast_sql"),
    "segwork_over_polars": ("segwork", "polars"),
    "pandas_over_segwork": ("pandas", "segwork"),
}


def _ratios(rows: list[dict]) -> list[dict]:
    by = {(r["metric"], r["engine"]): r for r in rows}
    ok = lambda x: x is not None and not x.get("skipped")  # noqa: E731
    for r in rows:
        for name, (num, den) in RATIOS.items():
            x, y = by.get((r["metric"], num)), by.get((r["metric"], den))
            if den == "fast_sql":  # the fastest SQL: the quicker of the two hand-written ones
                sqls = [by.get((r["metric"], e)) for e in ("fast_sql", "duckdb_sql")]
                sqls = [q for q in sqls if ok(q)]
                y = min(sqls, key=lambda q: q["median_s"]) if sqls else None
                if y is not None:  # the quicker one by median; its min is the min of both
                    y = {**y, "min_s": min(q["min_s"] for q in sqls)}
            r[name] = (x["median_s"] / y["median_s"]) if ok(x) and ok(y) else None
            # on a shared machine the minimum is the steadier figure: kept in the JSON too
            r[name + "_min"] = (x["min_s"] / y["min_s"]) if ok(x) and ok(y) else None
    return rows


def markdown(res: dict) -> str:
    lines = [f"### {res['customers']:,} customers (as_of {res['as_of']})", ""]
    if res["generate_s"] is not None:
        lines.append(f"make_saas_data: {res['generate_s']:.1f} s.  ")
    lines += [
        "Each engine ran in its own process. `load`: segwork.load(dir) (read + every contract "
        "rule) vs DuckDB CREATE TABLE AS read_parquet of every file and Polars read_parquet "
        "(`load_csv`: the same from CSV copies, read_csv); metric times exclude it.",
        "",
        "| metric | engine | min s | median s | warm s | RSS delta MB | peak RSS MB "
        "| segwork/sql | segwork/fastest sql | segwork/polars | pandas/segwork |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    f = lambda x, p=3: "" if x is None else f"{x:.{p}f}"  # noqa: E731
    for r in res["rows"]:
        if r.get("skipped"):
            lines.append(f"| {r['metric']} | {r['engine']} | skipped | | | | | | | | |")
            continue
        sw = r["engine"] == "segwork"
        lines.append(
            f"| {r['metric']} | {r['engine']} | {f(r['min_s'])} | {f(r['median_s'])} | "
            f"{f(r['warm_s'])} | {f(r['rss_delta_mb'], 0)} | {f(r['rss_peak_mb'], 0)} | "
            + " | ".join(
                f(r[k], 2 if k != "pandas_over_segwork" else 1) if sw else "" for k in RATIOS
            )
            + " |"
        )
    lines += ["", "Mismatches: " + ("none" if not res["mismatches"] else "")]
    for m in res["mismatches"]:
        lines.append(f"- **{m['metric']}** ({m['engines']}): {m['note']}")
    return "\n".join(lines) + "\n"


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--customers", default="100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--metrics", default=",".join(METRICS), help=f"comma list of {METRICS}")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    ap.add_argument("--as-of", default="2024-12-31")
    ap.add_argument(
        "--skip-pandas-above",
        type=int,
        default=0,
        help="skip the pandas baseline for sizes above N customers (0 = never)",
    )
    ap.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"comma list of {ENGINES} (e.g. leave pandas out to measure segwork's peak RSS "
        "without the pandas baseline's memory in the same process)",
    )
    ap.add_argument("--no-load", dest="load", action="store_false", help="do not time load")
    ap.add_argument(
        "--csv",
        action="store_true",
        help="also time loading the same tables from CSV (a copy written once to <cache>/<n>-csv)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: one engine, one process
    ap.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if set(args.engines) - set(ENGINES):
        ap.error(
            f"unknown engines {sorted(set(args.engines) - set(ENGINES))}; choose from {ENGINES}"
        )
    args.metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = set(args.metrics) - set(METRICS)
    if unknown:
        ap.error(f"unknown metrics {sorted(unknown)}; choose from {METRICS}")
    sizes = [int(float(x)) for x in args.customers.split(",")]
    as_of = dt.date.fromisoformat(args.as_of)
    if args.worker:
        worker(args.worker, sizes[0], args, as_of, args.tmp)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    env = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "segwork": segwork.__version__,
        "pandas": pd.__version__,
        "duckdb": __import__("duckdb").__version__,
        "ibis": __import__("ibis").__version__,
        "polars": _version("polars"),
    }
    stamp = dt.date.today().isoformat()
    for n in sizes:
        res = run_size(n, args, as_of)
        res["env"] = env
        md = markdown(res)
        print("\n" + md)
        base = args.out / f"bench_{n}_{stamp}"
        base.with_suffix(".json").write_text(json.dumps(res, indent=2, default=str))
        base.with_suffix(".md").write_text(md)
        print(f"saved {base}.json / .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
