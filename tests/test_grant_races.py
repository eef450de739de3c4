"""Races on one grant, as real parallel requests to the demo under gunicorn (issue 10).

The demo is served by ``scripts/serve`` (gunicorn, :data:`WORKERS` sync worker processes) on
pytest-django's PostgreSQL test database; threads of the test process fire their requests together
(a barrier), so the requests are answered by different workers, each on its own connection. Every
test asserts that no answer was a 5xx (nor a token endpoint answer other than JSON), that the
server logged no traceback, that there was exactly one winner where one is expected, that nothing
that was revoked still works (introspection, refresh, the Payments API), and that the token
response describes the token it carries (RFC 9396 §7).

Measured before the one-grant model (issue 10): a consent page posted twice without PAR issued two
codes (and the demo executed the transfer twice); a replayed code's winner kept live tokens and
one loser in seven was a 500; 17 of 117 revocations racing a refresh left the new tokens live and
43 were 500s (deadlock); narrowing refreshes at once answered with details the token did not carry.

The scenarios are functions of a :class:`Stack`, so ``test_grant_races_sqlite.py`` runs them on a
SQLite file (WAL) served the same way. PostgreSQL pass only (``postgresql``).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import serving
from .live_servers import DemoHTTP, jwt_claims, redirect_query

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

#: gunicorn sync workers: requests fired together are answered by different processes.
WORKERS = 4
#: Under the demo's step-up limit (1,000): the consent page comes straight away.
TRANSFER = {
    "type": "money_transfer",
    "instructedAmount": {"amount": 25, "currency": "EUR"},
    "sourceAccount": "xxxxxxxxxxx1234",
    "destinationAccount": "xxxxxxxxxxx9876",
    "beneficiary": "Hanna Herwitz",
}
OTHER_TRANSFER = {**TRANSFER, "instructedAmount": {"amount": 10, "currency": "EUR"}, "beneficiary": "Bob"}
ACCOUNTS = {"type": "account_information", "actions": ["list_accounts", "read_balances", "read_transactions"]}


class Rows:
    """SQL on the served demo's database, from the test process; ``%s`` placeholders."""

    def __init__(self, run: Callable[[str, tuple], list[tuple]]):
        self.run = run

    def value(self, sql: str, *params):
        rows = self.run(sql, params)
        return rows[0][0] if rows else None

    def last_grant(self) -> int:
        return self.value("SELECT COALESCE(MAX(id), 0) FROM rar_provider_authorizationgrant")

    def grant_states(self, after: int) -> list[str]:
        """The states of the grants created since grant ``after``, oldest first."""
        rows = self.run(
            "SELECT state FROM rar_provider_authorizationgrant WHERE id > %s ORDER BY id", (after,)
        )
        return [state for (state,) in rows]

    def grant_pks(self, after: int) -> list[int]:
        rows = self.run("SELECT id FROM rar_provider_authorizationgrant WHERE id > %s ORDER BY id", (after,))
        return [pk for (pk,) in rows]

    def grant(self, grant_id: str) -> tuple[int, str]:
        """(pk, state) of the grant named ``grant_id`` (a token's claim)."""
        return self.run(
            "SELECT id, state FROM rar_provider_authorizationgrant WHERE grant_id = %s", (grant_id,)
        )[0]

    def grant_of_code(self, code: str) -> int:
        """The pk of the grant an authorization code was issued under."""
        return self.value(
            "SELECT i.grant_id FROM rar_provider_issuedcode i"
            " JOIN oauth2_provider_grant g ON g.id = i.code_id WHERE g.code = %s",
            code,
        )

    def grant_state(self, grant_pk: int) -> str:
        return self.value("SELECT state FROM rar_provider_authorizationgrant WHERE id = %s", grant_pk)

    def live_under(self, grant_pk: int) -> tuple[int, int]:
        """(access tokens, unrevoked refresh tokens) still issued under a grant."""
        access = self.value(
            "SELECT COUNT(*) FROM rar_provider_issuedaccesstoken WHERE grant_id = %s", grant_pk
        )
        refresh = self.value(
            "SELECT COUNT(*) FROM rar_provider_issuedrefreshtoken i JOIN oauth2_provider_refreshtoken r"
            " ON r.id = i.refresh_token_id WHERE i.grant_id = %s AND r.revoked IS NULL",
            grant_pk,
        )
        return access, refresh

    def transfers(self) -> int:
        return self.value("SELECT COUNT(*) FROM payments_transfer")

    def set_consent_policy(self, policy: str, api: str = "urn:demo:payments") -> None:
        self.run(
            "UPDATE rar_provider_resourceserver SET consent_policy = %s WHERE identifier = %s", (policy, api)
        )


def django_rows(sql: str, params: tuple) -> list[tuple]:
    """Run on the test database (autocommit: the server's commits are seen at once)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def sqlite_rows(database: Path) -> Callable[[str, tuple], list[tuple]]:
    def run(sql: str, params: tuple) -> list[tuple]:
        with sqlite3.connect(database, timeout=20, isolation_level=None) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()

    return run


@dataclass
class Stack:
    """A served demo: its HTTP parties, its server (and log), its database."""

    http: DemoHTTP
    server: serving.Server
    rows: Rows
    log_from: int = field(default=0)

    def assert_no_trouble(self) -> None:
        """No 5xx and no non-JSON token answer; no traceback in the server's log since the start."""
        assert self.http.trouble() == []
        log = self.server.log()[self.log_from :]
        assert "Traceback" not in log, log[log.find("Traceback") - 2000 :][:8000]


@contextmanager
def standard_consent_policy(stack: Stack, browser: dict):
    """The Payments API with the ``standard`` consent policy (grants answer later requests) for the
    block; afterwards ``transactional`` again, and the grants made meanwhile revoked (the user's
    Revoke), so that none answers a later test's request."""
    before = stack.rows.last_grant()
    stack.rows.set_consent_policy("standard")
    try:
        yield
    finally:
        stack.rows.set_consent_policy("transactional")
        for grant_pk in stack.rows.grant_pks(after=before):
            stack.http.revoke(browser, grant_pk)


def at_once(count: int, work: Callable[[int], object]) -> list:
    """``work(0) … work(count - 1)`` in ``count`` threads released together; results in order."""
    together = threading.Barrier(count)

    def run(number: int):
        together.wait(timeout=60)
        return work(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count), timeout=120))


def assert_describes_token(answer: dict) -> dict:
    """RFC 9396 §7: a token response's ``authorization_details`` are those its (JWT) access token
    carries. Returns ``answer``."""
    assert answer["authorization_details"] == jwt_claims(answer["access_token"])["authorization_details"]
    return answer


def error_of(response) -> str:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    return response.json()["error"]


# -- 1. One consent page, posted many times at once: one decision, one code, one payment ---------------

CONSENT_POSTS = 8
CONSENT_TRIALS = 2


def race_one_consent_page(stack: Stack, browser: dict, pushed: bool) -> None:
    """The consent form of one request posted :data:`CONSENT_POSTS` times at once; with PAR, from
    two tabs (the page and its reload, each its own pending grant): one code, one payment."""
    http, rows = stack.http, stack.rows
    used = "invalid_request_uri" if pushed else "invalid_request"
    for _ in range(CONSENT_TRIALS):
        before, transfers = rows.last_grant(), rows.transfers()
        query = http.query([TRANSFER], pushed)
        pages = [http.open_consent(browser, query) for _ in range(2 if pushed else 1)]
        responses = at_once(CONSENT_POSTS, lambda n, pages=pages: http.decide(browser, pages[n % len(pages)]))
        answers = [redirect_query(response) for response in responses]
        codes = [answer["code"] for answer in answers if "code" in answer]
        assert len(codes) == 1, answers
        assert [answer.get("error") for answer in answers if "code" not in answer] == [used] * (
            CONSENT_POSTS - 1
        )
        assert sorted(rows.grant_states(after=before)) == ["code_issued", *["pending"] * (len(pages) - 1)]
        # The same pages posted again later: still one decision.
        for transaction in pages:
            assert redirect_query(http.decide(browser, transaction)).get("error") == used
        tokens = http.exchange(codes[0])
        assert tokens.status_code == 200, tokens.text
        access_token = tokens.json()["access_token"]
        assert http.transfer(access_token, TRANSFER).status_code == 201
        assert http.transfer(access_token, TRANSFER).status_code == 403  # executed once per approval
        assert rows.transfers() == transfers + 1
        assert sorted(rows.grant_states(after=before)) == [*["pending"] * (len(pages) - 1), "redeemed"]


# -- 2. One code exchanged at once by several workers: one winner, everything from it revoked ----------

CODES = 3
EXCHANGES = 4


def race_one_code(stack: Stack, browser: dict) -> None:
    http, rows = stack.http, stack.rows
    for code in [http.code(browser, [TRANSFER]) for _ in range(CODES)]:
        responses = at_once(EXCHANGES, lambda _, code=code: http.exchange(code))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [400] * (EXCHANGES - 1), [r.text[:200] for r in responses]
        assert {error_of(r) for r in responses if r.status_code == 400} == {"invalid_grant"}
        winner = next(r.json() for r in responses if r.status_code == 200)
        assert_describes_token(winner)
        # RFC 6749 §4.1.2: the code was used more than once, so what it issued is revoked (committed).
        assert http.introspect(winner["access_token"]) == {"active": False}
        refreshed = http.refresh(winner["refresh_token"])
        assert (refreshed.status_code, error_of(refreshed)) == (400, "invalid_grant")
        assert http.transfer(winner["access_token"], TRANSFER).status_code == 401
        grant_pk, state = rows.grant(jwt_claims(winner["access_token"])["grant_id"])
        assert state == "revoked"
        assert rows.live_under(grant_pk) == (0, 0)


# -- 3. Revoke racing the code exchange and a chain of refreshes: nothing under the grant stays live ---

REVOKE_TRIALS = 8
REFRESHES = 4


def race_revoke_and_refresh(stack: Stack, browser: dict) -> list[int]:
    """Per trial, a user's Revoke fired with the code's exchange and a chain of refreshes after it
    (each trial starts the Revoke a little later); returns, per trial, how many token requests of
    the chain succeeded before one was refused."""
    http, rows = stack.http, stack.rows
    outcomes = []
    for trial in range(REVOKE_TRIALS):
        code = http.code(browser, [TRANSFER])
        grant_pk = rows.grant_of_code(code)
        issued: list[dict] = []

        def token_chain(code=code, issued=issued) -> int:
            """Exchange the code, refresh what it issued, and so on, until refused."""
            response = http.exchange(code)
            while response.status_code == 200:
                issued.append(assert_describes_token(response.json()))
                if len(issued) > REFRESHES:
                    break
                response = http.refresh(issued[-1]["refresh_token"])
            else:
                assert (response.status_code, error_of(response)) == (400, "invalid_grant"), response.text
            return len(issued)

        def revoke(grant_pk=grant_pk, trial=trial):
            time.sleep(0.012 * trial)  # land at a different point of the chain in each trial
            return http.revoke(browser, grant_pk)

        revoked, succeeded = at_once(2, lambda n: revoke() if n == 0 else token_chain())
        assert revoked.status_code == 302, revoked.text[:300]
        outcomes.append(succeeded)
        assert rows.grant_state(grant_pk) == "revoked"
        for tokens in issued:
            assert http.introspect(tokens["access_token"]) == {"active": False}
            again = http.refresh(tokens["refresh_token"])
            assert (again.status_code, error_of(again)) == (400, "invalid_grant")
        if issued:
            assert http.transfer(issued[-1]["access_token"], TRANSFER).status_code == 401
        assert rows.live_under(grant_pk) == (0, 0)
    return outcomes


# -- 4. Narrowing refreshes of one refresh token at once: the response describes the token -------------

NARROWINGS = [[TRANSFER], [OTHER_TRANSFER], [ACCOUNTS], [TRANSFER, OTHER_TRANSFER]]
NARROWING_TRIALS = 3


def race_narrowing_refreshes(stack: Stack, browser: dict) -> None:
    http, rows = stack.http, stack.rows
    for trial in range(NARROWING_TRIALS):
        tokens = http.exchange(http.code(browser, [TRANSFER, OTHER_TRANSFER, ACCOUNTS])).json()
        asked = NARROWINGS[trial:] + NARROWINGS[:trial]  # a different request first in each trial
        responses = at_once(
            len(asked), lambda n, tokens=tokens, asked=asked: http.refresh(tokens["refresh_token"], asked[n])
        )
        winners = [(n, r.json()) for n, r in enumerate(responses) if r.status_code == 200]
        assert len(winners) == 1, [r.text[:200] for r in responses]
        assert {error_of(r) for r in responses if r.status_code != 200} == {"invalid_grant"}
        number, won = winners[0]
        # RFC 9396 §7: the response describes the token issued, which carries what was asked for.
        assert assert_describes_token(won)["authorization_details"] == asked[number]
        # The losers presented a rotated refresh token: a replay (RFC 9700 §4.14.2), so the grant is
        # revoked, the winner's tokens with it.
        grant_pk, state = rows.grant(jwt_claims(won["access_token"])["grant_id"])
        assert state == "revoked"
        assert http.introspect(won["access_token"]) == {"active": False}
        assert http.refresh(won["refresh_token"]).status_code == 400
        assert rows.live_under(grant_pk) == (0, 0)


# -- 5. Different codes of one reusable grant exchanged at once: all succeed, each its own details -----

READ_ONLY = [
    [{"type": "account_information", "actions": ["list_accounts"]}],
    [{"type": "account_information", "actions": ["read_balances"]}],
    [{"type": "account_information", "actions": ["read_transactions"]}],
    [{"type": "account_information", "actions": ["list_accounts", "read_balances"]}],
]


def race_codes_of_one_grant(stack: Stack, browser: dict) -> None:
    """One approval of a reusable grant, then narrower requests it answers without asking (RFC 9396
    §6.1): their codes, exchanged at once, all succeed (no replay seen where there is none), each
    token carrying what its own request asked for, all under the one grant."""
    http, rows = stack.http, stack.rows
    with standard_consent_policy(stack, browser):
        before = rows.last_grant()
        requests = [[ACCOUNTS], *READ_ONLY]
        codes = [http.code(browser, requests[0])]
        for details in requests[1:]:  # answered by the stored grant: no consent page
            codes.append(redirect_query(http.authorize(browser, http.query(details)))["code"])
        assert rows.grant_states(after=before) == ["code_issued"]
        responses = at_once(len(codes), lambda n: http.exchange(codes[n]))
        assert [r.status_code for r in responses] == [200] * len(codes), [r.text[:200] for r in responses]
        grant_ids = set()
        for details, response in zip(requests, responses, strict=True):
            answer = response.json()
            assert assert_describes_token(answer)["authorization_details"] == details
            assert http.introspect(answer["access_token"])["active"] is True
            grant_ids.add(jwt_claims(answer["access_token"])["grant_id"])
        assert len(grant_ids) == 1
        assert rows.grant_states(after=before) == ["redeemed"]


# -- 6. Revoke racing new requests that a reusable grant answers, and a refresh under it ------------------

REUSE_TRIALS = 3


def race_revoke_and_reuse(stack: Stack, browser: dict) -> None:
    """A user's Revoke of a reusable grant fired with requests it would answer without asking and a
    refresh under it: a code issued before the Revoke is ended with the grant, a request after it is
    asked afresh (a consent page), and nothing issued under the grant works afterwards."""
    http, rows = stack.http, stack.rows
    with standard_consent_policy(stack, browser):
        for _ in range(REUSE_TRIALS):
            code = http.code(browser, [ACCOUNTS])
            grant_pk = rows.grant_of_code(code)
            first = assert_describes_token(http.exchange(code).json())
            queries = [http.query(details) for details in READ_ONLY]

            def work(n: int, queries=queries, grant_pk=grant_pk, first=first):
                if n == 0:
                    return http.revoke(browser, grant_pk)
                if n == 1:
                    return http.refresh(first["refresh_token"])
                return http.authorize(browser, queries[n - 2])

            revoked, refreshed, *answers = at_once(2 + len(queries), work)
            assert revoked.status_code == 302, revoked.text[:300]
            assert rows.grant_state(grant_pk) == "revoked"
            issued = [first]
            if refreshed.status_code == 200:
                issued.append(assert_describes_token(refreshed.json()))
            else:
                assert (refreshed.status_code, error_of(refreshed)) == (400, "invalid_grant")
            for tokens in issued:
                assert http.introspect(tokens["access_token"]) == {"active": False}
                again = http.refresh(tokens["refresh_token"])
                assert (again.status_code, error_of(again)) == (400, "invalid_grant")
            for answer in answers:
                assert answer.status_code in (200, 302), answer.text[:300]  # asked again, or a code
                if answer.status_code == 302:
                    late = http.exchange(redirect_query(answer)["code"])
                    assert (late.status_code, error_of(late)) == (400, "invalid_grant"), late.text
            assert rows.live_under(grant_pk) == (0, 0)


#: Every race, by name: run on PostgreSQL here and on a SQLite file in test_grant_races_sqlite.py.
RACES: dict[str, Callable[[Stack, dict], object]] = {
    "one-consent-page-with-par": functools.partial(race_one_consent_page, pushed=True),
    "one-consent-page-front-channel": functools.partial(race_one_consent_page, pushed=False),
    "one-code-exchanged-at-once": race_one_code,
    "revoke-racing-refreshes": race_revoke_and_refresh,
    "narrowing-refreshes-at-once": race_narrowing_refreshes,
    "codes-of-one-reusable-grant": race_codes_of_one_grant,
    "revoke-racing-reuse": race_revoke_and_reuse,
}


def run_race(stack: Stack, name: str) -> None:
    """One race as alice, then: no 5xx, no non-JSON token answer, no traceback in the server log."""
    RACES[name](stack, stack.http.login())
    stack.assert_no_trouble()


# -- The PostgreSQL pass ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(django_db_setup, tmp_path_factory):
    """The demo under gunicorn on the test database (pytest-django's, migrated, same data)."""
    from django.db import connection

    server = serving.start_on(
        tmp_path_factory.mktemp("grant-races"),
        serving.postgres_url(connection.settings_dict),
        WEB_CONCURRENCY=str(WORKERS),
    )
    yield server
    serving.stop(server)


@pytest.fixture
def stack(served, load_demo_data) -> Stack:
    return Stack(DemoHTTP(served.url), served, Rows(django_rows), log_from=len(served.log()))


@pytest.mark.parametrize("race", RACES)
def test_race_on_postgresql(stack, race):
    run_race(stack, race)
