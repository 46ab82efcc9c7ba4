"""Tokens issued before tokens expired get the default life, counted from when they were issued."""

from datetime import timedelta

from django.db import migrations

DEFAULT_DAYS = 90


def backfill(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at").iterator():
        ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at + timedelta(days=DEFAULT_DAYS))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_token_expiry_and_demo_users")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
