"""Figures of the cohort retention page: heat map, curves, MRR bridge and rates, survival.

Every builder takes the DataFrame a metric function returned and draws it; nothing is computed
here except presentation (pivoting, labels, formatting).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segwork.formatting import currency_prefix, money_axis, money_text
from segwork.labels import column_title
from segwork.plots._style import (
    LABEL_FONT_SIZE,
    PALETTE,
    SEQUENTIAL,
    axis_title,
    money_ticks,
    styled,
)

__all__ = [
    "cell_text_layout",
    "cohort_heatmap",
    "cohort_label",
    "mrr_bridge",
    "mrr_rates",
    "retention_curves",
    "survival_curves",
]

#: Marker appended to the row label of a cohort under the minimum size.
SMALL_MARK = "⚑"
_BRIDGE = (
    ("new", "New", 1, "#009E73"),
    ("reactivation", "Reactivation", 1, "#56B4E9"),
    ("expansion", "Expansion", 1, "#0072B2"),
    ("contraction", "Contraction", -1, "#E69F00"),
    ("churn", "Churn", -1, "#D55E00"),
)
#: The ratio columns of the cohort tables in words (axis, colour-bar and hover titles), used
#: while :data:`segwork.labels.LABELS` does not list them.
RATIO_TITLES = {
    "retention": "Logo retention (% of the cohort)",
    "nrr": "NRR (% of the cohort's starting MRR)",
    "grr": "GRR (% of the cohort's starting MRR)",
}
#: The bridge's currency term (docs/metrics.md "Currencies"), its bar's name and colour.
FX_COLUMN = "fx_adjustment"
FX_LABEL = "FX adjustment"
FX_COLOUR = "#999999"
_AVERAGE = "Weighted average"
#: The heat map writes each cell's value in it up to this many ages (columns); past it the cells
#: are too narrow for a readable label and the values are in the hover only.
MAX_LABELLED_AGES = 18
#: The width (px) a heat map is assumed to have when deciding whether its cells can hold their
#: values: the pages' figures fill a column of about 1,000 px (the hover always has the value).
ASSUMED_WIDTH = 960
#: Height (px) of a heat-map row with its value written in it, and of one without (the row
#: label stays readable).
TEXT_ROW_PX = 24
HOVER_ROW_PX = 18
#: The tallest heat map (px); past it plotly thins out the row labels.
MAX_HEIGHT = 2400
#: Average width of a character of the 12 px label font, as a share of the font size.
_CHAR_WIDTH = 0.62


def cohort_label(value: Any, period: str = "month") -> str:
    """How a cohort (the first day of its period) is named: 2024-01, 2024-Q1, 2024, 2024-01-08."""
    ts = pd.Timestamp(value)
    if period == "quarter":
        return f"{ts.year}-Q{(ts.month - 1) // 3 + 1}"
    if period == "year":
        return f"{ts.year}"
    if period == "week":
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m")


def cell_text_layout(
    n_rows: int,
    n_cols: int,
    longest_text: int,
    longest_row_label: int = 20,
    width: int = ASSUMED_WIDTH,
) -> tuple[bool, int]:
    """Whether a heat map's cells can hold their values at :data:`LABEL_FONT_SIZE` px, and the
    figure height that gives each row room for them.

    A cell must be at least the text's width (``longest_text`` characters) plus padding wide,
    within the plot area left by the row labels (``longest_row_label`` characters) and the colour
    bar, and :data:`TEXT_ROW_PX` high; then each row gets :data:`TEXT_ROW_PX`.  Otherwise the
    values are left to the hover and each row gets :data:`HOVER_ROW_PX` (up to
    :data:`MAX_HEIGHT`).  Never more than :data:`MAX_LABELLED_AGES` columns are labelled.

    Parameters
    ----------
    n_rows, n_cols : int
        Rows (cohorts and average rows) and columns (ages) of the heat map.
    longest_text : int
        Characters of the longest cell value ("100%" is 4).
    longest_row_label : int, default 20
        Characters of the longest row label ("2024-01 (n=1,234)" is 17).
    width : int, default :data:`ASSUMED_WIDTH`
        The figure's width in px.

    Returns
    -------
    (bool, int)
        Show the cell text; the figure height in px (at least 420).

    Examples
    --------
    >>> cell_text_layout(12, 12, 4)  # a year of monthly cohorts: values in the cells
    (True, 428)
    >>> cell_text_layout(36, 36, 4)  # three years: cells 17 px wide, values in the hover
    (False, 788)
    """
    char_px = _CHAR_WIDTH * LABEL_FONT_SIZE
    plot_width = width - (longest_row_label * 0.55 * 13 + 20) - 100 - 20  # labels, colour bar
    wide_enough = (
        n_cols <= MAX_LABELLED_AGES
        and plot_width / max(n_cols, 1) >= longest_text * char_px + 8
    )
    row_px = TEXT_ROW_PX if wide_enough else HOVER_ROW_PX
    height = int(min(MAX_HEIGHT, max(420, 140 + row_px * n_rows)))
    tall_enough = (height - 140) / max(n_rows, 1) >= LABEL_FONT_SIZE + 8
    return wide_enough and tall_enough, height


def _period_words(period: str) -> tuple[str, str]:
    """("month", "months") of a cohort period."""
    unit = period if period in ("week", "month", "quarter", "year") else "period"
    return unit, f"{unit}s"


def _segment_columns(df: pd.DataFrame, first_value: str) -> list[str]:
    cols = list(df.columns)
    if first_value not in cols:
        raise ValueError(f"expected a {first_value!r} column; columns are {cols}")
    return cols[: cols.index(first_value)]


def _segment_label(values: Sequence[Any]) -> str:
    return " · ".join("(none)" if pd.isna(v) else str(v) for v in values)


def _columns_of(long: pd.DataFrame) -> tuple[str, str, str]:
    """(size column, count-at-age column, ratio column) of a cohort_retention table."""
    if "retention" in long.columns:
        return "cohort_customers", "active_customers", "retention"
    for metric in ("nrr", "grr"):
        if metric in long.columns:
            return "mrr_base", "mrr_at_age", metric
    raise ValueError(
        "expected a cohort_retention() table (retention, nrr or grr column); got columns "
        f"{list(long.columns)}"
    )


def _fmt(v: float, pct: bool) -> str:
    if v is None or pd.isna(v):
        return ""
    if pct:
        return f"{100 * v:.0f}%"
    return f"{v:,.0f}"


def _rows(
    frame: pd.DataFrame, by: list[str], ages: list[int], col: str
) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """Row keys ``(*by, cohort)`` in order and the row x age matrix of ``col`` (NaN if absent)."""
    keys = [*by, "cohort"] if "cohort" in frame.columns else list(by)
    if not keys:
        wide = frame.set_index("age")[col].reindex(ages).to_numpy()[None, :]
        return [()], wide
    wide = frame.set_index([*keys, "age"])[col].unstack("age")
    wide = wide.reindex(columns=ages).sort_index(na_position="last")
    idx = [k if isinstance(k, tuple) else (k,) for k in wide.index]
    return idx, wide.to_numpy(dtype="float64")


def cohort_heatmap(
    long: pd.DataFrame,
    *,
    value: str = "pct",
    min_cohort_size: int = 30,
    average: pd.DataFrame | None = None,
    sizes: pd.DataFrame | None = None,
    period: str = "month",
    title: str | None = None,
    currency: str = "USD",
) -> go.Figure:
    """The cohort triangle: cohorts down, age across, future cells blank.

    Parameters
    ----------
    long : pandas.DataFrame
        A :func:`segwork.cohort_retention` table (logo or NRR/GRR; segment columns allowed: the
        segments' cohorts are stacked, segment by segment).
    value : {"pct", "count"}, default "pct"
        Colour and print the ratio (retention / NRR / GRR) or the count at age (active customers
        or revenue).
    min_cohort_size : int, default 30
        Cohorts with fewer customers are marked (as small segments are, docs/metrics.md "Small
        segments": fewer than 30 customers by default) with ``⚑`` after the row label and a note
        under the chart.
    average : pandas.DataFrame, optional
        The :func:`segwork.metrics.cohorts_compare.weighted_average_retention` of ``long``: drawn
        as a second heat-map trace, one "Weighted average" row (per segment) under the matrix.
    sizes : pandas.DataFrame, optional
        For NRR/GRR tables: a logo table of the same cohorts (``[*by], cohort, age,
        cohort_customers``) giving the cohort sizes in customers; without it the rows show the
        base MRR and no cohort is marked small.
    period : str, default "month"
        Names the cohorts (2024-01, 2024-Q1, 2024, or the week's Monday).
    title : str, optional
    currency : str, default "USD"
        The currency of an NRR/GRR table's revenue (``Dataset.currency``): its amounts (base
        MRR, MRR at age) are written in it and the colour bar of ``value="count"`` names it.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 ("cohorts"): ``z`` is the cohort x age matrix with ``None`` where the cell is
        missing (after as_of); ``customdata`` holds (count at age, cohort size) for the hover;
        row labels carry the cohort size, e.g. ``"2024-01 (n=85)"``.  Trace 1 ("weighted
        average"), when ``average`` is given.
    """
    if value not in ("pct", "count"):
        raise ValueError(f"value={value!r} is not supported; allowed: 'pct', 'count'")
    by = _segment_columns(long, "cohort")
    size_col, count_col, ratio_col = _columns_of(long)
    shown = ratio_col if value == "pct" else count_col
    pct = value == "pct"
    ages = sorted(int(a) for a in long["age"].unique())
    keys, z = _rows(long, by, ages, shown)
    _, counts = _rows(long, by, ages, count_col)
    _, base = _rows(long, by, ages, size_col)
    # the cohort size (customers or base MRR) is the same in every cell of a row
    base_row = np.array([row[~np.isnan(row)][0] if (~np.isnan(row)).any() else np.nan
                         for row in base])
    customers: np.ndarray | None = None
    if size_col == "cohort_customers":
        customers = np.asarray(base_row, dtype="float64")
    elif sizes is not None and "cohort_customers" in sizes.columns:
        first = sizes.drop_duplicates([*by, "cohort"]).set_index([*by, "cohort"])
        customers = np.array(
            [first["cohort_customers"].get(k if by else k[0], np.nan) for k in keys],
            dtype="float64",
        )
    is_logo = size_col == "cohort_customers"

    def amount(v: float) -> str:  # customers, or revenue in the currency
        return f"{v:,.0f}" if is_logo else money_text(v, currency)

    labels = []
    small = []
    for i, key in enumerate(keys):
        cohort = cohort_label(key[-1], period)
        seg = _segment_label(key[:-1])
        if customers is not None and not np.isnan(customers[i]):
            size_text = f"n={int(customers[i]):,}"
            is_small = customers[i] < min_cohort_size
        else:
            size_text = f"MRR {money_text(base_row[i], currency)}"
            is_small = False
        label = f"{seg} · {cohort}" if seg else cohort
        label = f"{label} ({size_text})" + (f" {SMALL_MARK}" if is_small else "")
        labels.append(label)
        small.append(is_small)
    what = "Logo retention" if is_logo else ratio_col.upper()
    count_name = "Active customers" if is_logo else "MRR at age"
    size_name = "Cohort size" if is_logo or customers is not None else "Base MRR"
    unit, units = _period_words(period)
    z_fmt = ".1%" if pct else ",.0f"
    # One heat-map trace holds the cohort rows and the weighted-average rows: plotly.js fails to
    # draw two heat maps sharing a category axis.  Per-cell hover details go in customdata.
    rows: dict[str, tuple[list[float | None], list[str], list[str]]] = {}
    for i, label in enumerate(labels):
        details = [
            f"{count_name}: {amount(counts[i][j])}<br>{size_name}: "
            + (f"{customers[i]:,.0f}" if customers is not None else amount(base_row[i]))
            if not np.isnan(counts[i][j])
            else ""
            for j in range(len(ages))
        ]
        rows[label] = (
            [None if np.isnan(v) else float(v) for v in z[i]],
            [_fmt(v, pct) for v in z[i]],
            details,
        )
    order = list(labels)
    if average is not None:
        avg_by = _segment_columns(average, "age")
        avg_keys, avg_z = _rows(average, avg_by, ages, shown)
        avg_labels = [
            f"{_segment_label(k)} · {_AVERAGE}" if avg_by else _AVERAGE for k in avg_keys
        ]
        for label, row in zip(avg_labels, avg_z, strict=True):
            rows[label] = (
                [None if np.isnan(v) else float(v) for v in row],
                [f"<b>{_fmt(v, pct)}</b>" if not np.isnan(v) else "" for v in row],
                ["Average of the cohorts, weighted by cohort size"] * len(ages),
            )
        # each segment's average row right under that segment's cohorts
        avg_of = {_segment_label(k): lab for k, lab in zip(avg_keys, avg_labels, strict=True)}
        order = []
        for i, key in enumerate(keys):
            order.append(labels[i])
            seg = _segment_label(key[:-1])
            last = i + 1 == len(keys) or _segment_label(keys[i + 1][:-1]) != seg
            if last and seg in avg_of:
                order.append(avg_of.pop(seg))
        order += list(avg_of.values())
    finite = z[~np.isnan(z)] if z.size else np.array([])
    zmax = max(1.0, float(finite.max())) if pct and finite.size else None
    hover = (
        f"<b>%{{y}}</b><br>Age: %{{x}} {units} after the cohort {unit}<br>"
        + (f"{what}: %{{z:{z_fmt}}}<br>" if pct else "")
        + "%{customdata}<extra></extra>"
    )
    count_title = count_name if is_logo else money_axis(count_name, currency)
    texts = [t.replace("<b>", "").replace("</b>", "") for lab in order for t in rows[lab][1]]
    show_text, height = cell_text_layout(
        len(order),
        len(ages),
        max((len(t) for t in texts), default=0),
        max((len(lab) for lab in order), default=0),
    )
    fig = go.Figure(
        go.Heatmap(
            name="cohorts",
            x=ages,
            y=order,
            z=[rows[label][0] for label in order],
            text=[rows[label][1] for label in order],
            # a cell's label only where cells are large enough to read it at 12 px (monthly
            # cohorts over years are too narrow: the hover still says every value)
            texttemplate="%{text}" if show_text else "",
            textfont={"size": LABEL_FONT_SIZE},
            customdata=[rows[label][2] for label in order],
            hovertemplate=hover,
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=zmax,
            hoverongaps=False,
            colorbar={
                "title": {
                    "text": axis_title(ratio_col, default=RATIO_TITLES.get(ratio_col, what))
                    if pct
                    else count_title,
                    "side": "right",
                },
                "tickformat": ".0%" if pct else ",",
                "tickprefix": None if pct or is_logo else currency_prefix(currency),
            },
        )
    )
    styled(fig, title, height=height)
    fig.update_yaxes(  # rows top-down in `order`
        type="category", autorange="reversed", title_text="Cohort"
    )
    fig.update_xaxes(
        title_text=f"Age ({units} since the cohort {unit})",
        dtick=1 if len(ages) <= 24 else None,
    )
    if any(small):
        fig.add_annotation(
            text=f"{SMALL_MARK} cohort under {min_cohort_size} customers: rates unreliable",
            xref="paper",
            yref="paper",
            x=0,
            y=-0.12,
            showarrow=False,
            xanchor="left",
            font={"size": 11, "color": "#666"},
        )
    return fig


def _group_keys(df: pd.DataFrame, group: list[str]) -> list[tuple[Any, ...]]:
    if not group:
        return [()]
    keys = df[group].drop_duplicates().sort_values(group, na_position="last", kind="stable")
    return [tuple(k) for k in keys.itertuples(index=False, name=None)]


def _select(df: pd.DataFrame, group: list[str], key: tuple[Any, ...]) -> pd.DataFrame:
    mask = np.ones(len(df), dtype=bool)
    for col, val in zip(group, key, strict=True):
        same = df[col].isna() if pd.isna(val) else df[col] == val
        mask &= same.to_numpy()
    return df[mask].sort_values("age" if "age" in df.columns else "tenure")


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def retention_curves(
    curves: pd.DataFrame,
    *,
    y: str = "retention",
    group: str | Sequence[str] | None = "cohort",
    average: pd.DataFrame | None = None,
    projection: pd.DataFrame | None = None,
    period: str = "month",
    title: str | None = None,
) -> go.Figure:
    """Retention by age, one line per cohort or per segment, with an optional projection.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long table with ``age``, ``y`` and the ``group`` columns: a :func:`segwork.cohort_retention`
        table (filtered to the cohorts to show, ``group="cohort"``) or a
        :func:`~segwork.metrics.cohorts_compare.weighted_average_retention` table
        (``group`` = its segment columns, or None for one pooled line).
    y : str, default "retention"
        The value column (``retention``, ``nrr``, ``grr``).
    group : str or list of str or None
        Columns naming a line.
    average : pandas.DataFrame, optional
        An unsegmented weighted-average table (``age`` and ``y``) drawn as a thick black line
        "All cohorts (weighted)" over the cohort lines.
    projection : pandas.DataFrame, optional
        A :func:`segwork.project_retention` table: per segment a dashed "projected" line and a
        shaded band (``projected_low`` .. ``projected_high``); a segment with the same name as a
        line gets its colour.
    period : str, default "month"
        Names cohorts and the x axis.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One ``lines+markers`` trace per group (``x`` = age, ``y`` = the value), the average line
        if given, then per projected segment a band trace (``fill="toself"``) and a dashed line.
    """
    groups = [group] if isinstance(group, str) else list(group or [])
    for col in [*groups, "age", y]:
        if col not in curves.columns:
            raise ValueError(f"curves has no column {col!r}; columns are {list(curves.columns)}")
    fig = go.Figure()
    unit, units = _period_words(period)
    y_title = axis_title(y, default=RATIO_TITLES.get(y, column_title(y)))
    y_word = y_title.split(" (")[0]
    colour_of: dict[str, str] = {}
    for i, key in enumerate(_group_keys(curves, groups)):
        part = _select(curves, groups, key)
        if groups == ["cohort"]:
            name = cohort_label(key[0], period)
        else:
            name = _segment_label(key) if groups else "All cohorts (weighted)"
        colour = PALETTE[i % len(PALETTE)]
        colour_of[name] = colour
        fig.add_trace(
            go.Scatter(
                name=name,
                x=part["age"].tolist(),
                y=[None if pd.isna(v) else float(v) for v in part[y]],
                mode="lines+markers",
                line={"color": colour, "width": 2},
                marker={"size": 4},
                hovertemplate=(
                    f"<b>{name}</b><br>Age: %{{x}} {units}<br>{y_word}: %{{y:.1%}}<extra></extra>"
                ),
            )
        )
    if average is not None:
        name = "All cohorts (weighted)"
        colour_of[name] = "#000000"
        fig.add_trace(
            go.Scatter(
                name=name,
                x=average["age"].tolist(),
                y=[None if pd.isna(v) else float(v) for v in average[y]],
                mode="lines",
                line={"color": "#000000", "width": 4},
                hovertemplate=(
                    f"<b>{name}</b><br>Age: %{{x}} {units}<br>{y_word}: %{{y:.1%}}<extra></extra>"
                ),
            )
        )
    if projection is not None:
        proj_by = _segment_columns(projection, "age")
        for j, key in enumerate(_group_keys(projection, proj_by)):
            part = _select(projection, proj_by, key)
            seg = _segment_label(key) if proj_by else ""
            colour = colour_of.get(
                seg or "All cohorts (weighted)", PALETTE[(len(colour_of) + j) % len(PALETTE)]
            )
            label = f"{seg} projected (sBG)" if seg else "projected (sBG)"
            ages = part["age"].tolist()
            low, high = part["projected_low"].tolist(), part["projected_high"].tolist()
            if not all(pd.isna(v) for v in low):
                fig.add_trace(
                    go.Scatter(
                        name=f"{label} band",
                        x=ages + ages[::-1],
                        y=[None if pd.isna(v) else float(v) for v in high + low[::-1]],
                        fill="toself",
                        fillcolor=_rgba(colour, 0.15),
                        line={"width": 0},
                        hoverinfo="skip",
                        showlegend=False,
                    )
                )
            fig.add_trace(
                go.Scatter(
                    name=label,
                    x=ages,
                    y=[None if pd.isna(v) else float(v) for v in part["projected"]],
                    mode="lines",
                    line={"color": colour, "dash": "dash", "width": 2},
                    hovertemplate=(
                        f"<b>{label[0].upper() + label[1:]}</b><br>Age: %{{x}} {units}<br>"
                        f"{y_word}, projected: "
                        "%{y:.1%}<extra></extra>"
                    ),
                )
            )
    styled(fig, title)
    if groups == ["cohort"]:
        legend = "Cohort"
    else:
        legend = " · ".join(column_title(g) for g in groups)
    fig.update_layout(legend_title_text=legend)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text=y_title)
    fig.update_xaxes(title_text=f"Age ({units} since the cohort {unit})")
    return fig


def _check_unsegmented(movements: pd.DataFrame) -> None:
    by = _segment_columns(movements, "month")
    if by:
        raise ValueError(
            f"the MRR bridge draws one bridge: pass mrr_movements() without by (got segment "
            f"columns {by})"
        )


def mrr_bridge(
    movements: pd.DataFrame, *, title: str | None = None, currency: str = "USD"
) -> go.Figure:
    """Monthly MRR bridge: gains up (new, reactivation, expansion), losses down, MRR as a line.

    With amounts in several currencies (docs/metrics.md "Currencies") the table's
    ``fx_adjustment`` (the change of the start MRR's value from last month's rates to this
    month's) is drawn as an "FX adjustment" bar, up or down as its sign, after the movements: the
    bars of a month then add up to ``mrr_end - mrr_start``.  A table without that column, or where
    it is 0 in every month (one currency), has no such bar.

    Parameters
    ----------
    movements : pandas.DataFrame
        An unsegmented :func:`segwork.mrr_movements` table.
    title : str, optional
    currency : str, default "USD"
        The currency of the amounts (``Dataset.currency``): tick prefix, hover and axis titles
        ("MRR movement (EUR)", "MRR (EUR)").

    Returns
    -------
    plotly.graph_objects.Figure
        Five bar traces "New", "Reactivation", "Expansion", "Contraction", "Churn"
        (``barmode="relative"``; contraction and churn drawn negative), the ``FX adjustment`` bar
        trace when there is one, and an "MRR at month end" line (``mrr_end``) on a secondary y
        axis.  The hover writes each movement with its sign before the currency ("-€8").
    """
    _check_unsegmented(movements)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    months = pd.to_datetime(movements["month"]).tolist()
    bars = list(_BRIDGE)
    if FX_COLUMN in movements.columns and movements[FX_COLUMN].fillna(0).ne(0).any():
        bars.append((FX_COLUMN, FX_LABEL, 1, FX_COLOUR))

    def signed(v: float) -> str:  # "+$1,200", "-$300": the sign before the currency
        text = money_text(v, currency)
        return text if text.startswith("-") or text == "—" else f"+{text}"

    for column, name, sign, colour in bars:
        y = (sign * movements[column].astype("float64")).tolist()
        fig.add_trace(
            go.Bar(
                name=name,
                x=months,
                y=y,
                marker_color=colour,
                hovertext=[f"{name}: {signed(v)}" for v in y],
                hovertemplate="%{hovertext}<extra>%{x|%Y-%m}</extra>",
            ),
            secondary_y=False,
        )
    mrr_end = movements["mrr_end"].astype("float64").tolist()
    fig.add_trace(
        go.Scatter(
            name="MRR at month end",
            x=months,
            y=mrr_end,
            mode="lines",
            line={"color": "#000000", "width": 2},
            hovertext=[f"MRR at month end: {money_text(v, currency)}" for v in mrr_end],
            hovertemplate="%{hovertext}<extra>%{x|%Y-%m}</extra>",
        ),
        secondary_y=True,
    )
    styled(fig, title)
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title_text="Month")
    prefix = currency_prefix(currency)
    moves = np.array(
        [(sign * movements[c].astype("float64").fillna(0)).to_numpy() for c, _, sign, _ in bars]
    )
    up = float(np.clip(moves, 0, None).sum(axis=0).max(initial=0.0))
    down = float(np.clip(moves, None, 0).sum(axis=0).min(initial=0.0))
    fig.update_yaxes(  # ticks "-$50k" (the sign before the currency), written by money_ticks
        title_text=money_axis("MRR movement", currency),
        tickprefix=prefix,
        showtickprefix="none",
        secondary_y=False,
        **money_ticks(down, up, currency),
    )
    fig.update_yaxes(  # its own ticks (plotly.js would sync them to the left axis' grid)
        title_text=axis_title("mrr", currency),
        tickprefix=prefix,
        tickmode="auto",
        rangemode="tozero",
        showgrid=False,
        secondary_y=True,
    )
    return fig


def mrr_rates(movements: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Quick ratio (left axis) and gross / net MRR churn (right axis, %) per month.

    Parameters
    ----------
    movements : pandas.DataFrame
        An unsegmented :func:`segwork.mrr_movements` table.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Traces "Quick ratio" (y1), "Gross MRR churn" and "Net MRR churn" (y2); NaN (a zero
        denominator) leaves a gap.
    """
    _check_unsegmented(movements)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    months = pd.to_datetime(movements["month"]).tolist()

    def vals(col: str) -> list[float | None]:
        return [None if pd.isna(v) else float(v) for v in movements[col]]

    fig.add_trace(
        go.Scatter(
            name="Quick ratio",
            x=months,
            y=vals("quick_ratio"),
            mode="lines+markers",
            line={"color": PALETTE[0]},
            hovertemplate="Quick ratio: %{y:.2f}<extra>%{x|%Y-%m}</extra>",
        ),
        secondary_y=False,
    )
    for col, colour in (("gross_mrr_churn", PALETTE[3]), ("net_mrr_churn", PALETTE[1])):
        name = axis_title(col, default=col.replace("_", " ").replace("mrr", "MRR"))
        name = name[0].upper() + name[1:]
        name = name.split(" (")[0]
        fig.add_trace(
            go.Scatter(
                name=name,
                x=months,
                y=vals(col),
                mode="lines",
                line={"color": colour, "dash": "dot" if col.startswith("net") else "solid"},
                hovertemplate=f"{name}: %{{y:.2%}}<extra>%{{x|%Y-%m}}</extra>",
            ),
            secondary_y=True,
        )
    styled(fig, title)
    fig.update_xaxes(title_text="Month")
    fig.update_yaxes(
        title_text="Quick ratio (MRR gained / MRR lost)", rangemode="tozero", secondary_y=False
    )
    fig.update_yaxes(  # its own round ticks (plotly.js would sync them to the left axis' grid)
        title_text="MRR churn (% per month)",
        tickformat=".1%",
        tickmode="auto",
        showgrid=False,
        secondary_y=True,
    )
    return fig


def survival_curves(surv: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Kaplan-Meier curves (steps) with their confidence bands, one per segment.

    Parameters
    ----------
    surv : pandas.DataFrame
        A :func:`segwork.survival` table (``[*by], tenure, n_at_risk, ..., survival, ci_low,
        ci_high``).
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Per segment a band trace (``fill="toself"`` between ``ci_low`` and ``ci_high``) and a
        step line (``line.shape="hv"``) of ``survival``; the hover shows the number at risk.
    """
    by = _segment_columns(surv, "tenure")
    fig = go.Figure()
    for i, key in enumerate(_group_keys(surv, by)):
        part = _select(surv, by, key)
        name = _segment_label(key) if by else "All customers"
        colour = PALETTE[i % len(PALETTE)]
        t = part["tenure"].tolist()
        fig.add_trace(
            go.Scatter(
                name=f"{name} CI",
                x=t + t[::-1],
                y=part["ci_high"].tolist() + part["ci_low"].tolist()[::-1],
                fill="toself",
                fillcolor=_rgba(colour, 0.15),
                line={"width": 0, "shape": "hv"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                name=name,
                x=t,
                y=part["survival"].tolist(),
                customdata=part["n_at_risk"].tolist(),
                mode="lines",
                line={"color": colour, "shape": "hv", "width": 2},
                hovertemplate=f"<b>{name}</b><br>Month %{{x}} since first activity"
                "<br>Still a customer: %{y:.1%}<br>Customers at risk: %{customdata:,}"
                "<extra></extra>",
            )
        )
    styled(fig, title)
    fig.update_layout(legend_title_text=" · ".join(column_title(c) for c in by))
    fig.update_yaxes(
        tickformat=".0%", range=[0, 1.02], title_text="Still a customer (% of customers)"
    )
    fig.update_xaxes(title_text="Months since first activity")
    return fig
