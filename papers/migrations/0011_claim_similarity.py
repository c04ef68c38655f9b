"""Similar claims across the catalogue (papers.similarity), on PostgreSQL: the `pg_trgm`
extension (trusted since PostgreSQL 13, so the database's owner may create it), a function
`papers_fold` that strips accents as `unaccent` does (migration 0008) but is declared immutable
so an index may use it, and a GIN trigram index over the published claims' folded text. Nothing
changes on other databases, where papers.similarity measures the same thing in Python.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "papers_versionclaim_quote_trgm"


class CreateTrigramExtension(TrigramExtension):
    """Django's operation skips other databases going forwards, but not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        schema = schema_editor.quote_name(cursor.fetchone()[0])
    # unaccent() is only stable (its dictionary could change), so an index cannot call it; ours
    # names the dictionary and the schema, which makes it safe to declare immutable (and to
    # restore from a dump, which runs with an empty search path).
    schema_editor.execute(
        "CREATE FUNCTION papers_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
        f"PARALLEL SAFE AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$",
        params=None,
    )
    # Written out: Django's GinIndex(OpClass(...)) needs django.contrib.postgres installed.
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON papers_versionclaim USING GIN (papers_fold(quote) gin_trgm_ops)",
        params=None,
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX {INDEX}", params=None)
    schema_editor.execute("DROP FUNCTION papers_fold(text)", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0010_forecasts"),
    ]

    operations = [
        CreateTrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
