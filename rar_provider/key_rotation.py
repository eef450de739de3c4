"""Rotating the signing keys of a JWK Set file, one node at a time (docs/deploy.md).

A key in ``RAR_PROVIDER["SIGNING_KEYS"]`` is in one of three states:

* **signing** — the newest key not marked published only: every node that has it signs new tokens
  with it;
* **published only** (``"use_for_signing": false``) — in ``/oauth/jwks`` and trusted by the local
  API guard, so tokens signed with it verify everywhere, but it signs nothing yet;
* **published** — an older key: it signed until ``"signed_until"`` (Unix seconds) and stays for the
  tokens it signed, until they have expired.

The rotation that never rejects a valid token, each step rolled out to every node before the next:

1. :func:`add_key` with ``publish_only`` (``rar_generate_key --publish-only``); then wait
   ``JWKS_MAX_AGE`` seconds, so every cached copy of the JWK Set has the key;
2. :func:`promote` it (``rar_signing_keys promote KID``): it signs, the old key stops;
3. :func:`retire` the old key (``rar_signing_keys retire KID``) once the longest token lifetime
   (``JWT_ACCESS_TOKEN_LIFETIME`` + ``JWT_LEEWAY``) has passed since the last node stopped signing
   with it. :func:`retire` refuses earlier, counting from ``signed_until`` (a lower bound: nodes
   get the file later).

The functions take and return the file's entries (a list of dicts), never changing their argument;
:class:`KeyFileError` says what was refused and why.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .keys import SIGNED_UNTIL, USE_FOR_SIGNING, load_signing_key


class KeyFileError(Exception):
    """A key file that cannot be read or changed as asked; the message says why (and what to do)."""


def read_key_file(path: Path) -> list[dict[str, Any]]:
    """The entries of the JWK Set file at ``path``, oldest first; ``[]`` when it does not exist."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise KeyFileError(f"{path} cannot be read ({exc.strerror}); not touching it.") from exc
    except ValueError as exc:
        raise KeyFileError(f"{path} is not a JWK Set (invalid JSON: {exc}); not touching it.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeyFileError(f'{path} is not a JWK Set ({{"keys": [...]}}); not touching it.')
    return data["keys"]


def write_key_file(path: Path, entries: list[dict[str, Any]]) -> None:
    """Replace the file at ``path`` by ``{"keys": entries}`` atomically, mode 0600, synced to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp: a new file (O_EXCL), mode 0600 whatever the umask or a stale temp file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"keys": entries}, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # a node reading the file sees the old keys or the new ones, never half
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _kids(entries: list[dict[str, Any]]) -> list[str]:
    """Each entry's kid (its RFC 7638 thumbprint when it names none); refuses an unreadable entry."""
    try:
        return [load_signing_key(entry, position).kid for position, entry in enumerate(entries)]
    except ImproperlyConfigured as exc:
        raise KeyFileError(f"{exc}; not touching the file.") from exc


def _signs(entry: dict[str, Any]) -> bool:
    return entry.get(USE_FOR_SIGNING, True) is not False


def signer_index(entries: list[dict[str, Any]]) -> int | None:
    """The position of the key that signs (the newest not published only), or None."""
    signing = [position for position, entry in enumerate(entries) if _signs(entry)]
    return signing[-1] if signing else None


def _position(entries: list[dict[str, Any]], kid: str) -> int:
    kids = _kids(entries)
    if kid not in kids:
        raise KeyFileError(f"there is no key {kid!r}; the keys are: {', '.join(kids) or 'none'}.")
    return kids.index(kid)


def _stopped(entry: dict[str, Any], now: int) -> dict[str, Any]:
    return {**entry, SIGNED_UNTIL: now}


def add_key(entries: list[dict[str, Any]], key: dict[str, Any], *, publish_only: bool, now: int) -> list:
    """``entries`` with ``key`` appended: signing (the key that signed stops, ``signed_until`` now),
    or published only, which needs a key that signs already."""
    current = signer_index(entries)
    if publish_only:
        if current is None:
            raise KeyFileError(
                "--publish-only needs a key that signs already; the first key of a file signs."
            )
        return [*entries, {**key, USE_FOR_SIGNING: False}]
    kept = [_stopped(entry, now) if index == current else entry for index, entry in enumerate(entries)]
    return [*kept, {k: v for k, v in key.items() if k != USE_FOR_SIGNING}]


def promote(entries: list[dict[str, Any]], kid: str, *, now: int) -> list[dict[str, Any]]:
    """``entries`` where the key ``kid`` signs: it loses ``use_for_signing: false`` and moves last;
    the key that signed before stops (``signed_until`` now). Unchanged if ``kid`` signs already."""
    position = _position(entries, kid)
    current = signer_index(entries)
    if position == current:
        return list(entries)
    promoted = {k: v for k, v in entries[position].items() if k not in (USE_FOR_SIGNING, SIGNED_UNTIL)}
    rest = [
        _stopped(entry, now) if index == current else entry
        for index, entry in enumerate(entries)
        if index != position
    ]
    return [*rest, promoted]


def retire(
    entries: list[dict[str, Any]], kid: str, *, now: int, longest_lifetime: int, force: bool = False
) -> list[dict[str, Any]]:
    """``entries`` without the key ``kid``, which then verifies nothing anywhere.

    Refused for the key that signs, and — unless ``force`` — while tokens it signed may still be
    live: until ``signed_until + longest_lifetime`` (seconds), or when the file does not say when it
    stopped signing. A published-only key that never signed may go at any time.
    """
    position = _position(entries, kid)
    entry = entries[position]
    if position == signer_index(entries):
        raise KeyFileError(f"{kid} signs new tokens: promote another key first (rar_signing_keys promote).")
    until = entry.get(SIGNED_UNTIL)
    never_signed = not _signs(entry) and until is None
    if not force and not never_signed:
        if until is None:
            raise KeyFileError(
                f"this file does not say when {kid} stopped signing. Retire it only when every node "
                f"stopped signing with it more than {longest_lifetime} s ago; then add --force."
            )
        if now < until + longest_lifetime:
            raise KeyFileError(
                f"tokens {kid} signed until {iso(until)} may be valid until {iso(until + longest_lifetime)} "
                f"(JWT_ACCESS_TOKEN_LIFETIME + JWT_LEEWAY = {longest_lifetime} s), counted from when the "
                f"last node got the file that stopped it signing: retiring it now rejects them. Wait "
                f"{until + longest_lifetime - now} s more, or add --force."
            )
    return [other for index, other in enumerate(entries) if index != position]


def iso(moment: int) -> str:
    """Unix seconds as an ISO 8601 UTC time, e.g. ``2026-11-30T08:00:00Z``."""
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(kid, alg, state) of each entry, oldest first: ``signing``, ``published only`` or
    ``published, signed until <time>`` / ``published`` (an older key whose end is not recorded)."""
    kids = _kids(entries)
    current = signer_index(entries)
    rows = []
    for position, (kid, entry) in enumerate(zip(kids, entries, strict=True)):
        alg = load_signing_key(entry, position).alg
        until = entry.get(SIGNED_UNTIL)
        if position == current:
            state = "signing"
        elif not _signs(entry):
            state = "published only" + (f" (signed until {iso(until)})" if until is not None else "")
        else:
            state = f"published, signed until {iso(until)}" if until is not None else "published"
        rows.append((kid, alg, state))
    return rows
