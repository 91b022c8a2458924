"""Encodings: CSVs that are not UTF-8 are detected and read right (segwork.data.encoding)."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segwork
from segwork import DataContractError
from segwork.data.encoding import detect_encoding, is_utf8, normalize_encoding, utf8_copy

NAMES = ["Müller", "José", "Zoë", "Françoise", "Straße", "Ågren", "Malmö", "Besançon", "Núñez"]


def _customers(names: list[str]) -> str:
    rows = "".join(f"{i},2024-01-{i % 28 + 1:02d},{n}\n" for i, n in enumerate(names, 1))
    return "customer_id,signup_date,name\n" + rows


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("cp1252", "cp1252"), ("utf-16", "utf_16"), ("utf-8-sig", "utf_8_sig"), ("utf-8", "utf_8")],
)
def test_excel_encodings_load_with_accents_right(tmp_path, encoding, expected):
    (tmp_path / "customers.csv").write_bytes(_customers(NAMES).encode(encoding))
    data = segwork.load(tmp_path)
    assert data.to_pandas("customers").sort_values("customer_id")["name"].tolist() == NAMES
    assert detect_encoding(tmp_path / "customers.csv").encoding == expected
    said = [n for n in data.notes if "customers.csv read as" in n]
    if expected.startswith("utf_8"):
        assert not said  # UTF-8 is read as it is, nothing to say
    else:
        assert said == [f"customers.csv read as {expected} ({'bom' if 'utf_16' in expected else 'detected'}) text, not UTF-8"]


def test_euro_sign_and_smart_quotes_are_cp1252_not_latin1(tmp_path):
    text = _customers(["Café “Œuvre” €5", "naïve"])
    (tmp_path / "customers.csv").write_bytes(text.encode("cp1252"))
    names = segwork.load(tmp_path).to_pandas("customers").sort_values("customer_id")["name"]
    assert names.tolist() == ["Café “Œuvre” €5", "naïve"]


def test_encoding_given_overrides_detection(tmp_path):
    # cp1250 (Central European) bytes a detector may well call cp1252: the user says which
    names = ["Łódź", "Žilina", "Śląsk"]
    (tmp_path / "customers.csv").write_bytes(_customers(names).encode("cp1250"))
    data = segwork.load(tmp_path, encoding="cp1250")
    assert data.to_pandas("customers").sort_values("customer_id")["name"].tolist() == names
    assert "customers.csv read as cp1250 (given) text, not UTF-8" in data.notes


def test_gzipped_cp1252_csv(tmp_path):
    (tmp_path / "customers.csv.gz").write_bytes(gzip.compress(_customers(NAMES).encode("cp1252")))
    data = segwork.load(tmp_path)
    assert data.to_pandas("customers").sort_values("customer_id")["name"].tolist() == NAMES


def test_undecodable_file_keeps_the_clear_refusal(tmp_path):
    (tmp_path / "customers.csv").write_bytes(bytes(range(256)) * 50)
    with pytest.raises(DataContractError) as info:
        segwork.load(tmp_path)
    err = info.value
    assert (err.table, err.rule) == ("customers", "not_utf8")
    assert "customers.csv" in str(err) and "encoding='cp1252'" in str(err)


def test_wrong_encoding_given_is_refused_not_garbled(tmp_path):
    (tmp_path / "customers.csv").write_bytes(_customers(NAMES).encode("cp1252"))
    with pytest.raises(DataContractError) as info:
        segwork.load(tmp_path, encoding="utf-8")
    assert info.value.rule == "not_utf8" and "encoding='utf_8' was given" in str(info.value)


def test_unknown_encoding_name():
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        normalize_encoding("klingon")


def test_dict_of_paths_is_detected_too(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(_customers(NAMES).encode("cp1252"))
    data = segwork.load({"customers": path})
    assert data.to_pandas("customers").sort_values("customer_id")["name"].tolist() == NAMES


def test_is_utf8_tolerates_a_character_cut_by_the_sample():
    cut = "é".encode()[:1]
    assert is_utf8(cut, complete=False) and not is_utf8(cut, complete=True)


def test_utf8_copy_refuses_bytes_the_encoding_lacks(tmp_path):
    src = tmp_path / "x.csv"
    src.write_bytes(b"a\n\x81\n")  # 0x81 is undefined in cp1252
    (tmp_path / "out").mkdir()
    with pytest.raises(DataContractError, match="not valid cp1252"):
        utf8_copy(src, "cp1252", tmp_path / "out")


#: Words of Western customer lists (names, cities, products): real text, not random letters, which
#: no detector can tell apart from CJK double-byte text when it is a few bytes long.
WORDS = [
    "Müller", "José García", "Zoë Dupont", "Françoise", "Straße 5", "Ågren", "Malmö", "Besançon",
    "Núñez", "Sørensen", "Öztürk", "Jürgen", "Anaïs", "Crème brûlée", "São Paulo", "Smith",
    "Jones", "O'Neil", "Café “Œuvre” €5", "naïve", "Ærø", "Çelik", "Renée", "Gómez", "Peña",
    "Zürich", "Köln", "Mañana", "Tór",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40))
def test_western_text_round_trips_through_cp1252(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("enc")
    (folder / "customers.csv").write_bytes(_customers(names).encode("cp1252"))
    got = segwork.load(folder).to_pandas("customers").sort_values("customer_id")["name"].tolist()
    assert got == names


@pytest.mark.parametrize(
    ("encoding", "names"),
    [
        ("cp1251", ["Иван Петров", "Мария Иванова", "Сергей Смирнов"]),
        ("cp1250", ["Łódź Śląsk", "Žilina Šťastný", "Zażółć gęślą jaźń"]),
        ("shift_jis", ["山田太郎", "佐藤花子", "鈴木一郎"]),
    ],
)
def test_other_scripts_are_not_taken_for_cp1252(tmp_path, encoding, names):
    (tmp_path / "customers.csv").write_bytes(_customers(names).encode(encoding))
    got = segwork.load(tmp_path).to_pandas("customers").sort_values("customer_id")["name"]
    assert got.tolist() == names
