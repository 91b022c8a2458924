"""pyproject.toml (ranges), constraints.txt (the exact set tested) and environment.yml agree."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from segwork.paths import REPO_ROOT


def _pyproject() -> dict[str, Requirement]:
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    # every extra: test, pdf, spark and bench (benchmarks/run.py's Polars baseline)
    reqs = [Requirement(r) for r in meta["dependencies"]]
    reqs += [Requirement(r) for extra in extras.values() for r in extra]
    return {canonicalize_name(r.name): r for r in reqs}


def _constraints() -> dict[str, str]:
    out = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            out[canonicalize_name(name)] = version
    return out


def _environment() -> dict[str, str]:
    out = {}
    for line in (REPO_ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.\-\[\]]+)\s*(==?)\s*([0-9][^\s#]*)", line)
        if m and m.group(1) not in ("python", "openjdk"):  # not Python packages
            out[canonicalize_name(re.sub(r"\[.*\]", "", m.group(1)))] = m.group(3)
    return out


def test_dependencies_are_ranges_not_pins():
    for name, req in _pyproject().items():
        assert req.specifier, f"{name}: give a lower bound"
        assert all(s.operator not in ("==", "===") for s in req.specifier), f"{name} is pinned"
        assert any(s.operator == ">=" for s in req.specifier), f"{name}: no lower bound"


def test_constraints_pin_every_dependency_within_its_range():
    pins = _constraints()
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in pins.values())
    for name, req in _pyproject().items():
        assert name in pins, f"{name} is not in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


def test_environment_yml_matches_the_constraints():
    env, pins = _environment(), _constraints()
    assert set(env) == set(_pyproject())  # the same direct dependencies
    for name, version in env.items():
        assert pins[name] == version, f"environment.yml {name}={version}, tested {pins[name]}"


def test_environment_yml_is_valid_yaml():
    yaml = __import__("yaml")
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert env["name"] == "segwork" and "conda-forge" in env["channels"]
    assert any(isinstance(d, dict) and "pip" in d for d in env["dependencies"])


def test_bench_extra_is_polars_only_and_pinned():
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {canonicalize_name(Requirement(r).name) for r in extras["bench"]}
    assert names == {"polars"}
    assert "polars" in _constraints() and "polars" in _environment()


def test_tasks_install_with_the_constraints():
    tasks = (REPO_ROOT / "tasks.sh").read_text()
    assert "-c constraints.txt" in tasks
