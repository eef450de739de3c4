"""`make test`'s PostgreSQL pass (scripts/postgres_pass.py): which server, and what happens without one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .live_servers import ROOT, free_port

SCRIPT = ROOT / "scripts" / "postgres_pass.py"


def run_pass(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TEST_DATABASE_URL", "DATABASE_URL", "REQUIRE_POSTGRES")
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--collect-only", "-q"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def nowhere() -> str:
    """A PostgreSQL URL, with a password, of a loopback port where nothing listens."""
    return f"postgres://postgres:hunter2@127.0.0.1:{free_port()}/rar"


def test_no_server_skips_the_pass_and_says_so(nowhere):
    result = run_pass(TEST_DATABASE_URL=nowhere)
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL pass SKIPPED: no server at postgres://postgres@127.0.0.1:" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


def test_no_server_fails_the_run_when_postgres_is_required(nowhere):
    result = run_pass(TEST_DATABASE_URL=nowhere, REQUIRE_POSTGRES="1")
    assert result.returncode == 1
    assert "PostgreSQL pass FAILED" in result.stdout and "REQUIRE_POSTGRES" in result.stdout


def test_a_sqlite_database_url_is_not_taken_for_the_server(nowhere):
    """DATABASE_URL is used only when it names PostgreSQL; TEST_DATABASE_URL comes first."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import postgres_pass
    finally:
        sys.path.remove(str(SCRIPT.parent))
    environ = {"DATABASE_URL": "sqlite:////tmp/db.sqlite3"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", environ)
        assert postgres_pass.database_url() == postgres_pass.LOCAL_DEFAULT
        environ["DATABASE_URL"] = nowhere
        assert postgres_pass.database_url() == nowhere
        environ["TEST_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/other"
        assert postgres_pass.database_url().endswith("/other")
