"""Register the demo's FAPI client: a key pair, private_key_jwt, PAR required (issue 12).

    manage.py rar_demo_fapi_client                  # client demo-fapi, key in var/demo-fapi-key.json
    manage.py rar_demo_fapi_client --alg PS256      # another algorithm (ES256, PS256 or EdDSA)
    manage.py rar_demo_fapi_client --rotate         # a new key pair; the old public key is dropped
    manage.py rar_demo_fapi_client --if-missing     # what `make demo` runs: only what is missing

The private key (a JWK Set of one key, with ``kid`` and ``alg``) is written to the key file, mode
0600, atomically; only its public half is registered, on the client's policy (``jwks``), with
``token_endpoint_auth_method = private_key_jwt``. Run it again and it only makes sure the client is
registered with the key in the file and the redirect URI. With ``--if-missing`` it changes nothing
when both are registered already (what was changed in admin is kept), and else does what is missing.
The key file is ``settings.DEMO_FAPI_KEY_FILE`` unless ``--key-file`` names another. The demo
fixtures' clients are not touched.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from jwcrypto import jwk
from oauth2_provider.models import get_application_model

from rar_provider.client_keys import ClientKeysError, parse_client_jwks
from rar_provider.key_rotation import KeyFileError, read_key_file, write_key_file
from rar_provider.models import ClientPolicy, TokenEndpointAuthMethod

ALGS = {
    "ES256": {"kty": "EC", "crv": "P-256"},
    "PS256": {"kty": "RSA", "size": 2048},
    "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
}
FIXTURE_CLIENTS = ("demo-client", "demo-public", "demo-service", "payments-api")


def default_key_file() -> Path:
    """``settings.DEMO_FAPI_KEY_FILE`` (where the demo's FAPI client reads its key), else var/."""
    configured = getattr(settings, "DEMO_FAPI_KEY_FILE", None)
    if configured:
        return Path(configured)
    return Path(getattr(settings, "BASE_DIR", Path.cwd())) / "var" / "demo-fapi-key.json"


def is_registered(client_id: str, private: dict, redirect_uri: str) -> bool:
    """Whether ``client_id`` exists, uses private_key_jwt with ``private``'s key, and has ``redirect_uri``."""
    policy = (
        ClientPolicy.objects.select_related("application").filter(application__client_id=client_id).first()
    )
    if policy is None or policy.token_endpoint_auth_method != TokenEndpointAuthMethod.PRIVATE_KEY_JWT:
        return False
    try:
        kids = {key.kid for key in parse_client_jwks(policy.jwks)}
    except ClientKeysError:
        return False
    return private.get("kid") in kids and redirect_uri in policy.application.redirect_uris.split()


def new_private_jwk(alg: str) -> dict:
    key = jwk.JWK.generate(**ALGS[alg])
    data = key.export_private(as_dict=True)
    data.update(kid=key.thumbprint(), alg=alg, use="sig")
    return data


def public_jwks(private: dict) -> str:
    public = jwk.JWK(**private).export_public(as_dict=True)
    public.update(kid=private["kid"], alg=private["alg"], use="sig")
    return json.dumps({"keys": [public]}, indent=2)


class Command(BaseCommand):
    help = "Generate a key pair for the demo FAPI client and register it for private_key_jwt."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", default="demo-fapi", help="the client_id (default demo-fapi)")
        parser.add_argument("--key-file", help="where the private key goes (default var/demo-fapi-key.json)")
        parser.add_argument("--alg", choices=sorted(ALGS), default="ES256", help="signature algorithm")
        parser.add_argument(
            "--redirect-uri",
            default=getattr(settings, "DEMO_REDIRECT_URI", "http://127.0.0.1:8000/demo/callback/"),
            help="the client's redirect URI (default: the demo's callback)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--rotate", action="store_true", help="replace the key pair with a new one")
        mode.add_argument(
            "--if-missing",
            action="store_true",
            help="change nothing when the client is registered with the key in the file already",
        )

    def handle(self, *args, client_id, key_file, alg, redirect_uri, rotate, if_missing=False, **options):
        if client_id in FIXTURE_CLIENTS:
            raise CommandError(f"{client_id} is one of the demo fixtures' clients; choose another client_id.")
        path = Path(key_file) if key_file else default_key_file()
        try:
            entries = read_key_file(path)
        except KeyFileError as exc:
            raise CommandError(str(exc)) from exc
        if entries and not rotate:
            private, made = entries[0], False
            if if_missing and is_registered(client_id, private, redirect_uri):
                self.stdout.write(
                    f"Client {client_id} is registered with key {private.get('kid')} from {path}: "
                    "nothing changed."
                )
                return
        else:
            private, made = new_private_jwk(alg), True
        jwks = public_jwks(private)
        try:
            parse_client_jwks(jwks)
        except ClientKeysError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if made:
            write_key_file(path, [private])
        application = self.application(client_id, redirect_uri)
        policy, _ = ClientPolicy.objects.get_or_create(application=application)
        policy.token_endpoint_auth_method = TokenEndpointAuthMethod.PRIVATE_KEY_JWT
        policy.jwks = jwks
        policy.require_pushed_authorization_requests = True
        policy.full_clean()
        policy.save()
        self.stdout.write(
            f"Client {client_id}: private_key_jwt with key {private['kid']} ({private['alg']}); "
            f"private key {'written to' if made else 'kept in'} {path}."
        )

    def application(self, client_id: str, redirect_uri: str):
        model = get_application_model()
        application = model.objects.filter(client_id=client_id).first()
        if application is None:
            application = model.objects.create(
                client_id=client_id,
                name="Demo FAPI client",
                client_type=model.CLIENT_CONFIDENTIAL,
                authorization_grant_type=model.GRANT_AUTHORIZATION_CODE,
                redirect_uris=redirect_uri,
                # DOT wants a secret; private_key_jwt refuses it, and nobody is told it.
                client_secret=secrets.token_urlsafe(32),
            )
        elif application.client_type != model.CLIENT_CONFIDENTIAL:
            raise CommandError(f"{client_id} exists and is not a confidential client.")
        elif redirect_uri not in application.redirect_uris.split():
            application.redirect_uris = " ".join([*application.redirect_uris.split(), redirect_uri])
            application.save(update_fields=["redirect_uris"])
        return application
