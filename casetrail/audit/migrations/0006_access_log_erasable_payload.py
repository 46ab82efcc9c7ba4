# Access-log entries gain hash format 2 (casetrail/audit/hashing.py): their free text (justification,
# recipient) is committed through a salted digest, so that disposal can erase it and the chain
# still verifies. Entries already written keep format 1 (hash_format 1) and their hashes.
#
# On PostgreSQL the access log's append-only trigger is replaced by one that lets through exactly
# one UPDATE: a format-2 entry whose justification, recipient and salt become empty and nothing
# else changes, in a transaction that has set casetrail.audit_erasure to 'payload'
# (casetrail.audit.models.erase_payloads). Every other UPDATE or DELETE is refused as before.

from django.db import migrations, models

TABLE = "audit_accesslogentry"
TRIGGER = f"{TABLE}_append_only"

FUNCTION = """
CREATE OR REPLACE FUNCTION casetrail_audit_access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF current_setting('casetrail.audit_erasure', true) = 'payload'
           AND OLD.hash_format = 2 AND OLD.payload_salt <> ''
           AND NEW.justification = '' AND NEW.recipient = '' AND NEW.payload_salt = ''
           AND (to_jsonb(NEW) - ARRAY['justification', 'recipient', 'payload_salt'])
               = (to_jsonb(OLD) - ARRAY['justification', 'recipient', 'payload_salt']) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'History is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING HINT = 'Audit entries are never changed or removed; only disposal may erase their free text.';
END;
$$;
"""


def erasable_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # None: its % are PL/pgSQL placeholders
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}")
    schema_editor.execute(f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE} "
                          f"FOR EACH ROW EXECUTE FUNCTION casetrail_audit_access_log_refuse_change()")


def strict_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}")
    schema_editor.execute(f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE} "
                          f"FOR EACH ROW EXECUTE FUNCTION casetrail_audit_refuse_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS casetrail_audit_access_log_refuse_change()")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_append_only_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="hash_format",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="payload_digest",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="payload_salt",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.RunPython(erasable_trigger, strict_trigger, elidable=False),
    ]
