"""Two demo nodes sharing one PostgreSQL database and one Redis cache, for tests/test_two_nodes.py.

:func:`start_cluster` checks that PostgreSQL and Redis answer (else the tests skip, or fail under
``REQUIRE_POSTGRES=1``), creates the database ``rar_nodes_<random>``, migrates it and loads the demo
data, then starts nodes A and B: gunicorn (2 workers, DEBUG off, `make serve`'s config) on two free
ports, one issuer, one ``SECRET_KEY``, Redis database 7 as the cache, each node with its own copy
of the signing-key file. :meth:`Cluster.restart` replaces a node by a fresh process reading the key
file it was given, the way a load balancer rolls a node: the new process takes the node's traffic
(:meth:`Cluster.switch`) before the old one is stopped. :meth:`Cluster.close` stops everything,
drops the database and empties Redis database 7.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from .conftest import FIXTURES
from .live_servers import ROOT, SERVER_LIFETIME, free_port

NODES = ("A", "B")
REDIS_URL = "redis://127.0.0.1:6379/7"
#: One issuer, whichever node answers (the address clients would reach through the load balancer).
ISSUER = "http://127.0.0.1:8000"
API = "urn:demo:payments"
#: Seconds: the JWT lifetime, the verifiers' clock-skew leeway, and how long /oauth/jwks may be cached.
TOKEN_LIFETIME, LEEWAY, JWKS_MAX_AGE = 5, 1, 2
#: Per-client PAR budget of both nodes together (a 30-day window never rolls over during the test).
PAR_LIMIT = 8
TIMEOUT = 30
SETUP = """
import sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("loaddata", *sys.argv[1:], verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
"""


def postgres_server() -> dict[str, str]:
    """Host, port, user and password of the PostgreSQL server the PostgreSQL pass runs on."""
    from django.db import connection

    if connection.vendor == "postgresql":
        found = connection.settings_dict
        return {k: str(found.get(k.upper()) or "") for k in ("host", "port", "user", "password")}
    return {"host": "127.0.0.1", "port": "5432", "user": "postgres", "password": ""}


def _admin_connection(server: dict[str, str]):
    import psycopg

    return psycopg.connect(
        host=server["host"] or "127.0.0.1",
        port=int(server["port"] or 5432),
        user=server["user"] or "postgres",
        password=server["password"] or None,
        dbname="postgres",
        connect_timeout=3,
        autocommit=True,
    )


def unreachable(server: dict[str, str]) -> str | None:
    """Why PostgreSQL or Redis cannot be used, or None."""
    import psycopg
    import redis

    try:
        with _admin_connection(server):
            pass
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {server['host']}:{server['port']} ({str(exc).strip()[:200]})"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return f"no Redis server at {REDIS_URL} ({exc})"
    return None


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL, socket_timeout=5).flushdb()


@dataclass
class Node:
    name: str
    url: str
    process: subprocess.Popen
    log: Path


class Cluster:
    """Nodes A and B; ``url(name)`` is where node ``name`` answers now (it changes on a restart)."""

    def __init__(self, folder: Path, server: dict[str, str]):
        self.folder, self.server = folder, server
        self.database = f"rar_nodes_{secrets.token_hex(4)}"
        self.master = folder / "signing-keys.json"  # the operator's copy; nodes get theirs from it
        self.nodes: dict[str, Node] = {}
        self.stopped: list[Node] = []
        self.stopping: list[threading.Thread] = []
        self.lock = threading.Lock()
        #: What the nodes run now: each response says what it was when its request was sent.
        self.stage = "started"
        credentials = quote(server["user"] or "postgres") + (
            f":{quote(server['password'])}" if server["password"] else ""
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEST_DATABASE"))}
        self.env.update(
            DJANGO_SETTINGS_MODULE="tests.node_settings",
            DATABASE_URL=f"postgres://{credentials}@{server['host'] or '127.0.0.1'}:"
            f"{server['port'] or 5432}/{self.database}",
            CACHE_URL=REDIS_URL,
            DEBUG="False",
            SECRET_KEY="two-nodes-" + secrets.token_urlsafe(32),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            RAR_PROVIDER_ISSUER=ISSUER,
            STATIC_ROOT=str(folder / "static"),
            RAR_RATE_LIMIT_PAR=f"{PAR_LIMIT}/30d",
            NODE_TOKEN_LIFETIME=str(TOKEN_LIFETIME),
            NODE_LEEWAY=str(LEEWAY),
            NODE_JWKS_MAX_AGE=str(JWKS_MAX_AGE),
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="1",
            PYTHONUNBUFFERED="1",
        )

    # -- the database and the processes ----------------------------------------------------------

    def create(self) -> None:
        with _admin_connection(self.server) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        from django.core.management import call_command

        call_command("rar_generate_key", "--jwks-file", str(self.master), stdout=io.StringIO())
        done = subprocess.run(
            [sys.executable, "-c", SETUP, *FIXTURES],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"migrate/loaddata/collectstatic failed:\n{done.stdout}\n{done.stderr}"
        started = [self._spawn(name, self.master) for name in NODES]
        for node in started:
            self._wait_ready(node)
            self.nodes[node.name] = node

    def _spawn(self, name: str, key_file: Path) -> Node:
        """A gunicorn for node ``name`` on a free port, with its own copy of ``key_file`` (the file on
        that machine: the process that runs now keeps reading its own until it is stopped)."""
        port = free_port()
        run = self.folder / f"node-{name}-{port}"
        (run / "prometheus").mkdir(parents=True)
        shutil.copyfile(key_file, run / "signing-keys.json")
        env = {
            **self.env,
            "BIND": f"127.0.0.1:{port}",
            "RAR_SIGNING_KEYS_FILE": str(run / "signing-keys.json"),
            "PROMETHEUS_MULTIPROC_DIR": str(run / "prometheus"),
        }
        # `make serve`'s gunicorn and config; --preload imports the app once per node, not per worker.
        command = [sys.executable, "-m", "gunicorn", "--config", "demo_site/gunicorn.conf.py", "--preload"]
        command = ["timeout", str(SERVER_LIFETIME), *command, "demo_site.wsgi"]
        log = run / "gunicorn.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own server
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        return Node(name, f"http://127.0.0.1:{port}", process, log)

    def _wait_ready(self, node: Node, deadline: float = 60) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if node.process.poll() is not None:
                raise AssertionError(f"node {node.name} exited:\n{node.log.read_text(errors='replace')}")
            try:
                if requests.get(f"{node.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"node {node.name} did not start:\n{node.log.read_text(errors='replace')}")

    def prepare(self, name: str, key_file: Path | None = None) -> Node:
        """A new process for node ``name``, reading ``key_file`` (default: the operator's file as it
        is now); it takes no traffic until :meth:`switch`. Starting both nodes' replacements at once
        saves time; the traffic still moves one node at a time."""
        return self._spawn(name, key_file or self.master)

    def switch(self, fresh: Node, stage: str) -> None:
        """Node ``fresh.name``'s traffic moves to ``fresh`` (from then on the cluster is at ``stage``);
        the old process is stopped in the background, after the requests it has finish."""
        self._wait_ready(fresh)
        with self.lock:
            old, self.nodes[fresh.name] = self.nodes[fresh.name], fresh
            self.stage = stage
        stopper = threading.Thread(target=self._stop, args=(old, 0.2))
        stopper.start()
        self.stopping.append(stopper)

    def restart(self, name: str, stage: str, key_file: Path | None = None) -> None:
        """Roll node ``name`` onto ``key_file``: :meth:`prepare`, then :meth:`switch`."""
        self.switch(self.prepare(name, key_file), stage)

    def _stop(self, node: Node, delay: float = 0) -> None:
        time.sleep(delay)  # requests already on their way to the old process reach it
        if node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGTERM)
            try:
                node.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(timeout=10)
        self.stopped.append(node)

    def close(self) -> None:
        for stopper in self.stopping:
            stopper.join(timeout=60)
        closing = [threading.Thread(target=self._stop, args=(node,)) for node in self.nodes.values()]
        for stopper in closing:
            stopper.start()
        for stopper in closing:
            stopper.join(timeout=60)
        try:
            with _admin_connection(self.server) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            flush_redis()

    def logs(self) -> str:
        return "\n".join(
            f"--- node {node.name} ({node.url}):\n{node.log.read_text(errors='replace')[-3000:]}"
            for node in [*self.stopped, *self.nodes.values()]
        )

    # -- HTTP, as a load balancer would route it -------------------------------------------------

    def url(self, name: str) -> str:
        with self.lock:
            return self.nodes[name].url

    def call(self, name: str, method: str, path: str, session=None, **kwargs) -> requests.Response:
        """A request to node ``name``; refused connections (a node being rolled) are tried again.
        The response's ``stage`` is the cluster's stage when the request was sent."""
        for attempt in range(5):
            with self.lock:
                url, stage = self.nodes[name].url, self.stage
            try:
                response = (session or requests).request(
                    method, url + path, timeout=TIMEOUT, allow_redirects=False, **kwargs
                )
                response.stage = stage
                return response
            except requests.ConnectionError:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")


def start_cluster(folder: Path) -> Cluster:
    """A running cluster, or a skip (a failure under REQUIRE_POSTGRES=1) saying what is missing."""
    server = postgres_server()
    reason = unreachable(server)
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES", "") not in ("", "0"):
            pytest.fail(f"two-node tests: {reason}; REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip(f"two-node tests need PostgreSQL and Redis: {reason}")
    flush_redis()
    cluster = Cluster(folder, server)
    try:
        cluster.create()
    except BaseException:
        cluster.close()
        raise
    return cluster
