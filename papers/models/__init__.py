from papers.models.content import (
    PUBLIC_ID_ALPHABET,
    Claim,
    Paper,
    Section,
    Source,
    Tag,
    new_public_id,  # referenced by migration 0001
)
from papers.models.records import Event, Immutable, Version
from papers.models.reviews import Assessment, Assignment, Comment, Review

__all__ = [
    "PUBLIC_ID_ALPHABET",
    "Assessment",
    "Assignment",
    "Comment",
    "Review",
    "Claim",
    "Event",
    "Immutable",
    "Paper",
    "Section",
    "Source",
    "Tag",
    "Version",
    "new_public_id",
]
