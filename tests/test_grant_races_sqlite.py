"""The races of ``test_grant_races.py`` on a SQLite file (issue 10, point 7).

The same scenarios, with the demo under gunicorn (several worker processes) on its own SQLite file,
in the demo's settings for it: WAL, IMMEDIATE transactions, a busy timeout (docs/database.md). A
writer waits for the file's lock instead of a row's; a transaction that still finds the file locked
is retried (``rar_provider.transactions``), never a 500. Measured before the one-grant model: one
code exchanged at once gave a 500 ("database is locked") in a quarter of the requests.
"""

from __future__ import annotations

import sqlite3

import pytest

from . import serving
from .live_servers import DemoHTTP
from .test_grant_races import (
    WORKERS,
    Rows,
    Stack,
    race_codes_of_one_grant,
    race_narrowing_refreshes,
    race_one_code,
    race_one_consent_page,
    race_revoke_and_refresh,
    race_revoke_and_reuse,
    sqlite_rows,
)

pytestmark = pytest.mark.sqlite_file


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo under gunicorn on a copy of the migrated demo database (a SQLite file in WAL)."""
    folder = tmp_path_factory.mktemp("grant-races-sqlite")
    server = serving.start(folder, WEB_CONCURRENCY=str(WORKERS))
    with sqlite3.connect(folder / "db.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    yield server
    serving.stop(server)


@pytest.fixture
def stack(served) -> Stack:
    return Stack(
        DemoHTTP(served.url), served, Rows(sqlite_rows(served.folder / "db.sqlite3")), len(served.log())
    )


@pytest.mark.parametrize("pushed", [True, False], ids=["par", "front-channel"])
def test_one_consent_page_posted_at_once_issues_one_code_and_one_payment(stack, pushed):
    race_one_consent_page(stack, stack.http.login(), pushed)
    stack.assert_no_trouble()


def test_one_code_exchanged_at_once_has_one_winner_and_nothing_live(stack):
    race_one_code(stack, stack.http.login())
    stack.assert_no_trouble()


def test_revoke_racing_refreshes_leaves_nothing_live(stack):
    race_revoke_and_refresh(stack, stack.http.login())
    stack.assert_no_trouble()


def test_narrowing_refreshes_at_once_answer_what_the_token_carries(stack):
    race_narrowing_refreshes(stack, stack.http.login())
    stack.assert_no_trouble()


def test_codes_of_one_reusable_grant_exchanged_at_once_all_succeed(stack):
    race_codes_of_one_grant(stack, stack.http.login())
    stack.assert_no_trouble()


def test_revoke_racing_reuse_of_the_grant_leaves_nothing_live(stack):
    race_revoke_and_reuse(stack, stack.http.login())
    stack.assert_no_trouble()
