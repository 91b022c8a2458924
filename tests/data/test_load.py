"""Loader round-trips (CSV, Parquet, DuckDB file, pandas, Ibis, column mapping) give equal tables."""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd
import pytest

import segwork
from segwork import DataContractError, Dataset
from tests.conftest import tiny_frames


def _canon(data: Dataset, name: str) -> pd.DataFrame:
    df = data.to_pandas(name)
    df = df[sorted(df.columns)]
    for c in df.columns:
        if str(df[c].dtype).startswith("datetime") or c in ("signup_date", "start_date", "end_date", "date", "month"):
            df[c] = pd.to_datetime(df[c])
        elif pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype("float64")
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def _assert_same(a: Dataset, b: Dataset) -> None:
    assert a.names == b.names
    for name in a.names:
        pd.testing.assert_frame_equal(_canon(a, name), _canon(b, name), check_dtype=False)


@pytest.fixture
def reference() -> Dataset:
    return segwork.load(tiny_frames())


def test_pandas_load_keeps_every_row(reference):
    frames = tiny_frames()
    for name, frame in frames.items():
        assert reference.to_pandas(name).shape[0] == len(frame)
    assert reference.mrr_derived and "mrr derived from subscriptions" in reference.notes[0]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_directory_roundtrip(tmp_path, reference, fmt):
    written = reference.write(tmp_path, format=fmt)
    assert {p.name for p in written} == {f"{n}.{fmt}" for n in reference.names}
    (tmp_path / f"mrr.{fmt}").unlink()  # re-derive it from subscriptions
    again = segwork.load(tmp_path)
    _assert_same(reference, again)
    assert again.source == str(tmp_path)


def test_csv_written_by_hand(tmp_path):
    for name, frame in tiny_frames().items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    _assert_same(segwork.load(tiny_frames()), segwork.load(tmp_path))


def test_duckdb_file_roundtrip(tmp_path, reference):
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in tiny_frames().items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    _assert_same(reference, segwork.load(path))


def test_ibis_connection_and_tables(reference):
    con = ibis.duckdb.connect()
    for name, frame in tiny_frames().items():
        con.create_table(name, frame)
    _assert_same(reference, segwork.load(con))
    tables = {name: con.table(name) for name in segwork.TABLE_NAMES if name in con.list_tables()}
    _assert_same(reference, segwork.load(tables))


def test_column_mapping(reference):
    frames = tiny_frames()
    frames["customers"] = frames["customers"].rename(columns={"customer_id": "id", "signup_date": "joined"})
    frames["transactions"] = frames["transactions"].rename(columns={"order_id": "invoice"})
    data = segwork.load(
        frames,
        columns={"customers": {"id": "customer_id", "joined": "signup_date"},
                 "transactions": {"invoice": "order_id"}},
    )
    _assert_same(reference, data)


def test_flat_column_mapping_applies_to_every_table(reference):
    frames = {k: v.rename(columns={"customer_id": "account"}) for k, v in tiny_frames().items()}
    _assert_same(reference, segwork.load(frames, columns={"account": "customer_id"}))


def test_mapping_an_absent_column_is_named():
    with pytest.raises(DataContractError) as info:
        segwork.load(tiny_frames(), columns={"customers": {"nope": "customer_id"}})
    assert (info.value.table, info.value.column, info.value.rule) == ("customers", "nope", "missing_column")


def test_missing_required_column_hints_at_mapping():
    frames = tiny_frames()
    frames["customers"] = frames["customers"].rename(columns={"customer_id": "id"})
    with pytest.raises(DataContractError, match="columns="):
        segwork.load(frames)


def test_transactions_only_dataset_is_valid():
    frames = tiny_frames()
    data = segwork.load({"customers": frames["customers"], "transactions": frames["transactions"]})
    assert data.kind == "transactions"
    assert not data.has("mrr")
    with pytest.raises(ValueError, match="no 'mrr' table"):
        data.table("mrr")


def test_customers_derived_when_absent():
    frames = tiny_frames()
    data = segwork.load({"transactions": frames["transactions"]})
    customers = data.to_pandas("customers").sort_values("customer_id")
    assert customers.customer_id.tolist() == [1, 2]
    assert [str(d)[:10] for d in customers.signup_date] == ["2024-01-05", "2024-02-10"]
    assert any("customers derived" in n for n in data.notes)


def test_bad_sources(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        segwork.load(tmp_path / "absent")
    with pytest.raises(ValueError, match="no segwork table file"):
        segwork.load(tmp_path)
    with pytest.raises(ValueError, match="unknown table"):
        segwork.load({"orders": pd.DataFrame()})
    with pytest.raises(TypeError, match="cannot load a int"):
        segwork.load(42)
    (tmp_path / "customers.csv").write_text("customer_id,signup_date\n1,2024-01-01\n")
    (tmp_path / "customers.parquet").write_bytes(b"")
    with pytest.raises(ValueError, match="several files"):
        segwork.load(tmp_path)


def test_summary_and_repr(reference):
    summary = reference.summary()
    assert summary.table.tolist() == ["customers", "subscriptions", "mrr", "events", "transactions", "market"]
    row = summary.set_index("table").loc["customers"]
    assert row["rows"] == 3 and str(row["first"]) == "2024-01-05" and str(row["last"]) == "2024-03-01"
    assert "mrr*" in repr(reference)


def test_market_only_dataset():
    data = segwork.load({"market": tiny_frames()["market"]})
    assert data.names == ("market",) and data.kind == "market"


def test_csv_parsed_once_and_scratch_tables_dropped(tmp_path):
    """A CSV folder is parsed into an engine table once, validated there, typed, and the
    untyped copy is dropped (issue 25); a breach still names the rows as in the file."""
    for name, frame in tiny_frames().items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    data = segwork.load(tmp_path)
    names = data.backend.list_tables()
    assert not [n for n in names if n.startswith("_csv_")]
    assert {"customers", "subscriptions", "transactions"} <= set(names)
    _assert_same(segwork.load(tiny_frames()), data)
    bad = tiny_frames()["customers"].assign(signup_date=["2024-01-05", "soon", "2024-03-01"])
    bad.to_csv(tmp_path / "customers.csv", index=False)
    with pytest.raises(DataContractError) as info:
        segwork.load(tmp_path)
    assert (info.value.table, info.value.column, info.value.rule) == (
        "customers", "signup_date", "unparseable_date")
    assert list(info.value.examples["signup_date"]) == ["soon"]


def test_csv_dates_parsed_while_reading_else_read_again_as_text(tmp_path, monkeypatch):
    """A CSV's contract dates and timestamps (through columns= too) are parsed while reading,
    with the engine's cast; a value that does not parse, far past the sniffer's sample, makes the
    file read again as text, and the rule names that row as it is in the file (issue 25)."""
    import importlib

    loader = importlib.import_module("segwork.data.load")
    parse, schemas = loader._parse_csv, []

    def spy(*args):
        t = parse(*args)
        schemas.append(dict(t.schema().items()))
        return t

    monkeypatch.setattr(loader, "_parse_csv", spy)
    n = 30_000
    customers = pd.DataFrame({"customer_id": range(n), "joined": ["2024-01-05"] * n})
    customers.loc[7, "joined"] = "2024-2-3 10:00:00"  # the contract's cast reads it too
    customers.to_csv(tmp_path / "customers.csv", index=False)
    data = segwork.load(tmp_path, columns={"customers": {"joined": "signup_date"}})
    assert schemas[-1]["joined"].is_date()
    signup = data.to_pandas("customers").set_index("customer_id")["signup_date"]
    assert str(signup[7])[:10] == "2024-02-03" and str(signup[8])[:10] == "2024-01-05"
    customers.loc[n - 1, "joined"] = "05/01/2024"  # ambiguous: no date to the contract
    customers.to_csv(tmp_path / "customers.csv", index=False)
    with pytest.raises(DataContractError) as info:
        segwork.load(tmp_path, columns={"customers": {"joined": "signup_date"}})
    assert schemas[-1]["joined"].is_string()
    assert (info.value.column, info.value.rule, info.value.n_rows) == (
        "signup_date", "unparseable_date", 1)
    assert list(info.value.examples["signup_date"]) == ["05/01/2024"]


def test_parquet_folder_is_scanned_in_place(tmp_path, reference):
    """Parquet tables are not copied into the engine by load (DuckDB scans the files)."""
    reference.write(tmp_path, format="parquet")
    data = segwork.load(tmp_path)
    assert not [n for n in data.backend.list_tables() if not n.startswith("_raw_")]
