"""The engine object: one LRU, typed keys, throwaway engines for one-off calls, and a Dataset
that holds the user's tables only (issue 22)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

import segwork
from segwork.engine import LRU, CacheKey, Engine, PageMemo, engine_for
from segwork.engine.keys import MonthlyMRR


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.make_saas_data(150, random_state=3)


def test_lru_keeps_the_most_recently_used() -> None:
    built: list[str] = []
    cache: LRU[str] = LRU(2)
    for key in ("a", "b", "a", "c", "b"):
        cache.get_or_build(key, lambda k=key: built.append(k) or k.upper())
    assert built == ["a", "b", "c", "b"]  # "a" was reused; "b" was dropped for "c", rebuilt
    assert list(cache) == ["c", "b"] and len(cache) == 2
    with pytest.raises(ValueError, match="at least one"):
        LRU(0)


def test_keys_are_typed_frozen_and_compare_by_value() -> None:
    day = dt.date(2024, 6, 30)
    assert MonthlyMRR(day) == MonthlyMRR(day) and hash(MonthlyMRR(day)) == hash(MonthlyMRR(day))
    assert PageMemo("SegmentExplorer", ("table", 1)) != PageMemo("CohortExplorer", ("table", 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        MonthlyMRR(day).through = day  # type: ignore[misc]


def test_a_tuple_key_is_refused(data) -> None:
    engine = Engine(data)
    with pytest.raises(TypeError, match="CacheKey"):
        engine.frame(("ad", "hoc"), pd.DataFrame)  # type: ignore[arg-type]


def test_frames_are_copies_and_values_are_kept(data) -> None:
    @dataclasses.dataclass(frozen=True)
    class Probe(CacheKey):
        n: int

    engine = Engine(data)
    calls: list[int] = []
    first = engine.frame(Probe(1), lambda: calls.append(1) or pd.DataFrame({"x": [1]}))
    first.loc[0, "x"] = 99  # a caller changing its copy changes nothing kept
    assert engine.frame(Probe(1), pd.DataFrame)["x"].tolist() == [1] and calls == [1]
    value = engine.value(Probe(2), lambda: ["kept"])
    assert engine.value(Probe(2), list) is value
    engine.clear()
    assert engine.frame_keys() == [] and engine.table_keys() == []


def test_engine_for_makes_a_throwaway_engine_for_a_dataset(data) -> None:
    one_off = engine_for(data)
    assert isinstance(one_off, Engine) and one_off.data is data
    assert not one_off.reuse_across_dates and engine_for(data) is not one_off
    assert one_off.one_off  # keeps no table its one call reads once
    page = Engine(data, reuse_across_dates=True)
    assert engine_for(page) is page and not page.one_off
    with pytest.raises(TypeError, match=r"segwork\.load"):
        engine_for(pd.DataFrame())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Dataset"):
        Engine(page)  # type: ignore[arg-type]


def test_serves_every_date_needs_a_given_mrr_table(data) -> None:
    given = segwork.load({n: data.to_pandas(n) for n in ("customers", "mrr")})
    assert Engine(given, reuse_across_dates=True).serves_every_date
    assert not Engine(given).serves_every_date
    assert data.mrr_derived and not Engine(data, reuse_across_dates=True).serves_every_date


def test_the_dataset_holds_no_engine_state(data) -> None:
    """A Dataset is the user's tables: after metric calls on it (throwaway engines) and on a
    page's engine, it has the same attributes as before, none of them a cache or a flag."""
    fresh = segwork.load({n: data.to_pandas(n) for n in data.names})
    before = set(vars(fresh))
    segwork.segment_table(fresh, "plan", "2024-06-30")
    page = Engine(fresh, reuse_across_dates=True)
    segwork.segment_table(page, "plan", "2024-06-30")
    segwork.cohort_retention(page, "2024-06-30", period="quarter")
    assert set(vars(fresh)) == before
    assert not {"reuse_across_dates", "cached", "cached_frame", "monthly_mrr"} & set(dir(fresh))
    assert page.table_keys(), "the page's engine kept its tables"


def test_a_page_engine_gives_a_one_off_calls_numbers(data) -> None:
    data = segwork.load({n: data.to_pandas(n) for n in ("customers", "mrr")})  # a given mrr
    page = Engine(data, reuse_across_dates=True)
    for as_of in ("2024-06-30", "2024-03-31", "2024-06-30"):
        pd.testing.assert_frame_equal(
            segwork.segment_table(page, "plan", as_of), segwork.segment_table(data, "plan", as_of)
        )
        pd.testing.assert_frame_equal(
            segwork.monthly_mrr(page, as_of), segwork.monthly_mrr(data, as_of)
        )
