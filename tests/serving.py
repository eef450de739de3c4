"""Start `make serve`'s command (scripts/serve: gunicorn, DEBUG off) in a subprocess, for tests.

Each server binds 127.0.0.1 on a port free at run time, uses its own copy of a SQLite database
migrated and loaded with the demo data once per test session, and is stopped (its whole process
group: gunicorn's master and workers) by :func:`stop`.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "scripts" / "serve"
START_TIMEOUT = 60


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEST_DATABASE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        SERVE_PYTHON=sys.executable,
        SECRET_KEY="test-serve-" + os.urandom(16).hex(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CACHE_URL="locmemcache://",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
    )


@functools.cache
def prepared_database() -> tuple[Path, Path]:
    """A migrated SQLite file with the demo fixtures, and a JWK Set file: made once per session."""
    folder = Path(tempfile.mkdtemp(prefix="rar-serve-"))
    atexit.register(shutil.rmtree, folder, True)
    database, keys = folder / "template.sqlite3", folder / "keys.json"
    env = base_env(DATABASE_URL=f"sqlite:///{database}", RAR_SIGNING_KEYS_FILE=str(keys))
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "loaddata", "--verbosity", "0", *sorted(str(p) for p in (ROOT / "fixtures").glob("*.json")))
    manage(env, "rar_generate_key", "--jwks-file", str(keys), "--if-missing")
    return database, keys


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    folder: Path

    def log(self) -> str:
        return (self.folder / "serve.log").read_text(errors="replace")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return request(self.url + path, headers=headers)

    def post(self, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return request(self.url + path, data=data, headers=headers)


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
    """(status, headers with lower-case names, body); 4xx/5xx are answers, not exceptions."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def start(tmp_path: Path, **env_extra: str) -> Server:
    """Run scripts/serve on a free port with a fresh copy of the prepared database."""
    template, keys = prepared_database()
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(template, database)
    return _serve(tmp_path, f"sqlite:///{database}", keys, **env_extra)


def _serve(tmp_path: Path, database_url: str, keys: Path, **env_extra: str) -> Server:
    """scripts/serve on a free port, on ``database_url`` with the signing ``keys``; waits for /healthz."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_env(
        DATABASE_URL=database_url,
        RAR_SIGNING_KEYS_FILE=str(keys),
        STATIC_ROOT=str(tmp_path / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        BIND=f"127.0.0.1:{port}",
        RAR_PROVIDER_ISSUER=url,
        WEB_CONCURRENCY="2",
    )
    env.update(env_extra)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    process = subprocess.Popen(
        [str(SERVE)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(url, process, tmp_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"scripts/serve exited with {process.returncode}:\n{server.log()}")
        try:
            if server.get("/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise AssertionError(f"scripts/serve did not answer /healthz in {START_TIMEOUT} s:\n{server.log()}")


def stop(server: Server) -> None:
    """SIGTERM gunicorn's process group (master and workers); SIGKILL if it is still there after 20 s."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


def as_json(body: bytes) -> dict:
    return json.loads(body.decode())


# -- The demo served on a database the test provides (e.g. pytest-django's PostgreSQL test database) -


@functools.cache
def signing_keys() -> Path:
    """A JWK Set file for servers started by :func:`start_on`: made once per test session."""
    folder = Path(tempfile.mkdtemp(prefix="rar-keys-"))
    atexit.register(shutil.rmtree, folder, True)
    keys = folder / "keys.json"
    env = base_env(DATABASE_URL=f"sqlite:///{folder / 'unused.sqlite3'}", RAR_SIGNING_KEYS_FILE=str(keys))
    manage(env, "rar_generate_key", "--jwks-file", str(keys), "--if-missing")
    return keys


def start_on(tmp_path: Path, database_url: str, **env_extra: str) -> Server:
    """Run scripts/serve on a free port on ``database_url`` as it is (migrated and loaded by the
    caller), with ``WEB_CONCURRENCY`` workers (default 2) and its own signing keys.

    The server's log (gunicorn's and Django's, tracebacks included) is ``tmp_path / "serve.log"``.
    """
    return _serve(tmp_path, database_url, signing_keys(), **env_extra)


def postgres_url(settings_dict: dict) -> str:
    """The ``postgres://`` URL (django-environ's form) of a Django PostgreSQL database's settings."""
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD")
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}" if password else quote(user, safe="")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"
