"""What the API answers and accepts, as Pydantic models: they validate the query parameters
(a bad value is a 400 naming it) and are the OpenAPI schema readers of /api/v1/schema/ get."""

from datetime import UTC, date, datetime
from typing import Literal

from ninja import Schema
from pydantic import BaseModel, Field, field_validator

from papers import verdicts
from papers.forecasts import STATE_LABELS, Outcome
from papers.models import Claim, ClaimSource

# The largest page number and page size accepted; a larger `limit` is served as this many.
MAX_PAGE = 2_147_483_647
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"

Kind = Literal[tuple(Claim.Kind.values)]
Status = Literal[tuple(verdicts.STATUSES)]
Use = Literal[tuple(ClaimSource.Use.values)]


class Error(BaseModel):
    detail: str = Field(description="What was wrong, in words.")
    errors: list[dict] = Field(
        default_factory=list, description="Each bad parameter: where, and why."
    )


class Paging(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Which page, from 1.")
    limit: int = Field(
        DEFAULT_LIMIT,
        ge=1,
        description=f"Items per page ({DEFAULT_LIMIT} unless given; more than {MAX_LIMIT} "
        f"gives {MAX_LIMIT}).",
    )


class Since(Schema):
    updated_since: datetime | None = Field(
        None,
        description="Only what was published at or after this time (ISO 8601; a time without "
        "a zone is UTC, a date alone is its midnight).",
    )

    @field_validator("updated_since")
    @classmethod
    def in_utc(cls, moment):
        """The moment in UTC: a time without a zone is UTC, and an offset PostgreSQL does not
        take (beyond ±15:59) is converted rather than passed on."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("This time is out of range.") from None


class PaperFilters(Paging, Since):
    tag: str | None = Field(None, pattern=SLUG_PATTERN, max_length=80, description="A tag slug.")


class ClaimFilters(PaperFilters):
    kind: Kind | None = Field(None, description="The kind of claim.")
    status: Status | None = Field(None, description="The review status, as published.")
    paper: str | None = Field(
        None, pattern=SLUG_PATTERN, max_length=120, description="A paper's slug."
    )


class CorrectionFilters(Paging):
    tag: str | None = Field(None, pattern=SLUG_PATTERN, max_length=80, description="A tag slug.")
    paper: str | None = Field(
        None, pattern=SLUG_PATTERN, max_length=120, description="A paper's slug."
    )


class Page(BaseModel):
    count: int = Field(description="Items in all pages.")
    page: int
    pages: int = Field(description="How many pages there are (at least 1).")
    limit: int
    next: str | None = Field(description="The address of the next page, if any.")
    previous: str | None = Field(description="The address of the previous page, if any.")


class Tag(BaseModel):
    slug: str
    name: str


class Source(BaseModel):
    title: str
    url: str = ""
    publisher: str = ""
    date: str = Field("", description="When the source was published (ISO 8601), if known.")
    quote: str = Field("", description="The passage quoted from it.")
    use: Use = Field(description="How the claim uses it (CiTO: supports, disputes, qualifies, "
                     "background).")  # fmt: skip
    cito: str = Field(description="The CiTO property of that use, as an IRI.")


class Review(BaseModel):
    status: Status
    label: str = Field(description="The words readers are shown for it, as published.")
    reviewers: int = Field(description="How many reviewers' verdicts the status rests on.")
    rating: int | None = Field(description="schema.org's 1–5 rating, none when not checked.")
    notes: list[str] = Field(description="Reviewers' published notes of concern.")


class ResolutionSource(BaseModel):
    title: str
    url: str = ""


class Resolution(BaseModel):
    outcome: Literal[tuple(Outcome.values)]
    label: str = Field(description="The outcome in words.")
    note: str = Field(description="What happened, as readers read it.")
    sources: list[ResolutionSource]
    resolved_at: datetime
    resolved_by: str = Field(description="Who recorded it.")


class Forecast(BaseModel):
    due: date | None = Field(description="When it is to be settled, if a date was set.")
    resolves_when: str = Field(description="What will settle it, as published.")
    state: Literal[tuple(STATE_LABELS)] = Field(
        description="open, due (the date has passed, no resolution yet) or the outcome."
    )
    state_label: str
    resolution: Resolution | None = Field(description="The standing resolution, the latest one.")


class ClaimChange(BaseModel):
    version: int = Field(description="The version in which the claim changed.")
    published_at: datetime
    is_correction: bool
    note: str = Field(description="The version's change note.")
    changes: list[str] = Field(description="What changed for the claim, in words.")


class ClaimOut(BaseModel):
    id: str = Field(description="The claim's permanent public id.")
    url: str = Field(description="The claim's page.")
    api_url: str
    paper: str = Field(description="The paper's slug.")
    paper_title: str
    version: int = Field(description="The version it is quoted from: its paper's latest.")
    number: int = Field(description="Its number in that version.")
    section: str = Field(description="The anchor of its section.")
    section_heading: str
    text: str = Field(description="The claim's words.")
    kind: Kind
    tags: list[Tag]
    note: str = Field(description="The editors' note to readers.")
    sources: list[Source]
    evidence: str = Field(description="How its sources are used, in words.")
    review: Review
    forecast: Forecast | None = Field(description="For a predictive claim: how it stands.")
    published_at: datetime = Field(description="When that version was published.")


class ClaimDetail(ClaimOut):
    history: list[ClaimChange] = Field(description="The versions in which the claim changed.")
    removed_in: int | None = Field(description="The version that removed it, if one did.")


class ClaimPage(Page):
    results: list[ClaimOut]


class VersionRef(BaseModel):
    number: int
    url: str
    api_url: str
    published_at: datetime
    is_correction: bool
    note: str
    sha256: str = Field(description="SHA-256 of the version's export.json.")


class PaperOut(BaseModel):
    slug: str
    url: str
    api_url: str
    title: str
    byline: str
    standfirst: str = Field(description="The lede, in Markdown.")
    tags: list[Tag]
    version: int = Field(description="The latest version's number.")
    published_at: datetime = Field(description="When the latest version was published.")
    claim_count: int
    withdrawn_at: datetime | None
    withdrawal_reason: str


class PaperDetail(PaperOut):
    versions: list[VersionRef]


class PaperPage(Page):
    results: list[PaperOut]


class SectionOut(BaseModel):
    anchor: str
    heading: str
    body: str = Field(description="The section's text, in Markdown.")


class VersionOut(VersionRef):
    paper: str
    title: str
    byline: str
    standfirst: str
    tags: list[Tag]
    latest: bool = Field(description="Whether this is the paper's latest version.")
    sections: list[SectionOut]
    claims: list[ClaimOut]


class ChangedClaim(BaseModel):
    id: str
    section_heading: str
    changes: list[str] = Field(description="added, removed, reworded, re-assessed…")


class CorrectionOut(BaseModel):
    kind: Literal["correction", "withdrawal"]
    when: datetime
    paper: str
    title: str
    note: str = Field(description="What was corrected, or why the paper was withdrawn.")
    url: str
    version: int | None = Field(description="The correction's version (none for a withdrawal).")
    diff_url: str | None
    summary: list[str]
    claims: list[ChangedClaim]
    more_claims: int = Field(description="Changed claims not listed (see the diff).")


class CorrectionPage(Page):
    results: list[CorrectionOut]


class Index(BaseModel):
    papers: str
    claims: str
    corrections: str
    openapi: str = Field(description="This API's OpenAPI 3 schema.")
    docs: str = Field(description="This API's documentation, for people.")
