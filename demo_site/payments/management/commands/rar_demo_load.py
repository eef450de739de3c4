"""Load the demo data (fixtures/*.json) into an empty database only, or start over with ``--reset``.

``make demo`` runs ``rar_demo_load --if-empty``: a second ``make demo`` keeps what an operator changed
in admin. ``make demo-reset`` runs ``rar_demo_load --reset``: the database is emptied (``flush``) and
the fixtures are loaded again.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oauth2_provider.models import get_application_model

from rar_provider.models import ResourceServer

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures"


def existing_data() -> dict[str, int]:
    """Rows of the kinds the demo fixtures create, by plain name; all zero means an empty database."""
    return {
        "user": get_user_model().objects.count(),
        "client": get_application_model().objects.count(),
        "API": ResourceServer.objects.count(),
    }


class Command(BaseCommand):
    help = "Load the demo fixtures into an empty database (--if-empty), or empty it and load them (--reset)."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument(
            "--if-empty", action="store_true", help="Load only if the database has no demo data."
        )
        mode.add_argument(
            "--reset", action="store_true", help="Empty the database first (everything is lost)."
        )

    def handle(self, *args, if_empty=False, reset=False, **options):
        fixtures = sorted(str(path) for path in FIXTURES.glob("*.json"))
        if not fixtures:
            raise CommandError(f"No fixtures in {FIXTURES}.")
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        else:
            found = {name: count for name, count in existing_data().items() if count}
            if found:
                what = ", ".join(f"{n} {name}{'s' if n != 1 else ''}" for name, n in found.items())
                self.stdout.write(
                    f"The database already has data ({what}): the demo data was not loaded again, so what "
                    "you changed in admin is kept. `make demo-reset` starts over from the demo data."
                )
                return
        with transaction.atomic():
            call_command("loaddata", *fixtures, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Loaded the demo data ({len(fixtures)} fixture file(s))."))
