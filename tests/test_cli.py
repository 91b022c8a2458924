"""The `segwork` command: help, sample, validate, errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from segwork.cli import main
from tests.conftest import tiny_frames


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "sample" in out and "validate" in out
    for sub in ("sample", "validate"):
        with pytest.raises(SystemExit):
            main([sub, "--help"])
        assert "usage: segwork " + sub in capsys.readouterr().out


def test_sample_then_validate(tmp_path, capsys):
    assert main(["sample", "--customers", "50", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "customers.csv").exists() and (tmp_path / "mrr.csv").exists()
    capsys.readouterr()
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "valid segwork data" in out and "subscriptions" in out


def test_validate_reports_breach_and_exits_1(tmp_path, capsys):
    frames = tiny_frames()
    frames["subscriptions"].loc[0, "amount"] = -1
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "rule 'negative_amount'" in out and "table 'subscriptions'" in out


def test_errors_are_one_line_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "segwork.cli", "validate", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("segwork: error: ValueError: no such file or directory")
    assert "hint:" in proc.stderr
    debug = subprocess.run([sys.executable, "-m", "segwork.cli", "--debug", "validate", str(tmp_path / "nope")],
                           capture_output=True, text=True)
    assert "Traceback" in debug.stderr


def test_python_dash_m_segwork_runs_the_command():
    """``python -m segwork`` is the ``segwork`` command (for a scheduler without the scripts
    folder on PATH)."""
    proc = subprocess.run([sys.executable, "-m", "segwork", "--version"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    from segwork import __version__

    assert __version__ in proc.stdout
    bare = subprocess.run([sys.executable, "-m", "segwork"], capture_output=True, text=True)
    assert bare.returncode == 2 and "usage: segwork" in bare.stdout
