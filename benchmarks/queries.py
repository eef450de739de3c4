"""SQL queries and in-process time per step of a flow, against issue 10's query budgets.

    .venv/bin/python -m benchmarks.queries [-n N] [--check] [--show-sql STEP]

Runs in-process (Django test client, benchmarks.settings: the demo's settings with DEBUG off and
in-memory SQLite, or BENCH_DATABASE_URL) with the demo fixtures. Each step runs N times; per step it
prints the SQL statements per request (min-max over the N requests; transaction control such as
BEGIN and SAVEPOINT included, and shown apart for one request), the median wall time per request and,
where issue 10 sets one, the budget and whether it is met. Figures, not a test: the exit status is 0,
unless ``--check`` is given and a budget is not met (then 1). ``--show-sql push`` prints the SQL of
one request of that step.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

#: Issue 10, point 7: SQL queries per request.
BUDGETS = {"push": 3, "code exchange": 12, "refresh": 8}
STEPS = ("push", "authorize GET", "consent POST", "code exchange", "refresh", "introspection")
FORM = "application/x-www-form-urlencoded"
#: Transaction control statements (BEGIN, COMMIT, SAVEPOINT …): shown apart, and not counted in the
#: budget, which is about the data a step reads and writes (on PostgreSQL each is still a round trip).
CONTROL = {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@dataclass
class StepFigures:
    """One step's figures: queries of each request, seconds of each request, one request's SQL."""

    name: str
    queries: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    control: int = 0  # of one request's statements: BEGIN, COMMIT, SAVEPOINT, RELEASE, ROLLBACK

    @property
    def budget(self) -> int | None:
        return BUDGETS.get(self.name)

    @property
    def data_queries(self) -> list[int]:
        return [count - self.control for count in self.queries]

    @property
    def met(self) -> bool:
        return self.budget is None or max(self.data_queries) <= self.budget

    def line(self) -> str:
        low, high = min(self.data_queries), max(self.data_queries)
        spread = f"{low}" if low == high else f"{low}-{high}"
        ms = 1000 * statistics.median(self.seconds)
        verdict = "" if self.budget is None else f"<= {self.budget:<3d} {'met' if self.met else 'NOT MET'}"
        return f"| {self.name:<15} | {spread:>7} | {self.control:>11} | {ms:9.2f} | {verdict:<17} |"


@contextlib.contextmanager
def demo_database():
    """Django set up with benchmarks.settings, a fresh test database with the demo data; dropped after."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        call_command("loaddata", *sorted(str(p) for p in (ROOT / "fixtures").glob("*.json")), verbosity=0)
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run_flows(n: int, measured) -> None:
    """N flows through the Django test client, each step's request made inside
    ``measured(step name, call)``, which must call ``call()`` and return its response."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from .common import CLIENT_ID, CLIENT_SECRET, INTROSPECTOR, REDIRECT_URI, par_params, pkce_pair, read_form

    browser = Client()
    browser.force_login(get_user_model().objects.get(username="alice"))
    client_auth, api_auth = basic(CLIENT_ID, CLIENT_SECRET), basic(*INTROSPECTOR)

    def post(path, data, auth):
        return browser.post(path, urlencode(data), content_type=FORM, **auth)

    def expect(response, status, name):
        if response.status_code != status:
            raise SystemExit(f"{name}: {response.status_code} {response.content[-1500:]!r}")
        return response

    for _ in range(n):
        verifier, challenge = pkce_pair()
        pushed = measured("push", lambda: post("/oauth/par", par_params(challenge), client_auth))  # noqa: B023
        query = {"client_id": CLIENT_ID, "request_uri": expect(pushed, 201, "push").json()["request_uri"]}
        page = measured("authorize GET", lambda: browser.get("/oauth/authorize", query))  # noqa: B023
        form = read_form(expect(page, 200, "authorize GET").content.decode())
        decided = measured("consent POST", lambda: browser.post("/oauth/authorize", form.submission()))  # noqa: B023
        location = expect(decided, 302, "consent POST")["Location"]
        exchange = {
            "grant_type": "authorization_code",
            "code": parse_qs(urlparse(location).query)["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        tokens = measured("code exchange", lambda: post("/oauth/token", exchange, client_auth))  # noqa: B023
        refresh_token = expect(tokens, 200, "code exchange").json()["refresh_token"]
        refresh = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        tokens = measured("refresh", lambda: post("/oauth/token", refresh, client_auth))  # noqa: B023
        token = {"token": expect(tokens, 200, "refresh").json()["access_token"]}
        answer = measured("introspection", lambda: post("/oauth/introspect", token, api_auth))  # noqa: B023
        if not expect(answer, 200, "introspection").json().get("active"):
            raise SystemExit(f"introspection: not active: {answer.content[:300]!r}")


def run(n: int) -> dict[str, StepFigures]:
    """N flows on a fresh database with the demo data; the queries and time of every request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    figures = {name: StepFigures(name) for name in STEPS}

    def measured(name, call):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call()
            figures[name].seconds.append(time.perf_counter() - started)
        figures[name].queries.append(len(captured))
        if not figures[name].sql:
            figures[name].sql = [q["sql"] for q in captured.captured_queries]
            figures[name].control = sum(sql.split(" ", 1)[0].upper() in CONTROL for sql in figures[name].sql)
        return response

    run_flows(n, measured)
    return figures


def report(figures: dict[str, StepFigures], n: int) -> str:
    """The figures as a Markdown table."""
    from django.db import connection

    lines = [
        f"SQL queries per request, in-process ({connection.vendor}, {n} flows, DEBUG off)",
        "",
        "| step            | queries | + tx stmts  | ms median | budget (issue 10) |",
        "|-----------------|--------:|------------:|----------:|-------------------|",
    ]
    return "\n".join(lines + [f.line() for f in figures.values()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="flows to run (default 30)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a query budget is not met")
    parser.add_argument("--show-sql", choices=STEPS, metavar="STEP", help="print one request's SQL of STEP")
    args = parser.parse_args(argv)
    with demo_database():
        figures = run(args.n)
        print(report(figures, args.n))
    if args.show_sql:
        print(f"\nSQL of one '{args.show_sql}' request:")
        for number, sql in enumerate(figures[args.show_sql].sql, 1):
            print(f"{number:3d}. {sql}")
    missed = [f.name for f in figures.values() if not f.met]
    if missed:
        print(f"\nBudgets NOT MET: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
