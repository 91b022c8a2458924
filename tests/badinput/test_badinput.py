"""Run the bad-input corpus (cases.py): every case refused as expected or giving the right numbers."""

from __future__ import annotations

import pytest

import segwork
from segwork import DataContractError
from segwork.cli import main
from tests.badinput.cases import CASES, CLI_CASES, Case


def test_corpus_is_complete():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    for c in CASES:
        assert c.description and "\n" not in c.description
        assert sum(x is not None for x in (c.refused, c.error, c.check)) == 1, c.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, tmp_path):
    def run():
        source = case.build(tmp_path)
        return source if isinstance(source, segwork.Dataset) else segwork.load(source)

    if case.refused:
        with pytest.raises(DataContractError) as info:
            run()
        err = info.value
        assert (err.table, err.column, err.rule) == case.refused, str(err)
        assert f"rule '{err.rule}'" in str(err)
    elif case.error:
        exc, text = case.error
        with pytest.raises(exc, match=text) as info:
            run()
        assert not isinstance(info.value, DataContractError) or text in str(info.value)
    else:
        case.check(run())


@pytest.mark.parametrize(
    ("build", "text"), [c[2:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_cli_validate_refuses(build, text, tmp_path, capsys):
    path = build(tmp_path)
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert text in out + err
    if err:  # a non-contract failure: exactly one cause line and a hint
        lines = err.strip().splitlines()
        assert (
            lines[0].startswith("segwork: error: ")
            and len(lines) == 2
            and lines[1].startswith("hint: ")
        )
    else:  # a contract breach: a first line saying so, then the named breach
        assert "breaks the segwork contract" in out.splitlines()[0]
