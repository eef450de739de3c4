"""The app installed in someone else's project, exactly as docs/install.md says (issue 8).

``tests/hostproject/`` is Django's ``startproject`` output plus exactly the guide's ``append``
blocks (:mod:`tests.install_guide`); nothing of ``demo_site`` is imported, and Django REST framework
and django-environ are made unimportable, so a setting or package only the demo has cannot hide a
fault. Each host is built the same way in a temporary folder, with the running Django's own
``startproject``, and driven in subprocesses as its owner would: the guide's commands,
``manage.py shell``, ``runserver`` on a free loopback port, and the guide's curl commands. The
same runs again on a host whose DOT Application model is swapped (the guide's step 9), and on
PostgreSQL when the suite runs there. Under nox this runs on every Python × Django of the matrix.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import django
import pytest

from . import install_guide
from .install_guide import HOST_FILES, HOST_PROJECT, MARKER, Block, blocks

MIGRATIONS = Path(__file__).parent.parent / "rar_provider" / "migrations"
GUIDE_URL = "http://127.0.0.1:8000"
REDIRECT_URI = "https://client.example.com/callback"
CLIENT = ("my-client", "my-client-secret")
ALICE = ("alice", "wonderland-42")
ADMIN_PASSWORD = "host-admin-pw-42"
REQUESTED = [
    {
        "type": "payment_initiation",
        "instructedAmount": {"amount": "25.00", "currency": "EUR"},
        "creditorName": "Hanna Herwitz",
    }
]
#: Packages only the demo needs: the host runs without them.
NOT_INSTALLED = ("rest_framework", "environ")


# -- a host project --------------------------------------------------------------------------------------


@dataclass
class Host:
    """A copy of the host project under a temporary folder, and ways to drive it."""

    path: Path
    env: dict[str, str]
    variant: str | None = None
    base_url: str = ""
    server: subprocess.Popen | None = None

    def manage(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "manage.py", *args], check, env)

    def sh(self, script: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """A guide shell block, run by bash in the project folder (``python`` is this interpreter)."""
        return self._run(["bash", "-euo", "pipefail", "-c", script], check, env)

    def _run(self, argv, check, env) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - the guide's commands and our manage.py
            argv, cwd=self.path, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=180
        )
        if check:
            assert result.returncode == 0, f"{argv[-1][:300]} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def start_server(self) -> None:
        """``runserver`` on a free loopback port; the issuer is that address (``RAR_ISSUER``)."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.env["RAR_ISSUER"] = self.base_url
        self.server = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=self.path,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.server.poll() is None, "runserver exited"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("runserver did not start within 60 s")

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()

    def in_guide(self, code: str) -> str:
        """A guide block aimed at this server instead of the guide's ``http://127.0.0.1:8000``."""
        return code.replace(GUIDE_URL, self.base_url)


def _blocked_packages(folder: Path) -> Path:
    """A folder that shadows the demo-only packages with modules that cannot be imported."""
    for name in NOT_INSTALLED:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(
            f"raise ImportError('{name} is not installed in the host project (tests/test_host_project.py)')\n"
        )
    return folder


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RAR_", "DATABASE", "PYTHON"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(_blocked_packages(tmp / "blocked"))
    env["DJANGO_SUPERUSER_PASSWORD"] = ADMIN_PASSWORD
    return env


def new_host(tmp: Path) -> Host:
    """``startproject`` with the running Django plus the guide's lines (tests/hostproject under 5.2)."""
    return Host(path=install_guide.build_project(tmp / "host"), env=_env(tmp))


def run_block(host: Host, block: Block, words: list[str]) -> None:
    """One guide block of the setup (steps 4-9): a command, shell Python, a file or a line to add."""
    kind = words[0]
    if kind == "sh":
        script = block.code
        if "createsuperuser" in script:
            script = script.rstrip("\n") + " --noinput"  # the password comes from DJANGO_SUPERUSER_PASSWORD
        host.sh(script)
    elif kind == "shell":
        host.manage("shell", "-c", block.code)
    elif kind == "write":
        (host.path / words[1]).write_text(block.code)
    elif kind == "append":
        target = host.path / words[1]
        target.write_text(target.read_text() + "\n" + block.code)
    elif kind == "run_before":
        migration = host.path / words[1]
        text = migration.read_text()
        assert "class Migration(migrations.Migration):\n" in text
        migration.write_text(
            text.replace(
                "class Migration(migrations.Migration):\n",
                "class Migration(migrations.Migration):\n    " + block.code.strip() + "\n",
            )
        )
    else:
        raise AssertionError(f"no way to run a {kind!r} block")


def set_up(host: Host, variant: str | None) -> None:
    """Follow the guide: the variant's blocks first (they go before the first migrate), then the rest."""
    setup = [b for b in blocks() if b.words[0] in ("sh", "shell")]
    if variant:
        for block in blocks():
            if block.words[0] == variant:
                run_block(host, block, block.words[1:])
    for block in setup:
        run_block(host, block, block.words)


def _postgresql_url() -> urllib.parse.SplitResult | None:
    """``TEST_DATABASE_URL`` when the suite runs on PostgreSQL: the host then runs there too."""
    url = urllib.parse.urlsplit(os.environ.get("TEST_DATABASE_URL", ""))
    return url if url.scheme in ("postgres", "postgresql") else None


HOST_VARIANTS = [None, "swapped"] + (["postgresql"] if _postgresql_url() else [])


def _recreate_database(url: urllib.parse.SplitResult, create: bool) -> str:
    """Drop (and create) ``test_<name>_host``: a throwaway beside pytest-django's ``test_<name>``.

    Never the database ``TEST_DATABASE_URL`` names itself, which may hold someone's data.
    """
    import psycopg
    from psycopg import sql

    name = f"test_{url.path.lstrip('/')}_host"
    with psycopg.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres"
    ) as connection:
        connection.autocommit = True
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _use_postgresql(host: Host) -> None:
    """The guide's host with its DATABASES pointed at PostgreSQL (nothing else differs)."""
    url = _postgresql_url()
    name = _recreate_database(url, create=True)
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        "HOST": url.hostname or "",
        "PORT": str(url.port or 5432),
    }
    (host.path / "hostsite" / "settings_postgresql.py").write_text(
        f"from hostsite.settings import *  # noqa\n\nDATABASES = {{'default': {database!r}}}\n"
    )
    host.env["DJANGO_SETTINGS_MODULE"] = "hostsite.settings_postgresql"


@pytest.fixture(scope="module", params=HOST_VARIANTS, ids=lambda v: v or "startproject")
def host(request, tmp_path_factory):
    """A host project set up by the guide (steps 4-7, and 9 for the swapped one), its server running."""
    built = new_host(tmp_path_factory.mktemp(request.param or "host"))
    built.variant = request.param
    if request.param == "postgresql":
        _use_postgresql(built)
    set_up(built, request.param if request.param == "swapped" else None)
    built.start_server()
    yield built
    built.stop_server()
    if request.param == "postgresql":
        _recreate_database(_postgresql_url(), create=False)


# -- a browser, for the steps a person does --------------------------------------------------------------


class _Stay(urllib.request.HTTPRedirectHandler):
    """Follow redirects on the host; stop at one that leaves it (the client's redirect URI)."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not urllib.parse.urljoin(req.full_url, newurl).startswith(self.base_url):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _Stay(base_url)
        )

    def open(self, url: str, form: dict | None = None) -> tuple[int, str, str]:
        """(status, final URL or Location of a redirect out of the host, body)."""
        url = urllib.parse.urljoin(self.base_url, url)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=data, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location") or error.url, error.read().decode()

    def submit(self, page_url: str, html: str, fields: dict) -> tuple[int, str, str]:
        """Post the page's form with its CSRF token and hidden fields, plus ``fields``."""
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        form = {name: unescape(value) for name, value in hidden.items()}
        form.update(fields)
        return self.open(page_url, form)


def log_in(browser: Browser, page_url: str, html: str, username: str, password: str):
    return browser.submit(page_url, html, {"username": username, "password": password})


# -- the guide and the host agree -------------------------------------------------------------------------


@pytest.mark.parametrize("path", HOST_FILES)
def test_host_files_are_startproject_plus_the_guide(path):
    """A change to the guide's settings or URLs without the host (or the reverse) fails here."""
    generated, added = install_guide.split_host_file(path)
    assert added == install_guide.appended(path), f"{path} and docs/install.md disagree"
    committed_with = install_guide.django_version_of((HOST_PROJECT / "hostsite" / "settings.py").read_text())
    if committed_with == "{}.{}".format(*django.VERSION[:2]):
        assert install_guide.normalise(generated) == install_guide.startproject_text(path)
    else:
        # Another Django's startproject differs (6.0 drops DEFAULT_AUTO_FIELD): the hosts the other
        # tests build use that Django's own output; the snapshot stays the LTS's.
        assert committed_with == "5.2"


def test_every_code_block_of_the_guide_is_run():
    """Each fenced block is labelled for a test; every label is a kind the tests know."""
    labelled = blocks()
    assert len(labelled) == install_guide.fence_count()
    known = {"pip", "sh", "shell", "append", "flow", "write", "run_before"}
    for block in labelled:
        words = block.words[1:] if block.words[0] in ("swapped", "production") else block.words
        assert words and words[0] in known, block.label
    flows = [b.words[1] for b in labelled if b.words[0] == "flow"]
    assert flows == ["par", "browser", "token", "introspect", "refresh"]


def test_guide_pip_lines_name_extras_that_exist():
    import tomllib

    extras = tomllib.loads((install_guide.ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    lines = [line for b in blocks() if b.words == ["pip"] for line in b.code.splitlines()]
    assert lines
    for line in lines:
        requirement = re.match(r'pip install "?([a-z-]+)(?:\[([a-z,]+)\])?"?', line)
        assert requirement and requirement[1] == "django-rar-provider", line
        for extra in filter(None, (requirement[2] or "").split(",")):
            assert extra in extras, line


def test_marker_separates_startproject_from_the_guide():
    for path in HOST_FILES:
        assert (HOST_PROJECT / path).read_text().count(MARKER) == 1


def test_no_migration_reads_dot_model_settings_directly():
    """The kind behind example 1: a migration naming ``settings.OAUTH2_PROVIDER_*``.

    ``makemigrations`` writes ``settings.OAUTH2_PROVIDER_<MODEL>`` for swappable DOT models, and a
    host project usually defines none of them. Migrations must use DOT's ``oauth2_settings``.
    """
    offenders = [
        path.name
        for path in MIGRATIONS.glob("0*.py")
        if re.search(r"\bsettings\.OAUTH2_PROVIDER", path.read_text())
    ]
    assert offenders == []


# -- the host works ---------------------------------------------------------------------------------------


def test_migrated_from_zero_and_no_migration_missing(host):
    """Issue 8, example 1: ``migrate`` and ``showmigrations`` crashed on ``settings.OAUTH2_PROVIDER_*``."""
    shown = host.manage("showmigrations", "rar_provider", "oauth2_provider").stdout
    assert "[X] 0001_initial" in shown and "[ ]" not in shown
    host.manage("makemigrations", "--check", "--dry-run")


def test_check_is_clean(host):
    result = host.manage("check", "--fail-level", "WARNING")
    assert "System check identified no issues" in result.stdout


def test_the_demo_packages_are_not_there(host):
    """The host runs without DRF and django-environ (the [drf] and [demo] extras)."""
    for name in NOT_INSTALLED:
        code = f"try:\n    import {name}\nexcept ImportError:\n    print('not installed')"
        assert host.manage("shell", "-c", code).stdout.strip().endswith("not installed"), name


def test_application_model_and_database(host):
    """The swapped host uses its own Application model; the PostgreSQL host really runs there."""
    code = (
        "from django.db import connection\n"
        "from oauth2_provider.models import get_application_model as g\n"
        "print(g()._meta.label, connection.vendor)"
    )
    label, vendor = host.manage("shell", "-c", code).stdout.strip().splitlines()[-1].split()
    assert label == ("oauth.Application" if host.variant == "swapped" else "oauth2_provider.Application")
    assert vendor == ("postgresql" if host.variant == "postgresql" else "sqlite")


def test_metadata_names_the_issuer(host):
    status, _url, body = Browser(host.base_url).open("/.well-known/oauth-authorization-server")
    assert status == 200
    metadata = json.loads(body)
    assert metadata["issuer"] == host.base_url
    assert metadata["pushed_authorization_request_endpoint"] == f"{host.base_url}/oauth/par"


def test_admin_screens(host):
    """Every admin list and add page of the installed apps, and the guide's API and type, open."""
    browser = Browser(host.base_url)
    status, url, html = browser.open("/admin/login/?next=/admin/")
    assert status == 200
    status, url, html = log_in(browser, url, html, "admin", ADMIN_PASSWORD)
    assert status == 200 and url.endswith("/admin/"), (status, url)
    apps = ("rar_provider", "oauth2_provider") + (("oauth",) if host.variant == "swapped" else ())
    pattern = r'href="(/admin/(?:' + "|".join(apps) + r')/[a-z]+/)"'
    lists = sorted(set(re.findall(pattern, html)))
    assert "/admin/rar_provider/resourceserver/" in lists
    assert ("/admin/oauth/application/" in lists) == (host.variant == "swapped")
    for page in lists:
        status, _url, body = browser.open(page)
        assert status == 200, page
        if "add/" in body:
            status, _url, _ = browser.open(page + "add/")
            assert status in (200, 403), page + "add/"
    status, _url, body = browser.open("/admin/rar_provider/resourceserver/1/change/")
    assert status == 200 and "urn:example:payments" in body
    status, _url, body = browser.open("/admin/rar_provider/authorizationdetailtype/1/change/")
    assert status == 200 and "payment_initiation" in body


def test_first_flow_par_login_consent_token_introspection(host):
    """The guide's step 8, run as written: curl for the client, a browser for alice."""
    blocks_by_step = {b.words[1]: b for b in blocks() if b.words[0] == "flow"}
    # PAR (and the PKCE pair), as the client.
    pushed = host.sh(
        host.in_guide(blocks_by_step["par"].code) + '\nprintf "\\nverifier=%s\\n" "$CODE_VERIFIER"'
    )
    answer, verifier_line = pushed.stdout.strip().rsplit("\n", 1)
    request_uri = json.loads(answer)["request_uri"]
    verifier = verifier_line.removeprefix("verifier=")
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:") and len(verifier) >= 43

    # The browser: log in, read the consent page, approve.
    browser = Browser(host.base_url)
    url = host.in_guide(blocks_by_step["browser"].code.strip()).replace(
        "<request_uri>", urllib.parse.quote(request_uri, safe="")
    )
    status, login_url, html = browser.open(url)
    assert status == 200 and "/accounts/login/" in login_url, (status, login_url)
    assert 'name="password"' in html
    status, consent_url, html = log_in(browser, login_url, html, *ALICE)
    assert status == 200 and "/oauth/authorize" in consent_url, (status, consent_url)
    assert "Payment" in html and "Hanna Herwitz" in html and "25.00" in html
    status, location, _ = browser.submit(consent_url, html, {"decision": "allow"})
    assert status == 302 and location.startswith(REDIRECT_URI), (status, location)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert params["state"] == "first-flow" and params["iss"] == host.base_url

    # The code exchange with the verifier, as the client.
    exchanged = host.sh(
        host.in_guide(blocks_by_step["token"].code), env={"CODE": params["code"], "CODE_VERIFIER": verifier}
    )
    token = json.loads(exchanged.stdout)
    assert token["authorization_details"] == REQUESTED, token
    assert token["token_type"] == "Bearer"

    # Introspection, as the API.
    introspected = host.sh(
        host.in_guide(blocks_by_step["introspect"].code), env={"ACCESS_TOKEN": token["access_token"]}
    )
    answer = json.loads(introspected.stdout)
    assert answer["active"] is True
    assert answer["aud"] == "urn:example:payments" or answer["aud"] == ["urn:example:payments"]
    assert answer["iss"] == host.base_url
    assert answer["authorization_details"] == REQUESTED
    assert answer["client_id"] == CLIENT[0]

    # The refresh, as the client: rotated, the previous access token ended, a replay revokes.
    def refresh(refresh_token: str) -> dict:
        run = host.sh(host.in_guide(blocks_by_step["refresh"].code), env={"REFRESH_TOKEN": refresh_token})
        return json.loads(run.stdout)

    def introspect(access_token: str) -> dict:
        run = host.sh(host.in_guide(blocks_by_step["introspect"].code), env={"ACCESS_TOKEN": access_token})
        return json.loads(run.stdout)

    refreshed = refresh(token["refresh_token"])
    assert refreshed["authorization_details"] == REQUESTED, refreshed
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert introspect(token["access_token"]) == {"active": False}
    assert introspect(refreshed["access_token"])["active"] is True
    assert refresh(token["refresh_token"])["error"] == "invalid_grant"  # the rotated one, again
    assert introspect(refreshed["access_token"]) == {"active": False}  # its grant is revoked

    # Alice sees what she approved (revoked by the replay above).
    status, _url, html = browser.open("/oauth/authorizations/")
    assert status == 200 and "Hanna Herwitz" in html


def test_without_pkce_the_code_is_not_issued(host):
    """DOT's default PKCE_REQUIRED=True, kept by the guide: a push without code_challenge is refused."""
    par = blocks_by_kind("flow", "par").code
    without = re.sub(r"\s*-d code_challenge=\S+ -d code_challenge_method=S256 \\\n", "\n", par)
    assert "code_challenge" not in without.split("curl", 1)[1]
    answer = json.loads(host.sh(host.in_guide(without)).stdout)
    assert answer["error"] == "invalid_request"
    assert "challenge" in answer["error_description"].lower()


def test_production_settings_pass_check(host):
    """Step 10's settings, added to the host's: check is clean and the issuer is the public URL."""
    production = host.path / "hostsite" / "settings_production.py"
    production.write_text(
        "from hostsite.settings import *  # noqa\n\n"
        + install_guide.appended("hostsite/settings.py", "production")
    )
    env = {"DJANGO_SETTINGS_MODULE": "hostsite.settings_production"}
    result = host.manage("check", "--fail-level", "WARNING", env=env)
    assert "no issues" in result.stdout
    code = "from rar_provider.conf import rar_settings; print(rar_settings.issuer())"
    assert (
        host.manage("shell", "-c", code, env=env).stdout.strip().splitlines()[-1]
        == "https://auth.example.com"
    )


def blocks_by_kind(*words: str) -> Block:
    (block,) = [b for b in blocks() if b.words == list(words)]
    return block


@pytest.fixture(scope="module")
def bare_host(tmp_path_factory) -> Host:
    """A host built from the guide's settings, nothing run yet (``check`` needs no database)."""
    return new_host(tmp_path_factory.mktemp("bare"))


@pytest.mark.parametrize(
    "change, reported",
    [
        ('RAR_PROVIDER = [("ISSUER", "https://auth.example.com")]', "rar_provider.E005"),
        ('RAR_PROVIDER["ISSUER"] = "auth.example.com"', "rar_provider.E010"),
        ('RAR_PROVIDER["SIGNING_KEYS"] = "not-a-key"', "rar_provider.E006"),
        ('RAR_PROVIDER["PAR_LIFETMIE"] = 30', "rar_provider.W003"),
    ],
)
def test_check_reports_wrong_settings_without_a_traceback(bare_host, change, reported):
    """Issue 8, examples 4 and 5, as the host's owner meets them: ``manage.py check`` names the fault."""
    host = bare_host
    broken = host.path / "hostsite" / "settings_broken.py"
    broken.write_text(f"from hostsite.settings import *  # noqa\n\n{change}\n")
    result = host.manage(
        "check",
        "--fail-level",
        "WARNING",
        check=False,
        env={"DJANGO_SETTINGS_MODULE": "hostsite.settings_broken"},
    )
    assert result.returncode == 1
    assert reported in result.stderr
    assert "Traceback" not in result.stderr


def test_fapi_mode_reports_the_hosts_client_that_breaks_the_profile(host):
    """docs/fapi.md's switch in a host built from the guide: the checks read the host's own client
    model (swapped in one variant) and name the clause the guide's secret-based client breaks."""
    base = host.env.get("DJANGO_SETTINGS_MODULE", "hostsite.settings")
    fapi = host.path / "hostsite" / "settings_fapi.py"
    fapi.write_text(
        f"from {base} import *  # noqa\n\n"
        'RAR_PROVIDER = {**RAR_PROVIDER, "FAPI_2_0": True}\n'
        'OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60}\n'
    )
    env = {"DJANGO_SETTINGS_MODULE": "hostsite.settings_fapi"}
    result = host.manage("check", "--database", "default", check=False, env=env)
    assert result.returncode != 0
    assert "rar_provider.E057" in result.stderr
    assert "'my-client' is not a confidential client using private_key_jwt" in result.stderr
    assert "§5.3.2.1 clause 6" in result.stderr
    assert "rar_provider.E051" not in result.stderr  # the code lifetime set above satisfies clause 11
