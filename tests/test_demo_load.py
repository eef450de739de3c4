"""`make demo` keeps what was changed in admin (issue 8, example 8): the demo data loads into an empty
database only, `--reset` starts over, and a second demo on the same address is refused first."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from rar_provider.models import ResourceServer

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_loads_into_an_empty_database_only_and_keeps_admin_changes():
    call_command("flush", interactive=False, verbosity=0)  # rolled back after the test
    assert "Loaded the demo data" in run("rar_demo_load", "--if-empty")
    assert User.objects.filter(username="alice").exists()
    # An operator renames the API in admin; the next `make demo` must not undo it.
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(name="Payments (renamed in admin)")
    User.objects.create_user("bob", password="bob-password-1")
    second = run("rar_demo_load", "--if-empty")
    assert "already has data (3 users, 4 clients, 1 API)" in second
    assert "make demo-reset" in second
    assert ResourceServer.objects.get(identifier="urn:demo:payments").name == "Payments (renamed in admin)"
    assert User.objects.filter(username="bob").exists()


def test_reset_starts_over_from_the_demo_data():
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(name="Changed")
    User.objects.create_user("bob", password="bob-password-1")
    assert "Loaded the demo data" in run("rar_demo_load", "--reset")
    assert ResourceServer.objects.get(identifier="urn:demo:payments").name == "Payments API"
    assert not User.objects.filter(username="bob").exists()
    assert set(User.objects.values_list("username", flat=True)) == {"alice", "admin"}


def test_one_mode_is_required():
    with pytest.raises(CommandError):
        call_command("rar_demo_load")


def test_a_second_demo_on_a_busy_address_is_refused_clearly():
    with socket.socket() as running:
        running.bind(("127.0.0.1", 0))
        running.listen()
        address = f"127.0.0.1:{running.getsockname()[1]}"
        with pytest.raises(CommandError, match=r"already running at http://127\.0\.0\.1:\d+/"):
            call_command("rar_demo_port", address)
    assert "is free" in run("rar_demo_port", address)  # once it has stopped
