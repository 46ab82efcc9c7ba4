# Every entry now has its place in the chain (0003), so seq is required from here on.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_chain_existing_entries"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesslogentry",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, help_text="Position in this table's hash chain, from 1.", unique=True),
        ),
        migrations.AlterField(
            model_name="event",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, help_text="Position in this table's hash chain, from 1.", unique=True),
        ),
    ]
