# Issue 12 (FAPI 2.0): per-client authentication method (private_key_jwt, RFC 7523), the client's
# public keys (a JWK Set, validated) and "require signed request objects" (RFC 9101) at PAR.

import rar_provider.models.clients
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rar_provider', '0010_dpop'),
    ]

    operations = [
        migrations.AddField(
            model_name='clientpolicy',
            name='jwks',
            field=models.TextField(blank=True, default='', help_text='The client\'s public keys as a JWK Set, {"keys": [...]}: each with a kid and an alg this server accepts (PS256, ES256, EdDSA by default). They verify its client assertions (private_key_jwt) and signed request objects. Never paste a private key.', validators=[rar_provider.models.clients.validate_client_jwks], verbose_name='public keys (JWK Set)'),
        ),
        migrations.AddField(
            model_name='clientpolicy',
            name='require_signed_request_object',
            field=models.BooleanField(default=False, help_text='Refuse pushed authorization requests from this client without a request object signed with one of its keys (RFC 9101); implies PAR required.', verbose_name='require signed request objects'),
        ),
        migrations.AddField(
            model_name='clientpolicy',
            name='token_endpoint_auth_method',
            field=models.CharField(blank=True, choices=[('', 'client secret, HTTP Basic or in the body (client_secret_basic or client_secret_post)'), ('client_secret_basic', 'client_secret_basic: client secret, HTTP Basic only'), ('client_secret_post', 'client_secret_post: client secret in the body only'), ('private_key_jwt', "private_key_jwt: a JWT signed with the client's key (RFC 7523)"), ('none', 'none: a public client, which does not authenticate')], default='', help_text='How this client authenticates at the PAR, token, introspection and revocation endpoints; any other method is refused. private_key_jwt needs the public keys below and a confidential client; its client secret is then refused.', max_length=32, verbose_name='client authentication method'),
        ),
    ]
