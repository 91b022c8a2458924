"""environment.yml and pyproject.toml list the same dependencies at the same versions."""

from __future__ import annotations

import re
import tomllib

from segwork.paths import REPO_ROOT


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    reqs = meta["dependencies"] + extras["test"] + extras["spark"]
    out = {}
    for r in reqs:
        name, version = r.split("==")
        out[re.sub(r"\[.*\]", "", name).lower()] = version
    return out


def _environment() -> dict[str, str]:
    out = {}
    for line in (REPO_ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.\-\[\]]+)\s*(==?)\s*([0-9][^\s#]*)", line)
        if m and m.group(1) not in ("python", "openjdk"):  # not Python packages
            out[re.sub(r"\[.*\]", "", m.group(1)).lower()] = m.group(3)
    return out


def test_environment_yml_matches_pyproject():
    assert _environment() == _pyproject()


def test_environment_yml_is_valid_yaml():
    yaml = __import__("yaml")
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert env["name"] == "segwork" and "conda-forge" in env["channels"]
    assert any(isinstance(d, dict) and "pip" in d for d in env["dependencies"])
