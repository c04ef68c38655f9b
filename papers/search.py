"""Search over published papers: the index written at publication, and the query side.

On PostgreSQL each live version's text is a weighted tsvector (title A, standfirst and claims
B, sections C) behind a GIN index; on other databases search falls back to matching words in
the stored text.
"""

from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models import Value

from papers import rendering
from papers.models import SearchDocument


def index(version, document):
    """Make the paper's search entry the text of this version (called when it is published)."""
    fields = {
        "title": version.title,
        "standfirst": rendering.html_to_text(version.standfirst_html),
        "claims": "\n".join(claim["quote"] for claim in document.get("claims", [])),
        "body": "\n".join(
            f"{section['heading']}\n{rendering.html_to_text(rendering.render_markdown(section['body']))}"
            for section in document["sections"]
        ),
    }
    entry, _ = SearchDocument.objects.update_or_create(paper=version.paper, defaults=fields)
    if connection.vendor == "postgresql":
        SearchDocument.objects.filter(pk=entry.pk).update(
            vector=SearchVector(Value(fields["title"]), weight="A", config="english")
            + SearchVector(Value(fields["standfirst"]), weight="B", config="english")
            + SearchVector(Value(fields["claims"]), weight="B", config="english")
            + SearchVector(Value(fields["body"]), weight="C", config="english")
        )
    return entry


def unindex(paper):
    """Withdrawn papers leave search."""
    SearchDocument.objects.filter(paper=paper).delete()
