"""Real server processes for tests: the demo site served by ``manage.py runserver`` (threaded) on a
database the test prepares, bound to a free loopback port chosen at run time.

Each server dies with the test process (``PR_SET_PDEATHSIG`` on Linux) and is stopped by the fixture
that started it; a coreutils ``timeout`` bounds its life in any case.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]
#: The longest a server may live (seconds): a test that hangs cannot leave one behind.
SERVER_LIFETIME = 300


def free_port() -> int:
    """A loopback port the kernel says is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def demo_environment(database_url: str, keys_file: Path) -> dict[str, str]:
    """The environment of a demo-site process on ``database_url`` (DEBUG off, as in production)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DATABASE_URL=database_url,
        DEBUG="False",
        RAR_SIGNING_KEYS_FILE=str(keys_file),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 180) -> None:
    """Run a management command of the demo site; raise with its output if it fails."""
    done = subprocess.run(
        [*MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


class LiveServer:
    """``manage.py runserver`` (one process, a thread per request) on 127.0.0.1 and a free port."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [*MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        if shutil.which("timeout"):
            command = ["timeout", str(SERVER_LIFETIME), *command]
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
            command,
            env=env,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )

    def wait_until_ready(self, deadline: float = 60) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/.well-known/oauth-authorization-server", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer within {deadline} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()


# -- The demo's parties over HTTP: a browser, the demo client, the Payments API's caller ------------

DEMO_REDIRECT_URI = "http://127.0.0.1:8000/demo/callback/"
DEMO_CLIENT = ("demo-client", "demo-secret")
HTTP_TIMEOUT = 30  # seconds, per request


class DemoHTTP:
    """What the demo's parties send to a served demo at ``url``: each method is one HTTP request
    (``requests``, redirects not followed), safe to call from many threads at once.

    A browser is a dict of its cookies (``sessionid``, ``csrftoken``), from :meth:`login`. Every
    answer is kept in :attr:`answers` as (method, path, status, content type, body start), for
    :meth:`trouble`.
    """

    def __init__(self, url: str):
        self.url = url
        self.answers: list[tuple[str, str, int, str, str]] = []
        self._lock = threading.Lock()

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(
            method, f"{self.url}{path}", allow_redirects=False, timeout=HTTP_TIMEOUT, **kwargs
        )
        with self._lock:
            self.answers.append(
                (
                    method,
                    path,
                    response.status_code,
                    response.headers.get("Content-Type", ""),
                    response.text[:300],
                )
            )
        return response

    def trouble(self) -> list[tuple[str, str, int, str, str]]:
        """Answers no endpoint may give: a 5xx anywhere, a token endpoint answer that is not JSON."""
        return [
            answer
            for answer in self.answers
            if answer[2] >= 500
            or (answer[1] == "/oauth/token" and not answer[3].startswith("application/json"))
        ]

    def login(self, username: str = "alice", password: str = "wonderland-42") -> dict[str, str]:
        """Log in through the login form; the browser's cookies."""
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=HTTP_TIMEOUT)
        data = {"username": username, "password": password, "next": "/"}
        data["csrfmiddlewaretoken"] = session.cookies["csrftoken"]
        response = session.post(
            f"{self.url}/accounts/login/", data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        assert response.status_code == 302, response.text[:500]
        return session.cookies.get_dict()

    @staticmethod
    def authorization_request(details: list[dict], **extra: str) -> dict[str, str]:
        """demo-client's authorization request parameters (RFC 6749 §4.1.1, RFC 9396 §2)."""
        return {
            "client_id": DEMO_CLIENT[0],
            "response_type": "code",
            "redirect_uri": DEMO_REDIRECT_URI,
            "state": "race",
            "authorization_details": json.dumps(details),
            **extra,
        }

    def push(self, details: list[dict], **extra: str) -> str:
        """A pushed authorization request (RFC 9126 §2); its ``request_uri``."""
        response = self.send(
            "POST", "/oauth/par", data=self.authorization_request(details, **extra), auth=DEMO_CLIENT
        )
        assert response.status_code == 201, response.text
        return response.json()["request_uri"]

    def query(self, details: list[dict], pushed: bool = True) -> dict[str, str]:
        """The authorization endpoint's query for a new request for ``details``: a ``request_uri``
        (pushed first, RFC 9126 §4), or the parameters themselves."""
        if pushed:
            return {"client_id": DEMO_CLIENT[0], "request_uri": self.push(details)}
        return self.authorization_request(details)

    def authorize(self, browser: dict[str, str], query: dict[str, str]) -> requests.Response:
        """The browser at the authorization endpoint (RFC 6749 §4.1.1)."""
        return self.send("GET", "/oauth/authorize", params=query, cookies=browser)

    def open_consent(self, browser: dict[str, str], query: dict[str, str]) -> str:
        """Open (or reload) the consent page of ``query``; its signed ``transaction``."""
        page = self.authorize(browser, query)
        assert page.status_code == 200, (page.status_code, page.headers.get("Location"), page.text[:500])
        found = re.search(r'name="transaction" value="([^"]+)"', page.text)
        assert found, page.text[:1000]
        return html.unescape(found.group(1))

    def consent_page(self, browser: dict[str, str], details: list[dict], pushed: bool = True) -> str:
        """Open the consent page of a new request for ``details``; its signed ``transaction``."""
        return self.open_consent(browser, self.query(details, pushed))

    def decide(self, browser: dict[str, str], transaction: str, decision: str = "allow") -> requests.Response:
        """POST the consent form: the user's decision."""
        data = {"transaction": transaction, "decision": decision, "csrfmiddlewaretoken": browser["csrftoken"]}
        return self.send("POST", "/oauth/authorize", data=data, cookies=browser)

    def code(self, browser: dict[str, str], details: list[dict], pushed: bool = True) -> str:
        """A new authorization code for ``details``: the consent page, then approve."""
        answer = redirect_query(self.decide(browser, self.consent_page(browser, details, pushed)))
        assert "code" in answer, answer
        return answer["code"]

    def token(self, **data: str) -> requests.Response:
        """POST the token endpoint as demo-client (RFC 6749 §3.2)."""
        return self.send("POST", "/oauth/token", data=data, auth=DEMO_CLIENT)

    def exchange(self, code: str) -> requests.Response:
        return self.token(grant_type="authorization_code", code=code, redirect_uri=DEMO_REDIRECT_URI)

    def refresh(self, refresh_token: str, details: list[dict] | None = None) -> requests.Response:
        """RFC 6749 §6; with ``details``, a narrowing refresh (RFC 9396 §6.3)."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if details is not None:
            data["authorization_details"] = json.dumps(details)
        return self.token(**data)

    def introspect(self, token: str) -> dict:
        """RFC 7662 introspection, by the token's client."""
        response = self.send("POST", "/oauth/introspect", data={"token": token}, auth=DEMO_CLIENT)
        assert response.status_code == 200, response.text
        return response.json()

    def transfer(self, access_token: str, detail: dict) -> requests.Response:
        """Ask the demo's Payments API to execute the money transfer ``detail`` approves."""
        body = {key: value for key, value in detail.items() if key != "type"}
        return self.send(
            "POST", "/api/transfers/", json=body, headers={"Authorization": f"Bearer {access_token}"}
        )

    def revoke(self, browser: dict[str, str], grant_pk: int) -> requests.Response:
        """The user's Revoke on *Your authorizations*."""
        return self.send(
            "POST",
            f"/oauth/authorizations/{grant_pk}/revoke",
            data={"csrfmiddlewaretoken": browser["csrftoken"]},
            cookies=browser,
        )


def redirect_query(response: requests.Response) -> dict[str, str]:
    """The query of a 302 to the demo client's redirect URI, as single values."""
    location = response.headers.get("Location", "")
    assert response.status_code == 302 and location.startswith(DEMO_REDIRECT_URI), (
        response.status_code,
        location,
        response.text[:500],
    )
    return dict(parse_qsl(urlsplit(location).query))


def jwt_claims(token: str) -> dict:
    """The claims of a JWS compact token, unverified (what the server put in it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
