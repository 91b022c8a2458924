"""The segmentation page on shop data (transactions only): e-commerce table, figures, sentence,
the "Predicted customer value" section, headline and exports; when the order-value model cannot
be fitted the page says why and shows the rest (issue 23)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.clv import simulate_bg_nbd
from segwork.metrics.personas import import_clustering
from segwork.widgets.clv_section import CLV_SECTION, WIN_BACK_FILE
from segwork.widgets.segments import (
    MEMBERS_FILE,
    SegmentExplorer,
    segment_criteria,
    shop_data,
)


@pytest.fixture(scope="module")
def sample_shop() -> segwork.Dataset:
    """The bundled sample's customers and transactions: orders whose values do not fit Gamma-Gamma."""
    sample = segwork.load_sample()
    return segwork.load({n: sample.to_pandas(n) for n in ("customers", "transactions")})


def _page_html(ex: SegmentExplorer) -> str:
    return ex.to_html().split("</style>", 1)[-1]


def test_shop_page_with_failed_value_model(sample_shop: segwork.Dataset) -> None:
    assert shop_data(sample_shop) and not shop_data(segwork.load_sample())
    assert {"clv_band", "alive_band", "first_product", "rfm_segment"} <= set(
        segment_criteria(sample_shop)
    )
    ex = SegmentExplorer(sample_shop, as_of="2024-12-31")
    assert ex.error is None and ex.state["by"] == ["rfm_segment"]
    t = ex.result
    assert "mean_clv" in t.columns and t.mean_clv.isna().all()
    assert t.mean_p_alive.notna().all()  # P(alive) survives the failed value model
    texts = ex.texts
    assert texts["clv_error"].startswith("Predicted CLV is not shown: the Gamma-Gamma fit")
    assert "q = 0.52 <= 1" in texts["clv_error"]
    # the table cannot be ordered by a CLV it does not have, and its heading does not say so
    assert ex.result_heading() == "Segment table (no predicted CLV: in the order of the segments)"
    page = _page_html(ex)
    assert "ordered by predicted CLV" not in page
    # P(alive) reads as a percentage, the average order value as money (their headers' units)
    assert "Mean P(alive) (%)" in page and f"{100 * t.mean_p_alive.iloc[0]:.1f} %" in page
    assert texts["best"].startswith("No customer value could be predicted")
    assert "Segments with the most revenue" in texts["best"]
    assert "Personas" in texts["subscriptions_only"]
    assert "Expected share" not in texts["clv"] and "still active" in texts["clv"]
    assert texts["calibration"].startswith("Calibration check: fitted on the orders up to")
    figures = ex.figures
    assert {"share", "repeat", "clv_distribution", "calibration"} <= set(figures)
    assert "clv" not in figures  # no CLV to draw
    assert figures["clv_distribution"].layout.xaxis.title.text == "P(alive)"
    downloads = ex.downloads
    wb = downloads[WIN_BACK_FILE]
    assert len(wb) > 0 and (wb.p_alive <= 0.5).all()
    assert (wb.revenue >= wb.attrs["revenue_threshold"]).all()
    assert len(ex.tables["Customers to win back"]) == min(len(wb), 20)
    members = downloads[MEMBERS_FILE]
    assert {"orders", "revenue", "p_alive", "clv"} <= set(members.columns)
    assert len(members) == int(t.customers.iloc[0])
    head = ex.headline()
    assert head["total_predicted_clv"] is None and "q = " in head["clv_error"]
    assert 0 < head["share_alive"] < 1 and head["customers"] == 2000
    assert "segwork-error" not in _page_html(ex)
    # the derived criteria, a filter on one, and the export of a band
    ex.set(by=["alive_band"], where={"alive_band": ["<= 0.25", "(0.25, 0.5]"]})
    assert ex.error is None
    assert set(ex.result.alive_band) == {"<= 0.25", "(0.25, 0.5]"}
    assert ex.controls["window_months"].description == "Order window (months)"


@pytest.fixture(scope="module")
def simulated_shop() -> segwork.Dataset:
    tx = simulate_bg_nbd(400, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 4.0}, seed=3)
    return segwork.load({"transactions": tx})


def test_shop_page_with_predicted_clv(simulated_shop: segwork.Dataset) -> None:
    ex = SegmentExplorer(simulated_shop, as_of="2024-12-31", by=["clv_band"])
    assert ex.error is None
    t = ex.result
    assert "clv_error" not in t.attrs
    assert t.mean_clv.iloc[:-1].notna().all()
    assert ex.result_heading() == "Segment table (ordered by predicted CLV)"
    assert f"{t.mean_clv.iloc[0]:,.0f}" in _page_html(ex)  # predicted CLV written as money
    assert ex.texts["best"].startswith(
        "Best customers (highest predicted CLV per customer over the next 12 months"
    )
    assert "clv" in ex.figures and ex.view.sections.keys() == {CLV_SECTION}
    assert ex.texts["clv"].startswith("Predicted CLV over the next 12 months")
    head = ex.headline()
    total = head["total_predicted_clv"]
    assert total == pytest.approx(float(np.nansum(t.total_clv)))
    assert total > 0 and 0 < head["share_alive"] <= 1
    assert head["best_segment"]["mean_clv"] > 0
    assert ex.figures["clv_distribution"].layout.xaxis.title.text.startswith("Predicted CLV")
    assert "segwork-error" not in _page_html(ex)
    pd.testing.assert_frame_equal(
        ex.result, segwork.segment_table(simulated_shop, ["clv_band"], "2024-12-31")
    )


def test_shop_page_does_not_import_the_clustering(sample_shop: segwork.Dataset) -> None:
    """Shop data has no Personas section: its page imports no clustering while idle."""
    assert import_clustering not in SegmentExplorer(sample_shop).preparations()
