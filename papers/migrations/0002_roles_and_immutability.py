"""The Editors and Reviewers groups, and database triggers that keep versions and events fixed."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from papers import permissions


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now to grant them.
    for label in ("auth", "papers"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
    permissions.ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Reviewers"]).delete()


# The last guard behind the models' refusal: raw SQL cannot rewrite history either. PostgreSQL
# only; test databases there are emptied with TRUNCATE, which these row triggers leave alone.
IMMUTABLE_TRIGGERS = """
CREATE FUNCTION papers_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER papers_version_immutable BEFORE UPDATE OR DELETE ON papers_version
    FOR EACH ROW EXECUTE FUNCTION papers_refuse_change();
CREATE TRIGGER papers_event_immutable BEFORE UPDATE OR DELETE ON papers_event
    FOR EACH ROW EXECUTE FUNCTION papers_refuse_change();
"""
DROP_TRIGGERS = """
DROP TRIGGER papers_version_immutable ON papers_version;
DROP TRIGGER papers_event_immutable ON papers_event;
DROP FUNCTION papers_refuse_change();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal % that must not be read as a placeholder.
        schema_editor.execute(IMMUTABLE_TRIGGERS, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
