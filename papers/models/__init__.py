from papers.models.content import (
    PUBLIC_ID_ALPHABET,
    Claim,
    Paper,
    Section,
    Tag,
    new_public_id,  # referenced by migration 0001
)
from papers.models.drafts import Round, ShareLink
from papers.models.forecasts import DueNotice, Resolution
from papers.models.records import Event, Immutable, PublicRevision, Version, VersionClaim
from papers.models.reviews import Assessment, Assignment, Comment, Review
from papers.models.search import SearchDocument
from papers.models.sources import ClaimSource, Source

__all__ = [
    "PUBLIC_ID_ALPHABET",
    "Assessment",
    "Assignment",
    "Comment",
    "DueNotice",
    "Review",
    "Round",
    "ShareLink",
    "SearchDocument",
    "Claim",
    "ClaimSource",
    "Event",
    "Immutable",
    "Paper",
    "PublicRevision",
    "Resolution",
    "Section",
    "Source",
    "Tag",
    "Version",
    "VersionClaim",
    "new_public_id",
]
