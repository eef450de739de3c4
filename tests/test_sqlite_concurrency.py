"""SQLite as the embedded default holds under concurrency (issue 11, point 1).

The demo site's own settings (WAL, IMMEDIATE transactions, a busy timeout) on a SQLite *file*, served
by two server processes of many threads each (as gunicorn's workers would share the file), take
concurrent logins, pushed authorization requests, consents and code exchanges, and a burst of
concurrent replays of one code, with no 500: every request gets its protocol answer.
"""

from __future__ import annotations

import base64
import re
import sqlite3
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from .conftest import FIXTURES, REDIRECT_URI
from .live_servers import MANAGE, ROOT, LiveServer, demo_environment, manage

pytestmark = pytest.mark.sqlite_file

#: Parallel clients, and flows each runs: bounded so the test stays a few seconds long.
CLIENTS = 8
FLOWS_PER_CLIENT = 3
TIMEOUT = 60  # seconds, per HTTP request
BASIC = "Basic " + base64.b64encode(b"demo-client:demo-secret").decode()
#: Under the demo's step-up limit (1,000), so the consent page comes straight away.
SMALL_TRANSFER = (
    '[{"type":"money_transfer","instructedAmount":{"amount":25,"currency":"EUR"},'
    '"sourceAccount":"xxxxxxxxxxx1234","destinationAccount":"xxxxxxxxxxx9876","beneficiary":"Hanna Herwitz"}]'
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two demo-site processes sharing one migrated SQLite file with the demo data."""
    directory = tmp_path_factory.mktemp("sqlite-concurrency")
    database = directory / "db.sqlite3"
    env = demo_environment(f"sqlite:///{database}", directory / "signing-keys.json")
    manage(env, "migrate", "--noinput")
    manage(env, "loaddata", *FIXTURES)
    manage(env, "rar_generate_key", "--jwks-file", str(directory / "signing-keys.json"), "--if-missing")
    started = [LiveServer(env, directory / f"server-{n}.log") for n in range(2)]
    try:
        for server in started:
            server.wait_until_ready()
        yield started, database, env
    finally:
        for server in started:
            server.stop()


class Recorder:
    """Every status code the servers answered, by step."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: list[tuple[str, int, str]] = []

    def note(self, step: str, response: requests.Response) -> requests.Response:
        with self.lock:
            self.statuses.append((step, response.status_code, response.text[:300]))
        return response

    def server_errors(self) -> list[tuple[str, int, str]]:
        return [entry for entry in self.statuses if entry[1] >= 500]


def logged_in_session(base: str, record: Recorder) -> requests.Session:
    session = requests.Session()
    record.note("login page", session.get(f"{base}/accounts/login/", timeout=TIMEOUT))
    response = record.note(
        "login",
        session.post(
            f"{base}/accounts/login/",
            data={
                "username": "alice",
                "password": "wonderland-42",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "next": "/",
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        ),
    )
    assert response.status_code == 302, response.text[:500]
    return session


def code_from_flow(session: requests.Session, base: str, record: Recorder) -> str:
    """PAR → consent page → approve: the authorization code."""
    pushed = record.note(
        "par",
        session.post(
            f"{base}/oauth/par",
            data={
                "client_id": "demo-client",
                "response_type": "code",
                "redirect_uri": REDIRECT_URI,
                "state": "s",
                "authorization_details": SMALL_TRANSFER,
            },
            headers={"Authorization": BASIC},
            timeout=TIMEOUT,
        ),
    )
    assert pushed.status_code == 201, pushed.text
    query = {"client_id": "demo-client", "request_uri": pushed.json()["request_uri"]}
    page = record.note("consent page", session.get(f"{base}/oauth/authorize", params=query, timeout=TIMEOUT))
    assert page.status_code == 200, page.text[:500]
    transaction = re.search(r'name="transaction" value="([^"]+)"', page.text).group(1)
    decided = record.note(
        "consent",
        session.post(
            f"{base}/oauth/authorize",
            data={
                "transaction": transaction,
                "decision": "allow",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        ),
    )
    assert decided.status_code == 302, decided.text[:500]
    return parse_qs(urlparse(decided.headers["Location"]).query)["code"][0]


def exchange(base: str, code: str, record: Recorder) -> requests.Response:
    return record.note(
        "token",
        requests.post(
            f"{base}/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
            headers={"Authorization": BASIC},
            timeout=TIMEOUT,
        ),
    )


def test_concurrent_flows_and_replays_on_a_sqlite_file_never_answer_500(servers):
    started, database, _ = servers
    bases = [server.url for server in started]
    record = Recorder()
    start_together = threading.Barrier(CLIENTS)

    def client(number: int) -> list[int]:
        # Alternate the two processes, so writes from both contend for the file.
        base, other = bases[number % 2], bases[(number + 1) % 2]
        session = logged_in_session(base, record)
        start_together.wait(timeout=TIMEOUT)
        statuses = []
        for flow in range(FLOWS_PER_CLIENT):
            code = code_from_flow(session, base if flow % 2 else other, record)
            statuses.append(exchange(other, code, record).status_code)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS), timeout=TIMEOUT * 10))
    assert record.server_errors() == []
    assert results == [[200] * FLOWS_PER_CLIENT] * CLIENTS, record.statuses

    # One code, exchanged by every client at once on both processes: one winner, the rest invalid_grant.
    session = logged_in_session(bases[0], record)
    code = code_from_flow(session, bases[0], record)
    replay_together = threading.Barrier(CLIENTS)

    def replay(number: int) -> requests.Response:
        replay_together.wait(timeout=TIMEOUT)
        return exchange(bases[number % 2], code, record)

    with ThreadPoolExecutor(CLIENTS) as pool:
        replays = list(pool.map(replay, range(CLIENTS), timeout=TIMEOUT * 10))
    assert record.server_errors() == []
    assert sorted(r.status_code for r in replays) == [200] + [400] * (CLIENTS - 1)
    assert {r.json()["error"] for r in replays if r.status_code == 400} == {"invalid_grant"}

    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


EXPIRED_PUSHED_REQUESTS = """
from datetime import timedelta
from django.utils import timezone
from oauth2_provider.models import Application
from rar_provider.models import PushedAuthorizationRequest
client = Application.objects.get(client_id="demo-client")
expired = timezone.now() - timedelta(days=1)
PushedAuthorizationRequest.objects.bulk_create(
    PushedAuthorizationRequest(
        reference_hash=f"prune-{n:058x}", application=client, parameters=[], expires_at=expired
    )
    for n in range(60)
)
"""


def test_two_nodes_pruning_the_sqlite_file_at_once_delete_each_row_once(servers):
    """Two ``rar_clear_expired`` processes at once, on the file the servers use."""
    _, database, env = servers
    manage(env, "shell", "-c", EXPIRED_PUSHED_REQUESTS)
    command = [*MANAGE, "rar_clear_expired", "--batch-size", "7"]
    runs = [
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=TIMEOUT) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    pattern = re.compile(r"Deleted (\d+) expired pushed authorization request")
    assert sum(int(pattern.search(out).group(1)) for out, _ in outputs) == 60
    with sqlite3.connect(database) as connection:
        left = (
            "SELECT COUNT(*) FROM rar_provider_pushedauthorizationrequest WHERE reference_hash LIKE 'prune-%'"
        )
        assert connection.execute(left).fetchone()[0] == 0
