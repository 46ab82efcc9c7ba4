# Hash-chain fields on the event history and the access log, and one head row per chain.
# seq starts nullable: 0003 chains the entries already recorded, 0004 makes it required.

from django.db import migrations, models

GENESIS = "0" * 64


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("chain", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("entry_hash", models.CharField(default=GENESIS, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, help_text="Position in this table's hash chain, from 1.", null=True, unique=True),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="prev_hash",
            field=models.CharField(default="", editable=False, help_text="The previous entry's entry_hash.", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="entry_hash",
            field=models.CharField(default="", editable=False, help_text="SHA-256 of this entry (casetrail.audit.hashing).", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="event",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, help_text="Position in this table's hash chain, from 1.", null=True, unique=True),
        ),
        migrations.AddField(
            model_name="event",
            name="prev_hash",
            field=models.CharField(default="", editable=False, help_text="The previous entry's entry_hash.", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="event",
            name="entry_hash",
            field=models.CharField(default="", editable=False, help_text="SHA-256 of this entry (casetrail.audit.hashing).", max_length=64),
            preserve_default=False,
        ),
    ]
