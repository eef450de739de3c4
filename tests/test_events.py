"""Structured protocol-event logs (rar_provider.events): which events a flow writes, their fields,
that no record of any logger carries a secret, code, token or request_uri, and that emitting adds
no SQL query (issue 11, point 7)."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rar_provider.events import LOGGER_NAME, JSONFormatter

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    authorize_query,
    consent_transaction,
    exchange,
    pkce_pair,
    post_form,
    push,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


#: oauthlib's DEBUG records carry codes and tokens; the settings keep it at INFO (see the test below).
AT_CONFIGURED_LEVEL = ("oauthlib",)


@contextmanager
def every_log_record():
    """Every record of every logger, at every level (DEBUG included; oauthlib at its configured level),
    while the block runs."""
    recorder = Recorder()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        if not logger.name.startswith(AT_CONFIGURED_LEVEL):
            logger.setLevel(logging.DEBUG)
        logger.disabled = False
        logger.addHandler(recorder)
    try:
        yield recorder.records
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.removeHandler(recorder)


def events(records) -> list[tuple[str, dict]]:
    return [(r.rar_event, r.rar_fields) for r in records if r.name == LOGGER_NAME]


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a handler or formatter could write out of a record."""
    texts = [record.getMessage(), repr(record.args), JSONFormatter().format(record)]
    texts += [repr(value) for value in vars(record).values()]
    return texts


def test_a_whole_flow_logs_its_events_and_no_secret(client, alice):
    verifier, challenge = pkce_pair()
    client.force_login(alice)
    with every_log_record() as records:
        pushed = push(client, [MONEY_TRANSFER], code_challenge=challenge, code_challenge_method="S256")
        request_uri = pushed.json()["request_uri"]
        code = redirect_params(approve(client, request_uri))["code"]
        tokens = exchange(client, code, code_verifier=verifier).json()
        refreshed = post_form(
            client,
            TOKEN_URL,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            **CONFIDENTIAL,
        ).json()
        revoked = post_form(client, "/oauth/revoke", {"token": refreshed["access_token"]}, **CONFIDENTIAL)
        assert revoked.status_code == 200
        replay = exchange(client, code, code_verifier=verifier)
        assert replay.status_code == 400
        # A second request, denied.
        denied = redirect_params(approve(client, pushed_request_uri(client), decision="deny"))
        assert denied["error"] == "access_denied"

    names = [name for name, _ in events(records)]
    assert names == [
        "pushed",
        "consent_shown",
        "consent_approved",
        "code_redeemed",
        "token_refreshed",
        "token_revoked",
        "code_replayed",
        "pushed",
        "consent_shown",
        "consent_denied",
    ]
    fields = dict(events(records)[:7])
    assert fields["pushed"] == {
        "client_id": "demo-client",
        "par_id": fields["pushed"]["par_id"],
        "resource_server": "urn:demo:payments",
        "types": ["money_transfer"],
        "expires_in": 60,
    }
    assert fields["consent_approved"] == {
        "client_id": "demo-client",
        "user": alice.pk,
        "resource_server": "urn:demo:payments",
        "types": ["money_transfer"],
    }
    assert (
        fields["code_redeemed"]["client_id"] == "demo-client" and fields["code_redeemed"]["user"] == alice.pk
    )
    assert fields["token_revoked"] == {"client_id": "demo-client"}
    assert set(fields["code_replayed"]) == {"application_id", "token_family"}

    secrets = {
        "client secret": "demo-secret",
        "request_uri": request_uri,
        "request_uri reference": request_uri.rsplit(":", 1)[1],
        "authorization code": code,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "refreshed access token": refreshed["access_token"],
        "refreshed refresh token": refreshed["refresh_token"],
        "PKCE verifier": verifier,
    }
    assert len(records) > len(names)  # other loggers (django, oauthlib, DOT …) were recorded too
    leaks = {
        (record.name, record.levelname, what)
        for record in records
        for text in record_texts(record)
        for what, value in secrets.items()
        if value in text
    }
    assert not leaks


def test_oauthlib_debug_records_are_kept_out_by_the_settings():
    """oauthlib logs "Created authorization code grant {'code': …}" and the tokens of a refresh at
    DEBUG: the settings (LOGGING) keep the oauthlib logger at INFO (docs/deploy.md says why)."""
    assert logging.getLogger("oauthlib").getEffectiveLevel() >= logging.INFO
    assert (
        logging.getLogger("oauthlib.oauth2.rfc6749.grant_types.authorization_code").getEffectiveLevel()
        >= logging.INFO
    )


def test_step_up_required_is_an_event(alice_client, settings):
    settings.RAR_PROVIDER = {
        **settings.RAR_PROVIDER,
        "CONSENT_HOOKS": ["demo_site.hooks.large_transfers_need_password"],
    }
    with every_log_record() as records:
        response = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client)))
    assert response.status_code == 302 and response["Location"].startswith("/demo/step-up/")
    assert [name for name, _ in events(records)] == ["pushed", "step_up_required"]
    assert events(records)[1][1]["types"] == ["money_transfer"]


def test_the_json_formatter_writes_one_object_per_event():
    record = logging.LogRecord(LOGGER_NAME, logging.INFO, __file__, 1, "pushed %s", ("x",), None)
    record.rar_event, record.rar_fields = "pushed", {"client_id": "c", "types": ["a"]}
    import json

    assert json.loads(JSONFormatter().format(record)) | {"time": "t"} == {
        "time": "t",
        "level": "INFO",
        "logger": LOGGER_NAME,
        "event": "pushed",
        "client_id": "c",
        "types": ["a"],
    }


def queries_of(action) -> int:
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def test_emitting_events_adds_no_sql_query(client, alice):
    """The same push, consent and exchange with the events logger on (INFO) and off: same queries."""
    client.force_login(alice)
    logger = logging.getLogger(LOGGER_NAME)
    saved = logger.level

    def flow_queries() -> list[int]:
        verifier, challenge = pkce_pair()
        counts = []
        holder = {}
        counts.append(
            queries_of(
                lambda: holder.update(
                    uri=push(
                        client, [MONEY_TRANSFER], code_challenge=challenge, code_challenge_method="S256"
                    ).json()["request_uri"]
                )
            )
        )
        page = client.get(AUTHORIZE_URL, authorize_query(holder["uri"]))
        transaction = consent_transaction(page)
        counts.append(
            queries_of(
                lambda: holder.update(
                    code=redirect_params(
                        client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "allow"})
                    )["code"]
                )
            )
        )
        counts.append(queries_of(lambda: exchange(client, holder["code"], code_verifier=verifier)))
        return counts

    try:
        logger.setLevel(logging.CRITICAL)
        flow_queries()  # warm caches (content types, DOT settings) so both measured runs start alike
        silent = flow_queries()
        logger.setLevel(logging.INFO)
        with every_log_record() as records:
            logged = flow_queries()
    finally:
        logger.setLevel(saved)
    assert [name for name, _ in events(records)] == [
        "pushed",
        "consent_shown",
        "consent_approved",
        "code_redeemed",
    ]
    assert logged == silent


def test_consent_revoked_client_credentials_and_rate_limited_are_events(alice_client, alice, settings):
    import json

    from rar_provider.models import AuthorizationGrant

    from .conftest import basic

    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    consent = AuthorizationGrant.objects.get()
    detail = {
        "type": "account_information",
        "actions": ["read_balances"],
        "locations": ["https://example.com/accounts"],
    }
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "RATE_LIMITS": {"par": "1/1h"}}
    with every_log_record() as records:
        alice_client.post(f"/oauth/authorizations/{consent.pk}/revoke")
        issued = post_form(
            alice_client,
            TOKEN_URL,
            {"grant_type": "client_credentials", "authorization_details": json.dumps([detail])},
            **basic("demo-service", "demo-service-secret"),
        )
        assert issued.status_code == 200, issued.content
        push(alice_client)
        assert push(alice_client).status_code == 429
    logged = events(records)
    assert [name for name, _ in logged] == ["consent_revoked", "token_issued", "pushed", "rate_limited"]
    assert logged[0][1] == {
        "grant": consent.pk,
        "user": alice.pk,
        "application_id": consent.application_id,
    }
    assert logged[1][1]["grant_type"] == "client_credentials" and logged[1][1]["client_id"] == "demo-service"
    assert "user" not in logged[1][1]
    assert logged[3][1]["endpoint"] == "par" and logged[3][1]["client_id"] == "demo-client"
    assert logged[3][1]["retry_after"] >= 1
