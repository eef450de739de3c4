"""The protocol steps benchmarks/load.py sends over HTTP, the same for every server.

Each step takes a :class:`Flow` (what one authorization carries from step to step), sends its
requests with `requests`, fills in what it got, and returns how many HTTP requests it made. A
response that is not the expected one raises :class:`StepError`.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import requests

from .common import (
    CLIENT_ID,
    CLIENT_SECRET,
    INTROSPECTOR,
    PASSWORD,
    REDIRECT_URI,
    USERNAME,
    par_params,
    pkce_pair,
    read_form,
)

TIMEOUT = 30


class StepError(Exception):
    """A step got an answer it should not have (status, missing field, error redirect)."""


@dataclass
class Flow:
    """One authorization, step by step: PKCE pair, request_uri, code, tokens."""

    verifier: str = ""
    challenge: str = ""
    request_uri: str = ""
    code: str = ""
    access_token: str = ""
    refresh_token: str = ""

    @classmethod
    def new(cls) -> Flow:
        verifier, challenge = pkce_pair()
        return cls(verifier=verifier, challenge=challenge)


def _json(response: requests.Response, status: int, what: str) -> dict:
    if response.status_code != status:
        raise StepError(f"{what}: {response.status_code} {response.text[:200]!r}")
    return response.json()


@dataclass
class Client:
    """The client side of one server: back-channel sessions per thread, and a pool of browser
    sessions (cookies: a logged-in user) for the front channel, one thread at a time each."""

    base: str
    pushed: bool = True  # False: stock DOT, the authorization request goes in the query
    login_page: bool = True  # False: node's interaction logs in on the first authorization
    browsers: queue.Queue = field(default_factory=queue.Queue)
    local: threading.local = field(default_factory=threading.local)

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def add_browser(self) -> None:
        """A browser session, logged in as alice through the login page where there is one."""
        browser = requests.Session()
        if self.login_page:
            page = browser.get(self.base + "/accounts/login/", timeout=TIMEOUT)
            form = read_form(page.text)
            if page.status_code != 200 or form is None:
                raise StepError(f"login page: {page.status_code}")
            done = browser.post(
                urljoin(page.url, form.action),
                data=form.submission(username=USERNAME, password=PASSWORD),
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            if done.status_code != 302:
                raise StepError(f"login: {done.status_code} {done.text[:200]!r}")
        self.browsers.put(browser)

    def push(self, flow: Flow) -> int:
        """PAR (RFC 9126 §2): POST the request, keep the request_uri."""
        response = self.session().post(
            self.base + "/oauth/par",
            data=par_params(flow.challenge),
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=TIMEOUT,
        )
        flow.request_uri = _json(response, 201, "push")["request_uri"]
        return 1

    def authorize(self, flow: Flow) -> int:
        """The front channel as a browser drives it: the authorization URL, every redirect on the
        server, the consent form posted with its approving button, up to the redirect to the client
        with the code."""
        if self.pushed:
            query = {"client_id": CLIENT_ID, "request_uri": flow.request_uri}
        else:
            query = {
                "client_id": CLIENT_ID,
                "response_type": "code",
                "redirect_uri": REDIRECT_URI,
                "state": "bench",
                "code_challenge": flow.challenge,
                "code_challenge_method": "S256",
            }
        browser = self.browsers.get()
        try:
            response = browser.get(
                f"{self.base}/oauth/authorize?{urlencode(query)}", allow_redirects=False, timeout=TIMEOUT
            )
            for sent in range(1, 10):
                if response.is_redirect:
                    location = urljoin(response.url, response.headers["Location"])
                    if location.startswith(REDIRECT_URI):
                        answer = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
                        if "code" not in answer:
                            raise StepError(f"authorize: error redirect {answer}")
                        flow.code = answer["code"]
                        return sent
                    response = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
                    continue
                form = read_form(response.text) if response.status_code == 200 else None
                if form is None:
                    raise StepError(f"authorize: {response.status_code} {response.text[:200]!r}")
                response = browser.post(
                    urljoin(response.url, form.action),
                    data=form.submission(),
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
            raise StepError("authorize: more than 10 requests")
        finally:
            self.browsers.put(browser)

    def _token(self, data: dict, what: str) -> dict:
        response = self.session().post(
            self.base + "/oauth/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET), timeout=TIMEOUT
        )
        return _json(response, 200, what)

    def exchange(self, flow: Flow) -> int:
        """RFC 6749 §4.1.3 with the PKCE verifier: the code for tokens."""
        tokens = self._token(
            {
                "grant_type": "authorization_code",
                "code": flow.code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": flow.verifier,
            },
            "code exchange",
        )
        flow.access_token, flow.refresh_token = tokens["access_token"], tokens["refresh_token"]
        return 1

    def refresh(self, flow: Flow) -> int:
        """RFC 6749 §6: a rotated refresh token and a new access token."""
        tokens = self._token({"grant_type": "refresh_token", "refresh_token": flow.refresh_token}, "refresh")
        flow.access_token, flow.refresh_token = tokens["access_token"], tokens.get("refresh_token", "")
        return 1

    def introspect(self, flow: Flow) -> int:
        """RFC 7662 by the API's resource server client: the access token must be active."""
        response = self.session().post(
            self.base + "/oauth/introspect",
            data={"token": flow.access_token},
            auth=INTROSPECTOR,
            timeout=TIMEOUT,
        )
        if not _json(response, 200, "introspection").get("active"):
            raise StepError(f"introspection: not active: {response.text[:200]!r}")
        return 1

    def whole_flow(self, flow: Flow) -> int:
        """push (where the server has PAR), authorize + consent, code exchange."""
        sent = self.push(flow) if self.pushed else 0
        return sent + self.authorize(flow) + self.exchange(flow)
