"""A paper's sections as editors arrange them: their order, the longest text a section may have,
and the outline of the paper's admin page (each section's size and claims, every claim numbered
in reading order).

Positions are kept 0, 1, 2 … in reading order; editors see and type places counted from 1.
Everything here reads a fixed number of queries whatever the paper's length.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q

from papers import verdicts
from papers.models import Assessment, Review, Section


def check_length(text):
    """Refuse a section text (or a preview of one) longer than the configured maximum."""
    limit = settings.STANDPOINT_MAX_SECTION_CHARS
    if len(text) > limit:
        raise ValidationError(
            "This text has %(length)s characters; a section may have at most %(limit)s. "
            "Split it into several sections.",
            code="too_long",
            params={"length": f"{len(text):,}", "limit": f"{limit:,}"},
        )


def next_position(paper):
    """The position after the paper's last section: where a new section goes."""
    last = paper.sections.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def place_of(section):
    """The section's place in its paper, counted from 1."""
    earlier = Q(position__lt=section.position) | Q(position=section.position, pk__lt=section.pk)
    return Section.objects.filter(earlier, paper_id=section.paper_id).count() + 1


def move(section, place):
    """Put the section at `place` (from 1; beyond the end is the end), the others keeping
    their order around it."""
    with transaction.atomic():
        order = [pk for pk in _locked_order(section.paper_id) if pk != section.pk]
        order.insert(max(place - 1, 0), section.pk)
        _renumber(section.paper_id, order)


def reorder(paper, places):
    """Renumber the paper's sections from {section pk: place typed by the editor}: sections
    sorted by their new place; at equal places a moved section before one left where it was.
    Sections missing from `places` (added meanwhile) keep their place. Returns whether the
    order changed."""
    with transaction.atomic():
        current = _locked_order(paper.pk)
        now = {pk: n for n, pk in enumerate(current, start=1)}
        wanted = {pk: places.get(pk, now[pk]) for pk in current}
        order = sorted(current, key=lambda pk: (wanted[pk], wanted[pk] == now[pk], now[pk]))
        if order == current:
            return False
        _renumber(paper.pk, order)
        return True


def step(paper, section_pk, by):
    """Move one section up (by=-1) or down (by=1) a place; returns whether it moved."""
    with transaction.atomic():
        order = _locked_order(paper.pk)
        if section_pk not in order:
            return False
        at = order.index(section_pk)
        to = at + by
        if not 0 <= to < len(order):
            return False
        order[at], order[to] = order[to], order[at]
        _renumber(paper.pk, order)
        return True


def _locked_order(paper_id):
    sections = Section.objects.filter(paper_id=paper_id).select_for_update()
    return list(sections.order_by("position", "pk").values_list("pk", flat=True))


def _renumber(paper_id, order):
    sections = [Section(pk=pk, paper_id=paper_id, position=n) for n, pk in enumerate(order)]
    Section.objects.bulk_update(sections, ["position"])


# --- The outline of a paper's page ------------------------------------------------------------


@dataclass
class Row:
    """One section in the outline."""

    section: Section
    place: int
    words: int
    claims: int = 0
    orphans: int = 0


@dataclass
class Outline:
    sections: list = field(default_factory=list)  # [Row] in reading order
    claims: list = field(default_factory=list)  # every claim, numbered (`claim.number`)
    orphans: list = field(default_factory=list)  # the orphaned ones among them


def outline(paper):
    """The paper's sections with their size and claims, and its claims in reading order.

    Claims are numbered as the review workspace numbers them (reading order: section, then
    place in its text); orphaned claims follow, numbered on, in section order. Each claim has
    `number`, `status` (its review status, from submitted reviews) and `is_orphan`."""
    sections = list(
        paper.sections.only("pk", "paper_id", "position", "heading", "anchor", "body_text")
    )
    by_pk = {section.pk: section for section in sections}
    claims = paper.claims.only(
        "pk", "paper_id", "section_id", "public_id", "quote", "prefix", "suffix", "orphaned", "kind"
    )
    placed, orphans = [], []
    for claim in claims:
        claim.section = by_pk.get(claim.section_id)
        where = None if claim.orphaned or claim.section is None else claim.locate()
        claim.is_orphan = where is None
        if where is None:
            last = (float("inf"), 0) if claim.section is None else (claim.section.position, 0)
            orphans.append(((*last, claim.pk), claim))
        else:
            placed.append(((claim.section.position, claim.section.pk, where[0], claim.pk), claim))
    ordered = [claim for _, claim in sorted(placed)] + [claim for _, claim in sorted(orphans)]
    verdicts_of = _submitted_assessments(paper, ordered)
    unchecked = verdicts.summarize([])
    for number, claim in enumerate(ordered, start=1):
        claim.number = number
        mine = verdicts_of.get(claim.pk)
        claim.status = verdicts.summarize(mine) if mine else unchecked
    per_section = Counter(claim.section_id for claim in ordered)
    orphaned = Counter(claim.section_id for claim in ordered if claim.is_orphan)
    rows = [
        Row(
            section=section,
            place=place,
            words=len(section.body_text.split()),
            claims=per_section[section.pk],
            orphans=orphaned[section.pk],
        )
        for place, section in enumerate(sections, start=1)
    ]
    return Outline(
        sections=rows, claims=ordered, orphans=[claim for claim in ordered if claim.is_orphan]
    )


def _submitted_assessments(paper, claims):
    """{claim pk: its assessments in submitted reviews}, each knowing its claim: one query, and
    none of the per-claim querysets that prefetch_related would make for every claim."""
    by_pk = {claim.pk: claim for claim in claims}
    found = defaultdict(list)
    submitted = Assessment.objects.filter(
        claim__paper=paper, review__status=Review.Status.SUBMITTED
    ).select_related("review")
    for assessment in submitted:
        assessment.claim = by_pk[assessment.claim_id]  # for is_stale, without a query
        found[assessment.claim_id].append(assessment)
    return found
