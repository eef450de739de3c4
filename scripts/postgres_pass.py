"""The PostgreSQL pass of `make test`: the suite again, on PostgreSQL, when a server is reachable.

The server: ``TEST_DATABASE_URL``, else ``DATABASE_URL`` if it names PostgreSQL, else the local default
``postgres://postgres@127.0.0.1:5432/rar_provider``. pytest-django creates ``test_<name>`` on it and drops
it afterwards; ``--create-db`` first drops a leftover of a run that was killed.

When no server answers, the pass is skipped with a plain message, unless ``REQUIRE_POSTGRES=1`` (CI):
then the run fails. Extra arguments go to pytest.

    python scripts/postgres_pass.py [pytest arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DEFAULT = "postgres://postgres@127.0.0.1:5432/rar_provider"
#: Left out of this pass: the browser tests (pages do not depend on the database) and the tests that
#: serve the demo from their own SQLite file.
MARKERS = "not browser and not sqlite_file"


def database_url() -> str:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        value = os.environ.get(name, "")
        if value.startswith(("postgres://", "postgresql://", "pgsql://")):
            return value
    return LOCAL_DEFAULT


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def unreachable_reason(url: str) -> str | None:
    """None if the server accepts a connection (to its ``postgres`` database), else why not."""
    import psycopg

    parts = urlsplit(url)
    try:
        with psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def main(arguments: list[str]) -> int:
    url = database_url()
    reason = unreachable_reason(url)
    if reason is not None:
        required = os.environ.get("REQUIRE_POSTGRES", "") not in ("", "0")
        verdict = "FAILED" if required else "SKIPPED"
        print(f"\n*** PostgreSQL pass {verdict}: no server at {redacted(url)} ({reason}).", flush=True)
        if required:
            print("*** REQUIRE_POSTGRES is set: the PostgreSQL pass must run.", flush=True)
            return 1
        print("*** Set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL server to run it.", flush=True)
        return 0
    print(f"\n=== PostgreSQL pass on {redacted(url)} (test database test_{urlsplit(url).path.lstrip('/')})")
    env = {**os.environ, "TEST_DATABASE_URL": url}
    command = [sys.executable, "-m", "pytest", "--create-db", "-m", MARKERS, *arguments]
    return subprocess.call(command, cwd=ROOT, env=env)  # noqa: S603 - our own test run


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
