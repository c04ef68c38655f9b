"""Passages a sentence or two long, found by document and query through one GIN index.

A search result's snippet is cut by ts_headline, which parses all of the passage it is given:
passages of at most 320 characters instead of 800 cost it half as much, and still hold the 35
words a snippet shows. Each result's passage is chosen among its document's passages that match
the query: a GIN index over (document_id, vector) (btree_gin, a trusted extension since
PostgreSQL 13) finds those alone, where the btree over document_id read all of them. No btree
may lead with document_id, or the planner would take it: the foreign key's own index goes and
the unique constraint puts the position first. Other databases get a plain index on
document_id. Every paper's passages are split again (a frozen copy of the splitting below, as
migrations must not follow the code that changes after them).

The GIN indexes that searches read take new entries straight into their structure (fastupdate
off) instead of a pending list that every search then reads through until autovacuum merges it:
just after a load, choosing the page's passages took twice as long. Their tables are written at
publication only.
"""

import re

import django.db.models.deletion
from django.db import migrations, models

CONFIG = "standpoint"
# The other GIN indexes searches read (migrations 0005, 0008 and 0011).
SEARCHED = (
    "papers_searchdocument_vector_gin",
    "papers_versionclaim_quote_search",
    "papers_versionclaim_quote_trgm",
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _passages(text, limit):
    found, current = [], ""
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            found += [current] if current else []
            found.append(sentence[:cut].rstrip())
            current, sentence = "", sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > limit:
            found.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    return found + ([current] if current else [])


def _split(apps, schema_editor, limit):
    SearchDocument = apps.get_model("papers", "SearchDocument")
    SearchPassage = apps.get_model("papers", "SearchPassage")
    SearchPassage.objects.all().delete()
    for document in SearchDocument.objects.iterator():
        # The body holds each section as its heading's line, then its text's line.
        texts = [document.standfirst, *document.body.split("\n")[1::2]]
        passages = [passage for text in texts for passage in _passages(text, limit)]
        SearchPassage.objects.bulk_create(
            SearchPassage(document=document, position=n, text=text)
            for n, text in enumerate(passages)
        )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE papers_searchpassage SET vector = to_tsvector('{CONFIG}', text)", params=None
        )
        # The foreign keys' checks now, not at commit: going back, the table is altered next.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)


def shorter(apps, schema_editor):
    _split(apps, schema_editor, 320)


def longer(apps, schema_editor):
    _split(apps, schema_editor, 800)


def index_by_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = (
            "CREATE EXTENSION IF NOT EXISTS btree_gin",
            "CREATE INDEX papers_searchpassage_match ON papers_searchpassage "
            "USING gin (document_id, vector) WITH (fastupdate = off)",
            *(f"ALTER INDEX {name} SET (fastupdate = off)" for name in SEARCHED),
            *(f"SELECT gin_clean_pending_list('{name}'::regclass)" for name in SEARCHED),
        )
    else:
        statements = (
            "CREATE INDEX papers_searchpassage_document ON papers_searchpassage (document_id)",
        )
    for sql in statements:
        schema_editor.execute(sql, params=None)


def unindex_by_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = (
            "DROP INDEX papers_searchpassage_match",
            "DROP EXTENSION IF EXISTS btree_gin",
            *(f"ALTER INDEX {name} RESET (fastupdate)" for name in SEARCHED),
        )
    else:
        statements = ("DROP INDEX papers_searchpassage_document",)
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0012_source_link_checks"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="searchpassage", name="one_search_passage_per_position"
        ),
        migrations.AlterField(
            model_name="searchpassage",
            name="document",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="passages",
                to="papers.searchdocument",
            ),
        ),
        migrations.AddConstraint(
            model_name="searchpassage",
            constraint=models.UniqueConstraint(
                fields=("position", "document"), name="one_search_passage_per_position"
            ),
        ),
        migrations.RunPython(index_by_document, unindex_by_document),
        migrations.RunPython(shorter, longer),
    ]
