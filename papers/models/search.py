"""What search reads: one row per published paper, rewritten at each publication."""

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
