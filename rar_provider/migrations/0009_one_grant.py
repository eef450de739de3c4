# Issue 10: one grant. The consent becomes the grant (AuthorizationGrant, with a grant_id and a
# forward-only state); codes, access tokens and refresh tokens point at it; the ConsentIssue links,
# the per-code grant identifiers and the consent-decision records go.

import secrets

import django.db.models.deletion
import rar_provider.fields
import rar_provider.models.grants
from django.conf import settings
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings

STATES = [
    ('pending', 'Pending'),
    ('approved', 'Approved'),
    ('code_issued', 'Code issued'),
    ('redeemed', 'Redeemed'),
    ('denied', 'Denied'),
    ('revoked', 'Revoked'),
    ('expired', 'Expired'),
]


def _types(details):
    names = dict.fromkeys(d.get('type', '?') for d in details or [] if isinstance(d, dict))
    return f" {' '.join(names)} " if names else ''


def carry_links_to_grants(apps, schema_editor):
    """Every consent becomes a grant; every code and token linked to it points at it."""
    Grant = apps.get_model('rar_provider', 'AuthorizationGrant')
    ConsentIssue = apps.get_model('rar_provider', 'ConsentIssue')
    IssuedCode = apps.get_model('rar_provider', 'IssuedCode')
    IssuedAccessToken = apps.get_model('rar_provider', 'IssuedAccessToken')
    IssuedRefreshToken = apps.get_model('rar_provider', 'IssuedRefreshToken')
    for link in ConsentIssue.objects.all().iterator():
        if link.grant_id:
            IssuedCode.objects.filter(code_id=link.grant_id).update(grant_id=link.consent_id)
        if link.access_token_id:
            IssuedAccessToken.objects.filter(access_token_id=link.access_token_id).update(grant_id=link.consent_id)
        if link.refresh_token_id:
            IssuedRefreshToken.objects.filter(refresh_token_id=link.refresh_token_id).update(
                grant_id=link.consent_id
            )
    taken = set()
    for grant in Grant.objects.all().iterator():
        identifier = next(
            (
                value
                for model in (IssuedCode, IssuedAccessToken, IssuedRefreshToken)
                for value in model.objects.filter(grant_id=grant.pk).values_list('grant_identifier', flat=True)
                if value and value not in taken
            ),
            None,
        ) or secrets.token_urlsafe(16)
        taken.add(identifier)
        if grant.revoked:
            state = 'revoked'
        elif grant.used:
            state = 'redeemed'
        elif IssuedCode.objects.filter(grant_id=grant.pk).exists():
            state = 'code_issued'
        else:
            state = 'approved'
        Grant.objects.filter(pk=grant.pk).update(grant_id=identifier, state=state, decided=grant.created)
    # Codes and refresh tokens issued without a consent (no consent page was needed): a grant each
    # (one per former grant identifier), so every code and refresh token has its grant.
    made = {}
    for model, token_field in ((IssuedCode, 'code'), (IssuedRefreshToken, 'refresh_token')):
        for row in model.objects.filter(grant__isnull=True).select_related(token_field).iterator():
            token = getattr(row, token_field)
            key = row.grant_identifier or f'{token_field}-{row.pk}'
            if key not in made:
                identifier = row.grant_identifier if row.grant_identifier and row.grant_identifier not in taken else None
                identifier = identifier or secrets.token_urlsafe(16)
                taken.add(identifier)
                made[key] = Grant.objects.create(
                    grant_id=identifier,
                    state='code_issued' if token_field == 'code' else 'redeemed',
                    user_id=token.user_id,
                    application_id=token.application_id,
                    resource_server_id=row.resource_server_id,
                    authorization_details=row.authorization_details,
                    types=_types(row.authorization_details),
                    decided=token.created,
                ).pk
            model.objects.filter(pk=row.pk).update(grant_id=made[key])
    for row in IssuedAccessToken.objects.filter(grant__isnull=True).exclude(grant_identifier='').iterator():
        found = Grant.objects.filter(grant_id=row.grant_identifier).values_list('pk', flat=True).first()
        if found:
            IssuedAccessToken.objects.filter(pk=row.pk).update(grant_id=found)


class Migration(migrations.Migration):

    dependencies = [
        ('rar_provider', '0008_one_time_grants'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
        migrations.swappable_dependency(oauth2_settings.GRANT_MODEL),
        migrations.swappable_dependency(oauth2_settings.ACCESS_TOKEN_MODEL),
        migrations.swappable_dependency(oauth2_settings.REFRESH_TOKEN_MODEL),
    ]

    operations = [
        migrations.RenameModel('Consent', 'AuthorizationGrant'),
        migrations.RenameModel('CodeDetails', 'IssuedCode'),
        migrations.RenameModel('AccessTokenDetails', 'IssuedAccessToken'),
        migrations.RenameModel('RefreshTokenDetails', 'IssuedRefreshToken'),
        migrations.RenameField('IssuedCode', 'grant', 'code'),
        migrations.AddField(
            model_name='authorizationgrant',
            name='grant_id',
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name='grant ID'),
        ),
        migrations.AddField(
            model_name='authorizationgrant',
            name='state',
            field=models.CharField(
                choices=STATES, default='approved', editable=False, max_length=16, verbose_name='state'
            ),
        ),
        migrations.AddField(
            model_name='authorizationgrant',
            name='decided',
            field=models.DateTimeField(blank=True, null=True, verbose_name='decided'),
        ),
        migrations.AddField(
            model_name='issuedcode',
            name='grant',
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name='codes',
                to='rar_provider.authorizationgrant',
            ),
        ),
        migrations.AddField(
            model_name='issuedaccesstoken',
            name='grant',
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='access_tokens',
                to='rar_provider.authorizationgrant',
            ),
        ),
        migrations.AddField(
            model_name='issuedrefreshtoken',
            name='grant',
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name='refresh_tokens',
                to='rar_provider.authorizationgrant',
            ),
        ),
        migrations.AddField(
            model_name='coderedemption',
            name='grant',
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='redemptions',
                to='rar_provider.authorizationgrant', verbose_name='grant',
            ),
        ),
        migrations.AddField(
            model_name='issuedcode',
            name='one_time_only',
            field=models.BooleanField(
                default=False,
                help_text='Every entry it carries is of a one-time type: its tokens get no refresh token.',
                verbose_name='one-time entries only',
            ),
        ),
        migrations.RunPython(carry_links_to_grants, migrations.RunPython.noop),
        migrations.DeleteModel('ConsentIssue'),
        migrations.DeleteModel('ConsentDecision'),
        migrations.RemoveField('issuedcode', 'grant_identifier'),
        migrations.RemoveField('issuedcode', 'resource_server'),
        migrations.RemoveField('issuedaccesstoken', 'grant_identifier'),
        migrations.RemoveField('issuedrefreshtoken', 'grant_identifier'),
        migrations.RemoveField('issuedrefreshtoken', 'resource_server'),
        migrations.AlterField(
            model_name='authorizationgrant',
            name='grant_id',
            field=models.CharField(
                default=rar_provider.models.grants.new_grant_id, editable=False, max_length=64, unique=True,
                verbose_name='grant ID',
            ),
        ),
        migrations.AlterField(
            model_name='authorizationgrant',
            name='state',
            field=models.CharField(
                choices=STATES, default='pending', editable=False, max_length=16, verbose_name='state'
            ),
        ),
        migrations.AlterField(
            model_name='issuedcode',
            name='grant',
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name='codes',
                to='rar_provider.authorizationgrant',
            ),
        ),
        migrations.AlterField(
            model_name='issuedrefreshtoken',
            name='grant',
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name='refresh_tokens',
                to='rar_provider.authorizationgrant',
            ),
        ),
        migrations.AlterField(
            model_name='issuedcode',
            name='code',
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name='rar_issued', to=oauth2_settings.GRANT_MODEL
            ),
        ),
        migrations.AlterField(
            model_name='issuedaccesstoken',
            name='access_token',
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name='rar_issued',
                to=oauth2_settings.ACCESS_TOKEN_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name='issuedrefreshtoken',
            name='refresh_token',
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name='rar_issued',
                to=oauth2_settings.REFRESH_TOKEN_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name='authorizationgrant',
            name='user',
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name='rar_grants', to=settings.AUTH_USER_MODEL,
                verbose_name='user',
            ),
        ),
        migrations.AlterField(
            model_name='authorizationgrant',
            name='application',
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name='rar_grants',
                to=oauth2_settings.APPLICATION_MODEL, verbose_name='client',
            ),
        ),
        migrations.RemoveIndex('authorizationgrant', 'rar_consent_lookup'),
        migrations.RemoveIndex('authorizationgrant', 'rar_consent_by_user'),
        migrations.RemoveIndex('authorizationgrant', 'rar_consent_revoked'),
        migrations.RemoveIndex('authorizationgrant', 'rar_consent_expires'),
        migrations.AddIndex(
            'authorizationgrant',
            models.Index(fields=['user', 'application', 'resource_server'], name='rar_grant_lookup'),
        ),
        migrations.AddIndex('authorizationgrant', models.Index(fields=['user', '-created'], name='rar_grant_by_user')),
        migrations.AddIndex('authorizationgrant', models.Index(fields=['state'], name='rar_grant_state')),
        migrations.AddIndex('authorizationgrant', models.Index(fields=['revoked'], name='rar_grant_revoked')),
        migrations.AddIndex('authorizationgrant', models.Index(fields=['expires'], name='rar_grant_expires')),
        migrations.AddConstraint(
            'authorizationgrant',
            models.CheckConstraint(
                condition=models.Q(state__in=[value for value, _label in STATES]), name='rar_grant_state_known'
            ),
        ),
        migrations.AlterModelOptions(
            name='authorizationgrant',
            options={'ordering': ('-created', '-pk'), 'verbose_name': 'grant', 'verbose_name_plural': 'grants'},
        ),
        migrations.AlterModelOptions(
            name='issuedaccesstoken',
            options={'verbose_name': 'access token issued', 'verbose_name_plural': 'access tokens issued'},
        ),
        migrations.AlterModelOptions(
            name='issuedcode',
            options={'verbose_name': 'authorization code issued', 'verbose_name_plural': 'authorization codes issued'},
        ),
        migrations.AlterModelOptions(
            name='issuedrefreshtoken',
            options={'verbose_name': 'refresh token issued', 'verbose_name_plural': 'refresh tokens issued'},
        ),
    ]
