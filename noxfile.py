"""The supported Python × Django matrix (nox: https://nox.thea.codes).

``nox -l`` lists the sessions, ``nox -s "tests(py3.13-django6.0)"`` runs one, ``nox -t newest``
the newest. Each runs the non-browser suite on SQLite (the browser and PostgreSQL passes run in
``make test``'s own venv) with the newest django-oauth-toolkit release that allows that Django.
``make test`` runs the newest combination here; its own venv is the oldest (Python 3.11 + Django
5.2), else it runs the oldest session too.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

#: (Python, Django): Django 5.2 LTS runs on 3.10-3.14, Django 6.0 needs Python >= 3.12.
MATRIX = [
    ("3.11", "5.2"),
    ("3.12", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "5.2"),
    ("3.13", "6.0"),
]
#: ``nox -t oldest`` / ``nox -t newest`` (``make test`` runs the newest).
TAGS = {MATRIX[0]: ["oldest"], MATRIX[-1]: ["newest"]}
nox.options.tags = ["oldest", "newest"]


@nox.session
@nox.parametrize(
    "python,django",
    [nox.param(py, dj, id=f"py{py}-django{dj}", tags=TAGS.get((py, dj), [])) for py, dj in MATRIX],
)
def tests(session: nox.Session, django: str) -> None:
    """The suite on SQLite with Django ``django`` (and the migrations check), without the browser and
    served-from-a-file tests."""
    session.install("-e", ".[test]", f"Django=={django}.*")
    session.run("python", "-m", "django", "--version")
    session.run("python", "manage.py", "makemigrations", "--check", "--dry-run", "--settings=tests.settings")
    session.run(
        "pytest",
        "-q",
        "-m",
        # The browser tests and the ones serving the demo from a SQLite file (gunicorn, runserver
        # processes) run once, in make test's main pass: here the app's behaviour on this Django.
        "not browser and not sqlite_file",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"TEST_DATABASE_URL": "sqlite://:memory:"},
    )
    # The host project built from docs/install.md, on PostgreSQL too with this Django (skipped with a
    # message when no server answers; a failure under REQUIRE_POSTGRES=1).
    session.run(
        "python", "scripts/postgres_pass.py", "tests/test_host_project.py", "-q", "-p", "no:cacheprovider"
    )
