"""What search reads: one row per published paper, rewritten at each publication, and the
passages its snippets are cut from."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchDocument(models.Model):
    """The searchable text of a paper's live version. On PostgreSQL `vector` holds its weighted
    tsvector (title A, standfirst B, claims B, sections C) behind a GIN index; elsewhere search
    falls back to `text`."""

    paper = models.OneToOneField(
        "papers.Paper", on_delete=models.CASCADE, related_name="search_document"
    )
    title = models.TextField()
    standfirst = models.TextField(blank=True)
    claims = models.TextField(blank=True)
    body = models.TextField(blank=True)
    vector = SearchVectorField(null=True)

    def __str__(self):
        return self.title


class SearchPassage(models.Model):
    """A sentence or two of a search document's standfirst or sections. A result's snippet is
    cut from its best passage, never from the whole paper: highlighting costs as much as the
    text it reads, so it reads a bounded one (papers.search_index.PASSAGE_CHARS).

    Passages are found by document through an index of migration 0013 (on PostgreSQL a GIN
    index over the document and the vector, which finds a document's matching passages alone);
    no btree may lead with the document, or PostgreSQL's planner would read that instead."""

    document = models.ForeignKey(
        SearchDocument, on_delete=models.CASCADE, related_name="passages", db_index=False
    )
    position = models.PositiveIntegerField()
    text = models.TextField()
    vector = SearchVectorField(null=True)

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["position", "document"], name="one_search_passage_per_position"
            )
        ]

    def __str__(self):
        return self.text[:60]
