"""Accent-blind search, and passages to cut snippets from.

On PostgreSQL: the `unaccent` extension (trusted since PostgreSQL 13, so the database's owner
may create it) and a text search configuration `standpoint`, English with accents stripped
before stemming, so "klaipeda" finds "Klaipėda" and the other way round; papers' vectors are
rebuilt with it, and claims' text gets a GIN index for /claims/?q=. On every database: the
passages of each indexed paper, split as papers.search_index.passages() splits them at publication
(a frozen copy below, as migrations must not follow the code that changes after them).
"""

import re

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

CONFIG = "standpoint"
PASSAGE_CHARS = 800
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _vectors_sql(config):
    return (
        "UPDATE papers_searchdocument SET vector = "
        f"setweight(to_tsvector('{config}', title), 'A')"
        f" || setweight(to_tsvector('{config}', standfirst), 'B')"
        f" || setweight(to_tsvector('{config}', claims), 'B')"
        f" || setweight(to_tsvector('{config}', body), 'C')"
    )


def unaccented_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)",
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
        _vectors_sql(CONFIG),
        "CREATE INDEX papers_versionclaim_quote_search ON papers_versionclaim "
        f"USING GIN (to_tsvector('{CONFIG}'::regconfig, COALESCE(quote, '')))",
    ):
        schema_editor.execute(sql, params=None)


def accented_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (
        "DROP INDEX papers_versionclaim_quote_search",
        _vectors_sql("english"),
        f"DROP TEXT SEARCH CONFIGURATION {CONFIG}",
        "DROP EXTENSION IF EXISTS unaccent",
    ):
        schema_editor.execute(sql, params=None)


def _passages(text):
    found, current = [], ""
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        while len(sentence) > PASSAGE_CHARS:
            cut = sentence.rfind(" ", 0, PASSAGE_CHARS + 1)
            cut = cut if cut > 0 else PASSAGE_CHARS
            found += [current] if current else []
            found.append(sentence[:cut].rstrip())
            current, sentence = "", sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > PASSAGE_CHARS:
            found.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    return found + ([current] if current else [])


def split_passages(apps, schema_editor):
    SearchDocument = apps.get_model("papers", "SearchDocument")
    SearchPassage = apps.get_model("papers", "SearchPassage")
    for document in SearchDocument.objects.iterator():
        # The body holds each section as its heading's line, then its text's line.
        texts = [document.standfirst, *document.body.split("\n")[1::2]]
        passages = [passage for text in texts for passage in _passages(text)]
        SearchPassage.objects.bulk_create(
            SearchPassage(document=document, position=n, text=text)
            for n, text in enumerate(passages)
        )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE papers_searchpassage SET vector = to_tsvector('{CONFIG}', text)", params=None
        )


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0007_rounds_share_links_approval"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchPassage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                ("text", models.TextField()),
                ("vector", django.contrib.postgres.search.SearchVectorField(null=True)),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="passages",
                        to="papers.searchdocument",
                    ),
                ),
            ],
            options={
                "ordering": ["document", "position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("document", "position"), name="one_search_passage_per_position"
                    )
                ],
            },
        ),
        migrations.RunPython(unaccented_search, accented_search),
        migrations.RunPython(split_passages, migrations.RunPython.noop),
    ]
