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
from .test_grant_races import RACES, WORKERS, Rows, Stack, run_race, sqlite_rows

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


@pytest.mark.parametrize("race", RACES)
def test_race_on_a_sqlite_file(stack, race):
    run_race(stack, race)
