"""Transactions that are retried when the database reports a conflict, never surfaced as a 500.

Every grant transition locks rows in one order (:mod:`rar_provider.grants.lifecycle`), so
deadlocks between our own writers should not happen; the database may still abort a transaction
(PostgreSQL ``deadlock_detected`` 40P01 or ``serialization_failure`` 40001, e.g. against a
project's own code or DOT's; SQLite ``database is locked`` after its busy timeout). Such a
transaction is rolled back whole and run again, a few times; if it still fails,
:class:`TransactionConflict` is raised, which the endpoints answer with ``503`` and the OAuth
error ``temporarily_unavailable`` (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, transaction

T = TypeVar("T")
#: SQLSTATEs of a transaction the database aborted because of another one.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
ATTEMPTS = 4


class TransactionConflict(Exception):
    """The database kept aborting the transaction (deadlock, serialization failure, lock timeout)."""


def is_conflict(error: OperationalError) -> bool:
    """Was ``error`` a deadlock, a serialization failure or SQLite's lock timeout?"""
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in CONFLICT_SQLSTATES:
        return True
    text = str(error).lower()
    return "database is locked" in text or "deadlock" in text


def atomic_with_retry(work: Callable[[], T], *, using: str | None = None, attempts: int = ATTEMPTS) -> T:
    """Run ``work()`` in one transaction; on a conflict roll back and run it again.

    Inside an enclosing transaction there is nothing to retry (the outer one is aborted): the
    conflict becomes :class:`TransactionConflict` at once. Raises :class:`TransactionConflict`
    after ``attempts`` conflicts; other errors propagate unchanged.
    """
    nested = transaction.get_connection(using).in_atomic_block
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return work()
        except OperationalError as error:
            if not is_conflict(error):
                raise
            if nested or attempt == attempts:
                raise TransactionConflict(str(error)) from error
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")  # pragma: no cover
