# On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE of the event history and the access log in
# the database itself, whoever sends the SQL. (SQLite has no such guard: there `manage.py verify`
# is what shows a change.) The owner of the tables can still disable the triggers; the signed
# digests of `manage.py audit_digest` are what expose that.
#
# The one exception: TRUNCATE goes through when the session has set casetrail.audit_erasure to
# 'on', which only `manage.py flush` does (casetrail/audit/management/commands/flush.py), since
# flushing erases the whole database, audit trail included.

from django.db import migrations

TABLES = ("audit_event", "audit_accesslogentry")

FUNCTION = """
CREATE OR REPLACE FUNCTION casetrail_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('casetrail.audit_erasure', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'History is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING HINT = 'Audit entries are never changed or removed; a later entry supersedes an earlier one.';
END;
$$;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # None: its % are PL/pgSQL placeholders
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION casetrail_audit_refuse_change()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION casetrail_audit_refuse_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS casetrail_audit_refuse_change()")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_chain_seq_required"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
