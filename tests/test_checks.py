"""System checks (rar_provider.checks) and the live settings object (rar_provider.conf)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

from rar_provider.checks import check_dot_integration, check_settings, check_tokens
from rar_provider.conf import DEFAULTS, rar_settings
from rar_provider.details.limits import Limits
from rar_provider.oauth.server import RAROIDCServer, RARServer
from rar_provider.oauth.validator import RARValidator


class MyValidator(RARValidator):
    """A host project's own validator, built on ours: allowed."""


@pytest.fixture(autouse=True)
def fresh_dot_settings():
    """DOT caches its settings; start and end every test from the real ones."""
    oauth2_settings.reload()
    yield
    oauth2_settings.reload()


def ours(messages) -> list[str]:
    return [m.id for m in messages if m.id and m.id.startswith("rar_provider.")]


def dot(**changes):
    return override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER, **changes})


def rar(**changes):
    return override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, **changes})


def dot_without(*keys):
    return override_settings(
        OAUTH2_PROVIDER={k: v for k, v in settings.OAUTH2_PROVIDER.items() if k not in keys}
    )


# -- the default settings --------------------------------------------------------------------------------


def test_default_settings_are_clean():
    assert ours(checks.run_checks()) == []
    assert check_dot_integration() == []
    assert check_settings() == []


def test_checks_are_registered():
    registered = checks.registry.registry.get_checks()
    assert check_dot_integration in registered
    assert check_settings in registered
    assert checks.Tags.security in check_dot_integration.tags


# -- E001 / E002 / E003: DOT integration -----------------------------------------------------------------


def test_e001_plain_oauthlib_server():
    with dot(OAUTH2_SERVER_CLASS="oauthlib.oauth2.Server"):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.E001"]
    (error,) = [m for m in messages if m.id == "rar_provider.E001"]
    assert error.level == checks.ERROR
    assert "RARServer" in error.hint


def test_e001_dot_default_server_when_unset():
    """Without OAUTH2_SERVER_CLASS DOT falls back to oauthlib's Server: not ours."""
    with dot_without("OAUTH2_SERVER_CLASS"):
        assert ours(checks.run_checks()) == ["rar_provider.E001"]


def test_e001_and_e003_effective_server_is_the_oidc_one():
    """With OIDC on and no OAUTH2_SERVER_CLASS, DOT uses OIDC_SERVER_CLASS for OAuth too."""
    with override_settings(
        OAUTH2_PROVIDER={
            **{k: v for k, v in settings.OAUTH2_PROVIDER.items() if k != "OAUTH2_SERVER_CLASS"},
            "OIDC_ENABLED": True,
            "OIDC_SERVER_CLASS": "oauthlib.openid.Server",
        }
    ):
        assert sorted(ours(checks.run_checks())) == ["rar_provider.E001", "rar_provider.E003"]


def test_e001_not_raised_for_our_oidc_server_as_effective_server():
    with override_settings(
        OAUTH2_PROVIDER={
            **{k: v for k, v in settings.OAUTH2_PROVIDER.items() if k != "OAUTH2_SERVER_CLASS"},
            "OIDC_ENABLED": True,
        }
    ):
        assert oauth2_settings.OAUTH2_SERVER_CLASS is RAROIDCServer
        assert ours(checks.run_checks()) == []


def test_e001_accepts_a_class_object():
    with dot(OAUTH2_SERVER_CLASS=RARServer):
        assert ours(checks.run_checks()) == []


def test_e002_dot_validator():
    with dot(OAUTH2_VALIDATOR_CLASS="oauth2_provider.oauth2_validators.OAuth2Validator"):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.E002"]
    (error,) = [m for m in messages if m.id == "rar_provider.E002"]
    assert error.level == checks.ERROR
    assert "RARValidator" in error.hint


def test_e002_dot_validator_as_class():
    with dot(OAUTH2_VALIDATOR_CLASS=OAuth2Validator):
        assert ours(check_dot_integration()) == ["rar_provider.E002"]


def test_e002_subclass_of_ours_is_fine():
    with dot(OAUTH2_VALIDATOR_CLASS="tests.test_checks.MyValidator"):
        assert oauth2_settings.OAUTH2_VALIDATOR_CLASS is MyValidator
        assert ours(checks.run_checks()) == []


def test_e003_oidc_with_plain_oidc_server():
    with dot(OIDC_ENABLED=True, OIDC_SERVER_CLASS="oauthlib.openid.Server"):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.E003"]
    (error,) = [m for m in messages if m.id == "rar_provider.E003"]
    assert "RAROIDCServer" in error.hint


def test_e003_not_raised_when_oidc_is_off():
    with dot(OIDC_ENABLED=False, OIDC_SERVER_CLASS="oauthlib.openid.Server"):
        assert ours(checks.run_checks()) == []


def test_e003_not_raised_for_our_oidc_server():
    with dot(OIDC_ENABLED=True):
        assert ours(checks.run_checks()) == []


def test_e001_e002_e003_together():
    with dot(
        OAUTH2_SERVER_CLASS="oauthlib.oauth2.Server",
        OAUTH2_VALIDATOR_CLASS="oauth2_provider.oauth2_validators.OAuth2Validator",
        OIDC_ENABLED=True,
        OIDC_SERVER_CLASS="oauthlib.openid.Server",
    ):
        assert ours(checks.run_checks()) == ["rar_provider.E001", "rar_provider.E002", "rar_provider.E003"]


def test_dot_settings_do_not_leak_out_of_override_settings():
    """DOT reloads its settings on setting_changed, so a check sees the override and then the real ones."""
    assert oauth2_settings.OAUTH2_SERVER_CLASS is RARServer
    with dot(OAUTH2_SERVER_CLASS="oauthlib.oauth2.Server"):
        assert oauth2_settings.OAUTH2_SERVER_CLASS is not RARServer
    assert oauth2_settings.OAUTH2_SERVER_CLASS is RARServer
    assert oauth2_settings.OIDC_ENABLED is False
    assert ours(checks.run_checks()) == []


# -- W003: unknown keys (was E004) ---------------------------------------------------------------------


def test_w003_unknown_key_is_named_with_the_closest_known_key():
    with rar(PAR_LIFETMIE=60):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.W003"]
    (warning,) = [m for m in messages if m.id == "rar_provider.W003"]
    assert warning.level == checks.WARNING
    assert "'PAR_LIFETMIE'" in warning.msg
    assert "Did you mean 'PAR_LIFETIME'?" in warning.msg


def test_w003_one_warning_per_unknown_key():
    with rar(PAR_LIFETMIE=60, issuer="x", FROBNICATE=1):
        messages = [m for m in check_settings() if m.id == "rar_provider.W003"]
    assert len(messages) == 3
    text = " ".join(m.msg for m in messages)
    assert "'PAR_LIFETMIE'" in text and "'issuer'" in text and "'FROBNICATE'" in text
    assert "Did you mean 'ISSUER'?" in text
    (frobnicate,) = [m for m in messages if "FROBNICATE" in m.msg]
    assert "Did you mean" not in frobnicate.msg


def test_w003_every_documented_key_is_known():
    with override_settings(RAR_PROVIDER={**DEFAULTS, "ISSUER": "http://127.0.0.1:8000"}):
        assert ours(check_settings()) == []


# -- E005: wrong types and ranges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("PAR_LIFETIME", 600),
        ("PAR_LIFETIME", 3600),
        ("PAR_LIFETIME", "60"),
        ("PAR_LIFETIME", 0),
        ("PAR_LIFETIME", -5),
        ("PAR_LIFETIME", 60.0),
        ("PAR_LIFETIME", True),
        ("PAR_REQUIRED", "yes"),
        ("PAR_REQUIRED", 1),
        ("PAR_ENABLED", None),
        ("PKCE_S256_ONLY", "False"),
        ("EXACT_REDIRECT_URI", 0),
        ("MAX_DETAILS_ENTRIES", 0),
        ("MAX_DETAILS_BYTES", "5120"),
        ("MAX_NESTING_DEPTH", -1),
        ("CONSENT_MAX_AGE", 0),
        ("PROPERTY_NAME_PATTERN", "("),
        ("PROPERTY_NAME_PATTERN", None),
    ],
)
def test_e005_bad_value(key, value):
    with rar(**{key: value}):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.E005"]
    (error,) = [m for m in messages if m.id == "rar_provider.E005"]
    assert error.level == checks.ERROR
    assert key in error.msg


def test_e005_par_lifetime_599_is_fine():
    with rar(PAR_LIFETIME=599):
        assert ours(checks.run_checks()) == []


def test_e005_par_lifetime_600_says_why():
    with rar(PAR_LIFETIME=600):
        (error,) = check_settings()
    assert "600" in error.msg
    assert "RFC 9126" in error.msg


def test_e005_bad_pattern_says_why():
    with rar(PROPERTY_NAME_PATTERN="("):
        (error,) = check_settings()
    assert error.id == "rar_provider.E005"
    assert "not a regular expression" in error.msg


def test_e005_several_bad_values_each_reported():
    with rar(PAR_LIFETIME="60", PAR_REQUIRED="yes", MAX_DETAILS_ENTRIES=0):
        messages = check_settings()
    assert [m.id for m in messages] == ["rar_provider.E005"] * 3
    text = " ".join(m.msg for m in messages)
    for key in ("PAR_LIFETIME", "PAR_REQUIRED", "MAX_DETAILS_ENTRIES"):
        assert key in text


def test_e005_setting_not_a_dict():
    with override_settings(RAR_PROVIDER=[("ISSUER", "https://as.example.com")]):
        messages = check_settings()
    assert [m.id for m in messages] == ["rar_provider.E005"]
    assert "must be a dict" in messages[0].msg


# -- W001: no issuer -------------------------------------------------------------------------------------


def test_w001_issuer_missing():
    without = {k: v for k, v in settings.RAR_PROVIDER.items() if k != "ISSUER"}
    with override_settings(RAR_PROVIDER=without):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.W001"]
    (warning,) = [m for m in messages if m.id == "rar_provider.W001"]
    assert warning.level == checks.WARNING
    assert not warning.is_serious()


@pytest.mark.parametrize("value", [None, ""])
def test_w001_issuer_empty(value):
    with rar(ISSUER=value):
        assert ours(checks.run_checks()) == ["rar_provider.W001"]


def test_w001_no_rar_provider_setting_at_all():
    with override_settings():
        del settings.RAR_PROVIDER
        assert ours(checks.run_checks()) == ["rar_provider.W001"]


# -- E006 / E007 / E008 / W002: tokens ------------------------------------------------------------------


def test_token_checks_registered_and_clean():
    assert check_tokens in checks.registry.registry.get_checks()
    assert check_tokens() == []


def test_w002_signing_key_file_not_created_yet(tmp_path):
    missing = tmp_path / "keys.json"
    with rar(SIGNING_KEYS=str(missing)):
        messages = check_tokens()
    assert [m.id for m in messages] == ["rar_provider.W002"]
    assert f"rar_generate_key --jwks-file {missing}" in messages[0].hint


@pytest.mark.parametrize(
    "value, mentions",
    [
        ([{"kty": "oct", "k": "c2VjcmV0"}], "symmetric"),
        (["-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"], "not a readable key"),
        (42, "must be a list"),
    ],
)
def test_e006_unreadable_signing_keys(value, mentions):
    with rar(SIGNING_KEYS=value):
        messages = check_tokens()
    assert [m.id for m in messages] == ["rar_provider.E006"]
    assert mentions in messages[0].msg


def test_e006_signing_key_file_not_a_jwk_set(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"not": "a set"}')
    with rar(SIGNING_KEYS=str(path)):
        assert [m.id for m in check_tokens()] == ["rar_provider.E006"]


@pytest.mark.parametrize("value", [{"money_transfer": "no.such.module.compare"}, {"money_transfer": 42}])
def test_e007_comparator_not_a_callable(value):
    with rar(DETAIL_COMPARATORS=value):
        messages = check_tokens()
    assert [m.id for m in messages] == ["rar_provider.E007"]
    assert "money_transfer" in messages[0].msg


def test_e007_comparator_importable_is_fine():
    with rar(DETAIL_COMPARATORS={"money_transfer": "rar_provider.details.detail_is_covered"}):
        assert check_tokens() == []


def test_e008_code_lifetime_over_60_seconds():
    with dot(AUTHORIZATION_CODE_EXPIRE_SECONDS=61):
        oauth2_settings.reload()
        messages = check_tokens()
    assert [m.id for m in messages] == ["rar_provider.E008"]
    assert "60 seconds" in messages[0].msg


# -- rar_provider.conf -----------------------------------------------------------------------------------


def test_conf_values_are_read_live():
    assert rar_settings.PAR_LIFETIME == 60
    with rar(PAR_LIFETIME=30):
        assert rar_settings.PAR_LIFETIME == 30
        with rar(PAR_LIFETIME=45):
            assert rar_settings.PAR_LIFETIME == 45
        assert rar_settings.PAR_LIFETIME == 30
    assert rar_settings.PAR_LIFETIME == 60


def test_conf_defaults_apply_for_missing_keys():
    with override_settings(RAR_PROVIDER={}):
        for name, default in DEFAULTS.items():
            assert getattr(rar_settings, name) == default, name


def test_conf_configured_values():
    assert rar_settings.ISSUER == "http://127.0.0.1:8000"
    assert rar_settings.DEFAULT_RESOURCE_SERVER == "urn:demo:payments"
    assert rar_settings.PAR_REQUIRED is False


def test_conf_unknown_attribute():
    with pytest.raises(AttributeError, match="PAR_LIFETMIE"):
        rar_settings.PAR_LIFETMIE  # noqa: B018
    assert not hasattr(rar_settings, "nonsense")


def test_conf_wrong_type_raises_improperly_configured():
    with rar(PAR_REQUIRED="yes"), pytest.raises(ImproperlyConfigured, match="PAR_REQUIRED"):
        rar_settings.PAR_REQUIRED  # noqa: B018
    with rar(MAX_DETAILS_ENTRIES=True), pytest.raises(ImproperlyConfigured, match="MAX_DETAILS_ENTRIES"):
        rar_settings.MAX_DETAILS_ENTRIES  # noqa: B018


def test_conf_unknown_keys():
    assert rar_settings.unknown_keys() == []
    with rar(b=1, a=2):
        assert rar_settings.unknown_keys() == ["a", "b"]


def test_conf_limits_default():
    assert rar_settings.limits == Limits()


def test_conf_limits_reflect_overrides():
    with rar(
        MAX_DETAILS_ENTRIES=2, MAX_DETAILS_BYTES=100, MAX_NESTING_DEPTH=3, PROPERTY_NAME_PATTERN="^[a-z]+$"
    ):
        limits = rar_settings.limits
    assert limits == Limits(max_entries=2, max_bytes=100, max_depth=3, name_pattern="^[a-z]+$")
    assert rar_settings.limits.max_entries == 5


def test_conf_issuer():
    assert rar_settings.issuer() == "http://127.0.0.1:8000"
    with rar(ISSUER="https://as.example.com/"):
        assert rar_settings.issuer() == "https://as.example.com"
    with rar(ISSUER=None), pytest.raises(ImproperlyConfigured, match="ISSUER"):
        rar_settings.issuer()


def test_conf_issuer_from_request(rf):
    with rar(ISSUER=None):
        assert rar_settings.issuer(rf.get("/anything", HTTP_HOST="localhost:8000")) == "http://localhost:8000"
        assert rar_settings.issuer(rf.get("/", secure=True)) == "https://testserver"


def test_e001_misspelled_server_class_is_reported_not_raised():
    broken = {**settings.OAUTH2_PROVIDER, "OAUTH2_SERVER_CLASS": "rar_provider.oauth.server.RARServr"}
    try:
        with override_settings(OAUTH2_PROVIDER=broken):
            oauth2_settings.reload()
            errors = check_dot_integration()
    finally:
        oauth2_settings.reload()
    assert [e.id for e in errors] == ["rar_provider.E001"]
    assert "cannot be imported" in errors[0].msg
