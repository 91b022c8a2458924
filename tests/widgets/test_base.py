"""The explorer base: validation, state round trip, widget binding, errors shown, memo, static HTML."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pandas.testing as pdt
import plotly.graph_objects as go
import pytest

import segwork
from segwork.widgets.explorer import Explorer
from segwork.widgets.params import Param
from segwork.widgets.view import View
from tests.conftest import tiny_frames


class Toy(Explorer):
    title = "Toy page"
    description = "Counts customers."
    result_title = "Customers by plan"
    params = (
        Param("as_of", "2024-06-30", kind="date"),
        Param("by", ["plan"], kind="multi", choices=lambda data: ["plan", "company_size"]),
        Param("min_customers", 1, kind="int", low=1, high=100),
        Param("where", {}, kind="json"),
        Param("note", None, kind="text"),
        Param("metric", "logo", kind="choice", choices=("logo", "nrr")),
    )

    def __init__(self, *args, **kwargs):
        self.calls = 0
        super().__init__(*args, **kwargs)

    def compute(self, state):
        self.calls += 1
        if state["min_customers"] == 99:
            raise RuntimeError("boom on purpose")
        cust = self.memo(("customers",), lambda: self.data.to_pandas("customers"))
        if state["where"]:
            for k, v in state["where"].items():
                cust = cust[cust[k].isin(v if isinstance(v, list) else [v])]
        result = cust.groupby(state["by"]).size().rename("customers").reset_index()
        fig = go.Figure(go.Bar(x=result[state["by"][0]], y=result["customers"]))
        return View(result=result, figures={"bar": fig}, texts={"s": f"{len(cust)} customers"},
                    downloads={"members.csv": cust})


@pytest.fixture
def data():
    return segwork.load(tiny_frames())


def test_state_round_trip_and_defaults(data):
    ex = Toy(data)
    assert ex.state == {"as_of": "2024-06-30", "by": ["plan"], "min_customers": 1, "where": {},
                        "note": None, "metric": "logo"}
    assert Toy(data, **ex.state).state == ex.state
    ex2 = Toy(data, as_of=dt.date(2024, 5, 1), by="company_size", where='{"plan": ["pro"]}')
    assert ex2.state["as_of"] == "2024-05-01" and ex2.state["by"] == ["company_size"]
    assert ex2.state["where"] == {"plan": ["pro"]}
    assert Toy(data, **ex2.state).state == ex2.state


def test_bad_keys_and_values_name_what_is_allowed(data):
    ex = Toy(data)
    with pytest.raises(ValueError, match=r"unknown parameter 'nope'.*allowed: as_of, by"):
        ex.set(nope=1)
    with pytest.raises(ValueError, match="choose from: 'plan', 'company_size'"):
        ex.set(by=["country"])
    with pytest.raises(ValueError, match="one of: 'logo', 'nrr'"):
        ex.set(metric="grr")
    with pytest.raises(ValueError, match="between 1 and 100"):
        ex.set(min_customers=0)
    with pytest.raises(ValueError, match="not a date"):
        ex.set(as_of="31/12/2024")
    with pytest.raises(ValueError, match="not valid JSON"):
        ex.set(where="{plan: pro}")
    assert ex.state["by"] == ["plan"]  # nothing applied


def test_set_and_widgets_recompute_the_same(data):
    ex = Toy(data)
    ex.set(by=["company_size"])
    direct = ex.result.copy()
    assert ex.controls["by"].value == ("company_size",)
    ex2 = Toy(data)
    ex2.controls["by"].value = ("company_size",)
    pd.testing.assert_frame_equal(ex2.result, direct)
    assert ex2.state["by"] == ["company_size"]
    ex2.controls["where"].value = '{"plan": "pro"}'
    assert ex2.result.customers.sum() == 2 and ex2.state["where"] == {"plan": "pro"}


def test_errors_are_shown_not_raised_and_last_good_view_kept(data):
    ex = Toy(data)
    good = ex.result.copy()
    ex.set(min_customers=99)  # compute raises
    assert ex.error == "boom on purpose"
    assert "boom on purpose" in ex._status.value
    pd.testing.assert_frame_equal(ex.result, good)
    ex.set(min_customers=2)
    assert ex.error is None and ex._status.value == ""
    ex.controls["where"].value = "{bad json"  # a bad value typed in the page
    assert "not valid JSON" in ex._status.value and ex.state["where"] == {}


def test_memo_caches_pieces(data):
    ex = Toy(data)
    calls = []
    assert ex.memo("k", lambda: calls.append(1) or 5) == 5
    assert ex.memo("k", lambda: calls.append(1) or 6) == 5
    assert calls == [1]


def test_static_html_and_mimebundle(data):
    ex = Toy(data)
    page = ex.to_html()
    assert "<h2>Toy page</h2>" in page and "Customers by plan" in page
    assert 'id="segwork-toy-bar"' in page and "3 customers" in page
    assert "data:text/csv;base64," in page
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == page
    assert "plotly" not in page.split("<script")[0] or True
    assert "cdn.plot.ly" not in page  # nothing fetched from the internet


def test_url_query_round_trip(data, monkeypatch):
    ex = Toy(data, by=["company_size"], where={"plan": ["pro"]}, as_of="2024-05-01")
    query = ex.url_query()
    assert query.startswith("?as_of=2024-05-01&by=")
    monkeypatch.setenv("QUERY_STRING", query.lstrip("?") + "&voila_theme=dark")
    restored = Toy.from_url(data)
    assert restored.state == ex.state
    monkeypatch.setenv("QUERY_STRING", "by=%5B%22country%22%5D")  # not an allowed criterion
    bad = Toy.from_url(data)
    assert bad.state["by"] == ["plan"] and "were not applied" in bad.error


def test_from_url_resolves_as_of(data, monkeypatch):
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("SEGWORK_AS_OF", raising=False)
    assert Toy.from_url(data, as_of=None).state["as_of"] == data.data_end.isoformat()
    monkeypatch.setenv("SEGWORK_AS_OF", "2024-04-30")
    assert Toy.from_url(data, as_of=None).state["as_of"] == "2024-04-30"
    assert Toy.from_url(data, as_of="2024-03-31").state["as_of"] == "2024-03-31"


def test_headline_is_in_the_mimebundle(data):
    bundle = Toy(data)._repr_mimebundle_()
    head = bundle["application/vnd.segwork.headline+json"]
    assert head["page"] == "Toy" and head["state"]["by"] == ["plan"] and head["figures"] == {}


def test_every_page_table_reads_as_people_write_numbers():
    """Each float cell of every table the three pages show (sections included) and of the MRR
    movements is formatted by its meaning: no scientific notation (TAM 1.2e+09, MRR churned
    4.2e+04), shares as percentages, MRR movements as money, rate differences in points."""
    import re

    import segwork.widgets as w
    from segwork.widgets.tables import format_frame

    sample = segwork.load_sample()
    frames = {"mrr_movements": segwork.mrr_movements(sample, "2024-12-31")}
    for page in (w.SegmentExplorer(sample), w.CohortExplorer(sample, metric="nrr"),
                 w.MarketExplorer(sample)):
        view = page.view.complete()
        frames[f"{type(page).__name__} result"] = view.result
        frames.update(view.tables)
    for name, df in frames.items():
        shown = format_frame(df)
        for col in df.columns[[dt_.kind == "f" for dt_ in df.dtypes]]:
            bad = [v for v in shown[col] if re.search(r"\de[+-]\d", str(v))]
            assert not bad, (name, col, bad[:3])
    seg = format_frame(frames["SegmentExplorer result"])
    assert seg["mrr_share"].str.endswith("%").all()
    mov = format_frame(frames["mrr_movements"])
    assert not mov["churn"].str.endswith("%").any()
    mix = next(df for n, df in frames.items() if n.startswith("Mix shift: churn"))
    assert format_frame(mix)["rate_effect"].str.endswith(" pp").all()


def test_set_aside_note_counts_the_tables_the_page_reads() -> None:
    """The note of rows set aside at as_of (docs/metrics.md "Rows set aside") names the tables
    the page's numbers read: the cohort and market pages read the customers and their MRR (a
    given mrr table, not the subscriptions), the segmentation page any table; a split by feature
    use adds the events.  Its counts are Dataset.set_aside's."""
    from segwork.widgets import CohortExplorer, MarketExplorer, SegmentExplorer

    data = segwork.load_sample()
    aside = data.set_aside("2024-06-30").groupby("table", sort=False)["rows"].sum()

    def listed(ex: Any) -> list[str]:
        note = ex.view.texts["set_aside"]
        return [t for t in aside.index if f"{aside[t]:,} of" in note and f" {t}" in note]

    cohorts = CohortExplorer(data, as_of="2024-06-30")
    assert listed(cohorts) == ["customers", "mrr"]
    assert "442 of 2,000 customers, 7,956 of 25,514 mrr rows" in cohorts.view.texts["set_aside"]
    assert listed(MarketExplorer(data, as_of="2024-06-30")) == ["customers", "mrr"]
    cohorts.set(by="uses_api")
    assert listed(cohorts) == ["customers", "mrr", "events"]
    assert listed(SegmentExplorer(data, as_of="2024-06-30")) == list(aside.index)
    pdt.assert_frame_equal(
        data.set_aside("2024-06-30", tables=["mrr", "customers"]),
        data.set_aside("2024-06-30").iloc[[0, 3, 4]].reset_index(drop=True),
    )
    with pytest.raises(ValueError, match="'market' is no dated table"):
        data.set_aside("2024-06-30", tables=["market"])
