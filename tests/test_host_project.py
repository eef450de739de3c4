"""The app installed in someone else's project: a ``startproject`` site plus the install lines.

``tests/hostproject/`` is Django's ``startproject`` output with exactly the lines the install guide
adds (marked "Added as docs/install.md says"). Nothing of ``demo_site`` is imported, so a setting
that only the demo defines (``OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL``, say) is not there to hide a
fault. Each test copies the project into a temporary folder and runs its ``manage.py`` in a
subprocess, as its owner would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HOST_PROJECT = Path(__file__).parent / "hostproject"
MIGRATIONS = Path(__file__).parent.parent / "rar_provider" / "migrations"


@pytest.fixture
def host(tmp_path):
    """Run the host project's manage.py in a copy under ``tmp_path``; returns ``run(*args)``."""
    project = tmp_path / "host"
    shutil.copytree(HOST_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RAR_", "DATABASE"))}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            command = " ".join(args)
            assert result.returncode == 0, f"manage.py {command} failed:\n{result.stdout}\n{result.stderr}"
        return result

    return run


def test_migrate_from_zero_in_a_host_project(host):
    """Issue 8, example 1: ``migrate`` on a fresh host crashed on ``settings.OAUTH2_PROVIDER_*``."""
    shown = host("showmigrations", "rar_provider")
    assert "[ ] 0001_initial" in shown.stdout
    host("migrate", "--noinput")
    shown = host("showmigrations", "rar_provider")
    assert "[ ]" not in shown.stdout and "[X] 0001_initial" in shown.stdout
    host("makemigrations", "--check", "--dry-run")


def test_check_is_clean_in_a_host_project(host):
    result = host("check", "--fail-level", "WARNING")
    assert "no issues" in result.stdout


def test_no_migration_reads_dot_model_settings_directly():
    """The kind behind example 1: a migration naming ``settings.OAUTH2_PROVIDER_*``.

    ``makemigrations`` writes ``settings.OAUTH2_PROVIDER_<MODEL>`` for swappable DOT models, and a
    host project usually defines none of them. Migrations must use DOT's ``oauth2_settings``.
    """
    offenders = [
        path.name
        for path in MIGRATIONS.glob("0*.py")
        if re.search(r"\bsettings\.OAUTH2_PROVIDER", path.read_text())
    ]
    assert offenders == []
