"""Smoke test of the benchmark tools, run only when asked (pytest's testpaths is tests/):

    .venv/bin/pytest benchmarks/test_smoke.py -q

Each tool runs as `make bench` runs it, on a few requests: every step must answer as expected (no
errors) and the tables must be printed. No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import servers

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_queries_prints_every_step_and_check_follows_the_budgets():
    done = run("benchmarks.queries", "-n", "2")
    assert done.returncode == 0, done.stderr
    for step in ("push", "authorize GET", "consent POST", "code exchange", "refresh", "introspection"):
        assert f"| {step} " in done.stdout
    checked = run("benchmarks.queries", "-n", "2", "--check")
    assert checked.returncode == (1 if "NOT MET" in done.stdout else 0)


def test_cpu_profile_names_functions():
    done = run("benchmarks.cpu_profile", "-n", "2", "--step", "push", "--top", "3")
    assert done.returncode == 0, done.stderr
    assert "### push:" in done.stdout and "rar_provider/views/par.py" in done.stdout


@pytest.mark.parametrize("tokens", ["jwt", "opaque"])
def test_load_runs_every_step_without_errors(tmp_path, tokens):
    kinds = "ours,dot" + ("" if servers.node_missing() else ",node")
    figures = tmp_path / "figures.json"
    done = run(
        "benchmarks.load", "-n", "6", "--flows", "3", "-c", "2", "--servers", kinds,
        "--access-tokens", tokens, "--json", str(figures),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(figures.read_text())
    assert set(result["servers"]) == set(kinds.split(","))
    for kind, server in result["servers"].items():
        for step, figures_of_step in server["steps"].items():
            assert figures_of_step["errors"] == 0, (kind, step, figures_of_step["first_error"])
    assert "Server CPU ms per unit, side by side" in done.stdout
    assert "Issue 11 point 8 targets" in done.stdout
