"""The digest of a report: headline KPIs kept in ``metrics.json`` and ``summary.md``, what changed.

Each run stores its headline KPIs under ``kpis`` in ``metrics.json`` (:func:`compute_kpis`,
computed by the report process itself with :func:`segwork.segment_table`, so they exist whatever
notebooks ran):

- subscription data: MRR, paying (active) customers, ARPA, logo churn (monthly, pooled over the
  last 12 months), 12-month NRR, and per segment (current plan x billing interval) MRR and
  paying customers;
- transactions-only data: revenue, buyers and orders over the last 12 months, AOV and the repeat
  rate, and per RFM segment revenue and buyers.

:func:`digest` compares them with the previous report of the same ``--out`` folder
(:func:`previous_report`): money and counts as signed changes (``+3.2 %``, ``+152``), rates in
percentage points (``-0.4 pp``), and the three segments that moved most.  The text is short
enough to paste into an e-mail or a chat message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from segwork.formatting import currency_code, signed_count, signed_money, signed_percent
from segwork.headline import HEADLINE_KPIS, Kpi, finite_number

__all__ = [
    "KPI_SPECS",
    "compute_kpis",
    "digest",
    "list_reports",
    "previous_report",
]

#: Per data kind: (key, label, unit) of the headline KPIs, in the order they are shown: those of
#: :data:`segwork.headline.HEADLINE_KPIS` a digest shows, keyed by their name in ``metrics.json``
#: (``logo_churn`` for the total row's ``churn_rate``); unit is "money" (change in % and amount),
#: "count" (signed number) or "rate" (change in pp).
KPI_SPECS: dict[str, list[tuple[str, str, str]]] = {
    kind: [
        ("logo_churn" if key == "churn_rate" else key, label, unit)
        for key, label, unit, shown in kpis
        if shown != "card"
    ]
    for kind, kpis in HEADLINE_KPIS.items()
}
# what the segments are and which figure ranks their moves, per data kind
_SEGMENTS: dict[str, tuple[list[str], str, str, str]] = {
    # kind: (by, measure, its label and unit, the count shown beside it)
    "subscription": (["current_plan", "billing_interval"], "mrr", "MRR", "active_customers"),
    "transactions": (["rfm_segment"], "revenue", "revenue", "buyers"),
}
_COUNT_LABEL = {"active_customers": "paying customers", "buyers": "buyers"}
DIGEST_TOP = 3


def _segment_label(row: Mapping[str, Any], by: Sequence[str]) -> str:
    text = " · ".join("(none)" if row.get(c) is None else str(row.get(c)) for c in by)
    return text[:1].upper() + text[1:]


def compute_kpis(data: Any, as_of: str, *, window_months: int = 12) -> dict[str, Any]:
    """The headline KPIs of ``data`` at ``as_of`` for ``metrics.json`` (see the module docstring).

    Data that is neither subscription nor transactions (a market table alone) has none:
    ``{"kind": ..., "figures": {}, "segments": []}``.
    """
    from segwork.metrics import segment_table

    kind = data.kind
    out: dict[str, Any] = {"kind": kind, "window_months": window_months, "figures": {}}
    if kind not in KPI_SPECS:
        out["segments"] = []
        return out
    total = segment_table(data, None, as_of, window_months=window_months).iloc[0]
    if kind == "subscription":
        figures = {
            "mrr": total["mrr"],
            "active_customers": total["active_customers"],
            "customers": total["customers"],
            "arpa": total["arpa"],
            "logo_churn": total["churn_rate"],
            "nrr_12m": total["nrr_12m"],
        }
    else:
        figures = {
            "revenue": total["revenue"],
            "buyers": total["buyers"],
            "orders": total["orders"],
            "customers": total["customers"],
            "aov": total["aov"],
            "repeat_rate": total["repeat_rate"],
        }
    out["figures"] = {k: finite_number(v) for k, v in figures.items()}
    by, measure, _, count = _SEGMENTS[kind]
    table = segment_table(data, by, as_of, window_months=window_months)
    out["segments_by"] = by
    out["segments"] = [
        {
            "segment": _segment_label(row, by),
            measure: finite_number(row[measure]),
            count: finite_number(row[count]),
        }
        for row in table.to_dict("records")
    ]
    return out


def list_reports(root: Path, *, exclude: str | None = None) -> list[dict[str, Any]]:
    """The reports in ``root``: the ``metrics.json`` of every ``<YYYY-MM-DD>/`` folder, with
    ``folder`` added, newest as_of first; unreadable folders are passed over."""
    found: list[dict[str, Any]] = []
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name.startswith(".") or folder.name == exclude:
            continue
        try:
            dt.date.fromisoformat(folder.name)
            metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        if isinstance(metrics, dict):
            found.append({**metrics, "folder": folder.name})
    found.sort(key=lambda m: (str(m.get("as_of", m["folder"])), m["folder"]), reverse=True)
    return found


def previous_report(root: Path, as_of: str) -> dict[str, Any] | None:
    """The report a run for ``as_of`` compares with: the newest report of an earlier as_of in
    ``root``, else the report of the same as_of that the run replaces (``same_as_of`` set), else
    None."""
    reports = list_reports(root)
    earlier = [m for m in reports if str(m.get("as_of", m["folder"])) < as_of]
    if earlier:
        return earlier[0]
    same = [m for m in reports if m["folder"] == as_of]
    return {**same[0], "same_as_of": True} if same else None


def _kpis_of(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics["kpis"]``; for a report written before they were kept, what its segmentation
    page's headline gives (MRR and customers)."""
    kpis = metrics.get("kpis")
    if isinstance(kpis, dict) and kpis.get("figures") is not None:
        return kpis
    seg = (metrics.get("notebooks") or {}).get("customer_segmentation") or {}
    for headline in seg.get("headline") or []:
        figures = headline.get("figures") or {}
        if "mrr" in figures:
            keep = ("mrr", "active_customers", "customers")
            return {
                "kind": "subscription",
                "figures": {k: finite_number(figures.get(k)) for k in keep},
                "segments": [],
            }
    return {"kind": None, "figures": {}, "segments": []}


def _generated(metrics: Mapping[str, Any]) -> str:
    stamp = str(metrics.get("generated_at") or "")
    try:
        return dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp or "an unknown time"


def _segment_moves(
    new: Mapping[str, Any], old: Mapping[str, Any], currency: str | None
) -> list[str]:
    kind = new.get("kind")
    if kind not in _SEGMENTS or old.get("kind") != kind or not old.get("segments"):
        return []
    if old.get("segments_by") != new.get("segments_by"):
        return []
    _, measure, label, count = _SEGMENTS[kind]
    before = {s["segment"]: s for s in old["segments"]}
    after = {s["segment"]: s for s in new.get("segments") or []}
    moves = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, {}), after.get(name, {})
        vb, va = finite_number(b.get(measure)) or 0.0, finite_number(a.get(measure)) or 0.0
        cb, ca = finite_number(b.get(count)) or 0.0, finite_number(a.get(count)) or 0.0
        moves.append((abs(va - vb), name, va, vb, ca - cb))
    moves.sort(key=lambda m: (-m[0], m[1]))
    lines = []
    for size, name, va, vb, dc in moves[:DIGEST_TOP]:
        if size < 0.5:
            break
        relative = signed_percent((va - vb) / abs(vb)) if vb else "new"
        lines.append(
            f"{name}: {label} {signed_money(va - vb, currency)} ({relative}), "
            f"{_COUNT_LABEL[count]} {signed_count(dc)}"
        )
    return lines


def digest(
    metrics: Mapping[str, Any], previous: Mapping[str, Any] | None, *, max_pages: int = 6
) -> str:
    """``summary.md`` of the report ``metrics`` against the ``previous`` one (or None)."""
    currency = currency_code((metrics.get("data") or {}).get("currency"))
    new = _kpis_of(metrics)
    lines = [f"# segwork report, as of {metrics['as_of']}", ""]
    old: dict[str, Any] | None = None
    if previous is None:
        lines.append("First report in this folder: nothing to compare with yet.")
    else:
        old = _kpis_of(previous)
        when = f"generated {_generated(previous)}"
        if previous.get("same_as_of"):
            lines.append(f"Compared with the previous run for the same date ({when}).")
        else:
            lines.append(f"Compared with the report as of {previous.get('as_of')} ({when}).")
    lines.append(f"Amounts in {currency}.")
    lines.append("")
    specs = KPI_SPECS.get(str(new.get("kind")), [])
    shown = 0
    for key, label, unit in specs:
        value = finite_number(new["figures"].get(key))
        if value is None:
            continue
        before = finite_number((old or {}).get("figures", {}).get(key)) if old else None
        kpi = Kpi(key, label, unit, value, before)  # written as on the pages' KPI cards
        text = f"- **{label}** {kpi.value_text(currency)}"
        if old is not None and before is not None:
            text += f": {kpi.change_text(currency)}"
        lines.append(text)
        shown += 1
    if not shown and new.get("error"):
        lines.append(f"- The headline figures could not be computed: {new['error']}")
    elif not shown:
        lines.append("- No headline figures: the data has no subscriptions or orders.")
    if old is not None:
        moves = _segment_moves(new, old, currency)
        if moves:
            by = " x ".join(str(c).replace("_", " ") for c in new.get("segments_by") or [])
            lines += ["", f"Largest segment moves ({by}):"]
            lines += [f"{i}. {m}" for i, m in enumerate(moves, 1)]
    pages = [n for n in (metrics.get("notebooks") or {})]
    skipped = metrics.get("skipped") or {}
    lines.append("")
    if pages:
        lines.append("Pages: " + ", ".join(p.replace("_", " ") for p in pages[:max_pages]) + ".")
    for name, why in skipped.items():
        lines.append(f"Not run: {name.replace('_', ' ')} ({why}).")
    return "\n".join(lines).rstrip() + "\n"
