from papers.models.content import (
    PUBLIC_ID_ALPHABET,
    Claim,
    Paper,
    Section,
    Source,
    Tag,
    new_public_id,  # referenced by migration 0001
)
from papers.models.drafts import Round, ShareLink
from papers.models.records import Event, Immutable, PublicRevision, Version, VersionClaim
from papers.models.reviews import Assessment, Assignment, Comment, Review
from papers.models.search import SearchDocument

__all__ = [
    "PUBLIC_ID_ALPHABET",
    "Assessment",
    "Assignment",
    "Comment",
    "Review",
    "Round",
    "ShareLink",
    "SearchDocument",
    "Claim",
    "Event",
    "Immutable",
    "Paper",
    "PublicRevision",
    "Section",
    "Source",
    "Tag",
    "Version",
    "VersionClaim",
    "new_public_id",
]
