"""Audit events keep only the indexes the audit trail's filters use.

Every audited write (each intake, reveal, import ...) maintained eleven indexes. The filters
on who acted, the kind and the object type are exact matches, so the ``varchar_pattern_ops``
twins Django adds on PostgreSQL for ``LIKE`` were never used, and the object type alone is
served by ``audit_object``'s first column: those four go, and who acted and the kind keep a
plain index under a name of their own.

The state changes as ``AlterField`` would (no ``db_index``) and ``AddIndex``; the database
only drops and creates indexes. ``AlterField`` on SQLite rebuilds the table, and a rebuild
drops its append-only trigger (0002).
"""

from django.db import migrations, models

KIND_CHOICES = [
    ("created", "Personal data created"),
    ("changed", "Personal data changed"),
    ("deleted", "Personal data deleted"),
    ("link_decision", "Link decision (merge, split, review)"),
    ("reveal", "Personal data revealed"),
    ("import", "Source file imported"),
    ("export_requested", "Export requested"),
    ("export_approved", "Export approved"),
    ("export_refused", "Export refused"),
    ("export_produced", "Export produced"),
    ("export_expired", "Export approval expired"),
    ("role_granted", "Role granted"),
    ("role_revoked", "Role revoked"),
    ("lockout", "Sign-in locked out"),
    ("purge", "Old audit events purged"),
]
# The indexes of db_index=True on actor_label, kind and object_type; PostgreSQL adds a
# "_like" twin to each.
OLD = {
    "governance_auditevent_actor_label_93688457": "actor_label",
    "governance_auditevent_kind_961e9230": "kind",
    "governance_auditevent_object_type_63ba9426": "object_type",
}
NEW = [
    models.Index(fields=["kind"], name="audit_kind"),
    models.Index(fields=["actor_label"], name="audit_actor"),
]


def _names(schema_editor) -> list[str]:
    postgres = schema_editor.connection.vendor == "postgresql"
    return [n for name in OLD for n in ([name, f"{name}_like"] if postgres else [name])]


def forwards(apps, schema_editor):
    model = apps.get_model("governance", "AuditEvent")
    for name in _names(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
    for index in NEW:
        schema_editor.add_index(model, index)


def backwards(apps, schema_editor):
    model = apps.get_model("governance", "AuditEvent")
    for index in NEW:
        schema_editor.remove_index(model, index)
    table = schema_editor.quote_name(model._meta.db_table)
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, column in OLD.items():
        col = schema_editor.quote_name(column)
        schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name(name)} ON {table} ({col})")
        if postgres:
            schema_editor.execute(
                f"CREATE INDEX {schema_editor.quote_name(name + '_like')} ON {table} "
                f"({col} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0002_audit_append_only_guard"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="actor_label",
                    field=models.CharField(max_length=150, verbose_name="by"),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="kind",
                    field=models.CharField(
                        choices=KIND_CHOICES, max_length=24, verbose_name="kind"
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="object_type",
                    field=models.CharField(blank=True, max_length=64, verbose_name="object type"),
                ),
                *(migrations.AddIndex(model_name="auditevent", index=index) for index in NEW),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
