"""The servers benchmarks/load.py measures, each started on a free loopback port with a fresh
database and stopped (its whole process group) when the run ends, however it ends.

- ``ours``: the demo as ``make serve`` runs it (scripts/serve: gunicorn, 2 sync workers, DEBUG off).
- ``dot``: stock django-oauth-toolkit (benchmarks/stock_dot) under the same gunicorn configuration.
- ``node``: node-oidc-provider (benchmarks/node/server.mjs), installed by ``make bench-deps``.

Server CPU is read from ``/proc/<pid>/stat`` (utime + stime, and for the root the reaped children's
cutime + cstime) of the root process and all its descendants: gunicorn's master and workers, or
node's one process with its threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import requests

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "benchmarks" / "node"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 90


class NodeMissing(RuntimeError):
    """node or the oidc-provider package is not installed."""


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root``, its reaped children and its live
    descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    ticks, todo = 0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(pid)  # utime, stime, cutime, cstime are fields 14-17 (index 11-14 here)
            ticks += int(fields[11]) + int(fields[12])
            if pid == root:
                ticks += int(fields[13]) + int(fields[14])
        todo.extend(children.get(pid, []))
    return ticks / CLOCK_TICKS


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Server:
    """A started server: what it is, where it listens, its process group, its log."""

    kind: str
    label: str
    url: str
    process: subprocess.Popen
    log: Path
    cleanups: list = field(default_factory=list)

    def cpu_seconds(self) -> float:
        return process_tree_cpu(self.process.pid)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM the process group; SIGKILL whatever is left after 20 s; then the cleanups
        (databases dropped, folders removed)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        while self.cleanups:
            with contextlib.suppress(Exception):
                self.cleanups.pop()()


class Databases:
    """Fresh databases for one run: SQLite files in ``folder``, or PostgreSQL databases created on
    the server of ``database_url`` and dropped at the end."""

    def __init__(self, folder: Path, database_url: str | None):
        self.folder, self.base = folder, database_url
        self.created: list[str] = []

    @property
    def engine(self) -> str:
        return "postgresql" if self.base else "sqlite (file)"

    def new(self, name: str) -> tuple[str, callable]:
        """(a database URL for a new, empty database, a function that drops it)."""
        if not self.base:
            path = self.folder / f"{name}.sqlite3"
            return f"sqlite:///{path}", lambda: None
        import psycopg

        database = f"rar_bench_{name}_{uuid.uuid4().hex[:8]}"
        parts = urlparse(self.base)
        admin = urlunparse(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')

        def drop():
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

        return urlunparse(parts._replace(path=f"/{database}")), drop


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEST_DATABASE", "DJANGO_"))}
    env.update(PYTHONUNBUFFERED="1", SECRET_KEY="bench-" + os.urandom(16).hex(), **extra)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise RuntimeError(f"django-admin {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _launch(kind: str, label: str, command: list[str], env: dict, folder: Path, url: str) -> Server:
    log = folder / f"{kind}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: PLW1509
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = Server(kind, label, url, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{label} exited with {process.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{label} did not answer /healthz in {START_TIMEOUT} s:\n{server.log_tail()}")


def start_ours(folder: Path, databases: Databases, access_tokens: str, workers: int = 2) -> Server:
    """The demo under scripts/serve, on a fresh database migrated and loaded with the demo data."""
    database_url, drop = databases.new("ours")
    keys = folder / "ours-keys.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DATABASE_URL=database_url,
        RAR_SIGNING_KEYS_FILE=str(keys),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CACHE_URL="locmemcache://",
        STATIC_ROOT=str(folder / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(folder / "prometheus"),
        SERVE_PYTHON=sys.executable,
        BIND=f"127.0.0.1:{port}",
        RAR_PROVIDER_ISSUER=url,
        WEB_CONCURRENCY=str(workers),
        # The limits stay on (their cost is measured) but high enough never to answer 429.
        RAR_RATE_LIMIT_PAR="1000000/m",
        RAR_RATE_LIMIT_TOKEN="1000000/m",
    )
    try:
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        _manage(
            env, "loaddata", "--verbosity", "0", *sorted(str(p) for p in (ROOT / "fixtures").glob("*.json"))
        )
        _manage(env, "rar_generate_key", "--jwks-file", str(keys), "--if-missing")
        if access_tokens != "jwt":
            _manage(
                env,
                "shell",
                "-c",
                "from rar_provider.models import ResourceServer; "
                f"ResourceServer.objects.update(access_token_format={access_tokens!r})",
            )
        server = _launch(
            "ours",
            f"rar_provider (gunicorn, {workers} workers)",
            [str(ROOT / "scripts" / "serve")],
            env,
            folder,
            url,
        )
    except BaseException:
        drop()
        raise
    server.cleanups.append(drop)
    return server


def start_dot(folder: Path, databases: Databases, workers: int = 2) -> Server:
    """Stock DOT (benchmarks/stock_dot) under gunicorn, with the demo's users and clients."""
    database_url, drop = databases.new("dot")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(
        DJANGO_SETTINGS_MODULE="benchmarks.stock_dot.settings",
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    rows = json.loads((ROOT / "fixtures" / "demo.json").read_text())
    fixture = folder / "stock-dot-fixture.json"
    fixture.write_text(
        json.dumps([r for r in rows if r["model"] in ("auth.user", "oauth2_provider.application")])
    )
    try:
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        _manage(env, "loaddata", "--verbosity", "0", str(fixture))
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "demo_site" / "gunicorn.conf.py"),
            "benchmarks.stock_dot.wsgi",
        ]
        server = _launch("dot", f"stock DOT (gunicorn, {workers} workers)", command, env, folder, url)
    except BaseException:
        drop()
        raise
    server.cleanups.append(drop)
    return server


def node_missing() -> str | None:
    """Why node-oidc-provider cannot run here, or None."""
    if not shutil.which("node"):
        return "node is not installed (Debian: apt-get install nodejs npm), then run `make bench-deps`"
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        return "benchmarks/node/node_modules is missing: run `make bench-deps`"
    return None


def start_node(folder: Path, access_tokens: str) -> Server:
    """node-oidc-provider (benchmarks/node/server.mjs) with its in-memory adapter."""
    reason = node_missing()
    if reason:
        raise NodeMissing(reason)
    port = free_port()
    package = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
    version = json.loads(package.read_text())["version"]
    node_version = subprocess.check_output(["node", "--version"], text=True).strip()
    env = _env(PORT=str(port), ACCESS_TOKEN_FORMAT=access_tokens, NODE_ENV="production")
    return _launch(
        "node",
        f"node-oidc-provider {version} (node {node_version})",
        ["node", str(NODE_DIR / "server.mjs")],
        env,
        folder,
        f"http://127.0.0.1:{port}",
    )
