"""Throughput and SQL queries of the PAR endpoint, the authorization endpoint and the code exchange.

    .venv/bin/python benchmarks/par_flow.py [N]

Runs in-process (Django test client, in-memory SQLite, demo fixtures) and prints,
per step, requests per second and SQL queries per request. Figures, not a test.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from tests.conftest import (  # noqa: E402
    AUTHORIZE_URL,
    MONEY_TRANSFER,
    authorize_query,
    exchange,
    push,
    redirect_params,
)


def measure(label: str, n: int, step) -> list:
    connection.queries_log.clear()  # a full log (maxlen) would hide new queries
    with CaptureQueriesContext(connection) as queries:
        results = [step(0)]  # the first request, for its SQL query count
    started = time.perf_counter()
    results += [step(i) for i in range(1, n)]
    elapsed = time.perf_counter() - started
    rate = (n - 1) / elapsed
    print(f"{label:<28} {rate:8.0f} req/s   {1000 / rate:6.2f} ms/req   {len(queries):3d} SQL queries/req")
    return results


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    call_command("loaddata", str(ROOT / "fixtures" / "demo.json"), verbosity=0)
    browser = Client()
    browser.force_login(User.objects.get(username="alice"))

    uris = measure("PAR push", n, lambda i: push(browser, [MONEY_TRANSFER]).json()["request_uri"])
    pages = measure(
        "authorize GET (consent page)",
        n,
        lambda i: browser.get(AUTHORIZE_URL, authorize_query(uris[i])).context["transaction"],
    )
    codes = measure(
        "consent POST (code issued)",
        n,
        lambda i: redirect_params(
            browser.post(AUTHORIZE_URL, {"transaction": pages[i], "decision": "allow"})
        )["code"],
    )
    measure("token (code exchange)", n, lambda i: exchange(browser, codes[i]).status_code)


if __name__ == "__main__":
    main()
