"""Where each claim of a paper sits in the review workspace: placed in its section and numbered
in reading order, or orphaned (its words no longer found), and which part of the paper shows it.

A long paper is shown in parts of whole sections holding about CLAIMS_PER_PART claims, so a page
costs the same few queries and milliseconds whatever the paper's length; claims keep their
numbers from the whole paper. The orphaned claims come last, on the last part. The layout reads
every claim of the paper, as light rows; papers.workspace fetches the rest for the claims shown.
"""

from collections import defaultdict

from django.db import router

from papers import rendering
from papers.models import Claim

CLAIMS_PER_PART = 30


def layout(paper):
    """Where each claim is: (claims placed per section, orphaned claims, parts of sections)."""
    sections = list(paper.sections.all())
    placed, orphans = _arrange(paper, sections)
    return placed, orphans, _parts(sections, placed)


def part_of(claim):
    """The part of the workspace that shows `claim`."""
    placed, orphans, parts = layout(claim.paper)
    return parts_of_claims(placed, parts, orphans)[claim.pk]


def parts_of_claims(placed, parts, orphans):
    """The part that shows each claim, by pk: orphaned claims are on the last."""
    found = {
        claim.pk: number
        for number, sections in enumerate(parts, start=1)
        for section in sections
        for _, claim in placed[section.pk]
    }
    return found | {claim.pk: len(parts) for claim in orphans}


def reading_order(placed, orphans):
    """[(number, claim)] through the whole paper, orphaned claims (numbered None) last."""
    ordered = sorted((pair for pairs in placed.values() for pair in pairs), key=lambda p: p[0])
    return ordered + [(None, claim) for claim in orphans]


def navigation(parts, placed):
    """The parts for the workspace's navigation (shown only when there are several)."""
    contents, first = [], 1
    for number, sections in enumerate(parts, start=1):
        claims = sum(len(placed[section.pk]) for section in sections)
        contents.append(
            {
                "number": number,
                "sections": sections,
                "first_claim": first if claims else None,
                "last_claim": first + claims - 1 if claims else None,
            }
        )
        first += claims
    return contents


def _arrange(paper, sections):
    """Claims placed in their sections, numbered in reading order, and the orphaned ones. Reads
    only what placing needs; papers.workspace fetches the rest for the claims shown."""
    by_pk = {section.pk: section for section in sections}
    # Rows, not model instances: a long paper has hundreds of claims and a page shows a part.
    rows = Claim.objects.filter(paper_id=paper.pk).values_list(*_Placed.FIELDS)
    located, orphans = [], []
    for values in rows:
        claim = _Placed(values, by_pk)
        if claim.place is None:
            orphans.append(claim)
        else:
            section = claim.section
            located.append(((section.position, section.pk, claim.place[0], claim.pk), claim))
    located.sort(key=lambda pair: pair[0])
    placed = defaultdict(list)
    for number, (_, claim) in enumerate(located, start=1):
        placed[claim.section_id].append((number, claim))
    return placed, orphans


class _Placed:
    """A claim as the layout needs it (where it is, and what finds it): far lighter than a model
    instance, and the layout reads every claim of the paper."""

    # In the model's field order, as Model.from_db wants them.
    FIELDS = tuple(
        field.attname
        for field in Claim._meta.concrete_fields
        if field.attname
        in {"id", "paper_id", "section_id", "public_id", "quote", "prefix", "suffix", "orphaned"}
    )
    __slots__ = ("values", "pk", "section_id", "section", "public_id", "quote", "place")

    def __init__(self, values, sections):
        self.values = values
        row = dict(zip(self.FIELDS, values, strict=True))
        self.pk, self.section_id, self.public_id = row["id"], row["section_id"], row["public_id"]
        self.quote = row["quote"]
        self.section = sections[self.section_id] if self.section_id is not None else None
        # Where Claim.locate finds the words; None for an orphaned claim.
        self.place = None
        if self.section is not None and not row["orphaned"]:
            self.place = rendering.locate_quote(
                self.section.body_text, self.quote, row["prefix"], row["suffix"]
            )

    def instance(self):
        """The claim as a model instance with only these fields loaded, as .only() gives it."""
        claim = Claim.from_db(router.db_for_read(Claim), self.FIELDS, self.values)
        claim.section = self.section
        return claim


def _parts(sections, placed):
    """Consecutive sections grouped into parts of about CLAIMS_PER_PART claims (a section is
    never split); at least one part, even for a paper without sections."""
    parts, current, count = [], [], 0
    for section in sections:
        claims = len(placed[section.pk])
        if current and count + claims > CLAIMS_PER_PART:
            parts.append(current)
            current, count = [], 0
        current.append(section)
        count += claims
    parts.append(current)
    return parts
