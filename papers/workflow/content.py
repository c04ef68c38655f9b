"""What reviewers vouch for, and what happens when it changes: the fingerprint of a paper's
reviewable content, and `record_edit`, which every path that saves that content calls.

Reviewable content: the title, the standfirst, the paper's tags, the sections in order (anchor,
heading, text) and the claims (words with their context, kind, note, tags and sources). The
byline, the slug and anything about the review itself are not part of it.

An edit while a paper is approved puts it back in review in the same round. Reviews already
submitted stay submitted: their reviewers are emailed what changed, and a verdict given on
words that have changed since no longer counts towards coverage (`Review.with_coverage`), so an
editor who did not change the paper approves it again, or asks for changes to open a new round.
"""

import hashlib
import json

from django.contrib.auth import get_user_model
from django.db import transaction

from papers import evidence, snapshots
from papers.models import Event, Review
from papers.notifications import notify
from papers.workflow.base import Stage, WrongStage, event, lock, name

User = get_user_model()

# While a round is open, who edits is recorded (four eyes) and an approval can be undone.
ROUND_OPEN = (Stage.IN_REVIEW, Stage.APPROVED)
CHANGES_LISTED = 12  # at most this many changes are named in an event or an email
# A claim's parts, as the changes name them.
CLAIM_PARTS = [
    ("words", "reworded"),
    ("kind", "kind"),
    ("note", "note"),
    ("tags", "tags"),
    ("sources", "sources"),
    ("forecast", "forecast"),
]


def fingerprint(paper):
    """SHA-256 of the paper's reviewable content as it is now."""
    return digest(content(snapshots.paper_document(paper)))


def matches_approval(paper):
    """The paper's content is what its approval approved."""
    return bool(paper.approved_fingerprint) and fingerprint(paper) == paper.approved_fingerprint


def require_approved_content(paper):
    """Publishing an approved paper: the last guard, whichever path changed its content."""
    if not paper.approved_fingerprint:
        raise WrongStage(
            "This paper's approval does not record what was approved (it predates that "
            "record): request changes and approve it again before publishing."
        )
    if not matches_approval(paper):
        raise WrongStage(
            "The paper's content changed after it was approved: it must be approved again "
            "before it is published."
        )


def digest(reviewable):
    """SHA-256 of reviewable content (see `content`) as canonical JSON."""
    canonical = json.dumps(reviewable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def content(document):
    """The reviewable part of a paper document (the format of papers.snapshots), in a canonical
    order: claims by id, sources and tags sorted, line ends and outer spaces normalised."""
    names = {tag["slug"]: tag.get("name", "") for tag in document.get("taxonomy", [])}

    def tags(slugs):
        return [[slug, names.get(slug, "")] for slug in sorted(slugs)]

    claims = [
        {
            "id": claim["id"],
            # A claim moved to another section is reworded as much as one with new words.
            "words": [_text(claim.get(key)) for key in ("section", "quote", "prefix", "suffix")],
            "kind": claim.get("kind", ""),
            "note": _text(claim.get("note")),
            "tags": tags(claim.get("tags", [])),
            "sources": sorted(_source(source) for source in claim.get("sources", [])),
            **_forecast(claim),
        }
        for claim in document.get("claims", [])
    ]
    return {
        "title": _text(document.get("title")),
        "standfirst": _text(document.get("standfirst")),
        "tags": tags(document.get("tags", [])),
        "sections": [
            [section["anchor"], _text(section["heading"]), _text(section["body"])]
            for section in document.get("sections", [])
        ],
        "claims": sorted(claims, key=lambda claim: claim["id"]),
    }


def _source(source):
    """A cited source as reviewed: how the claim uses it counts too, but "supports" (what every
    source meant before uses were recorded) adds nothing, so approvals from before stay valid."""
    reviewed = [_text(source.get(key)) for key in ("title", "url", "publisher", "date", "quote")]
    use = evidence.use_of(source)
    return reviewed if use == evidence.Use.SUPPORTS else [*reviewed, use.value]


def _forecast(claim):
    """A forecast's date and criteria are reviewed too; a claim with neither adds nothing, so
    approvals from before forecasts existed stay valid."""
    due, criteria = _text(claim.get("due")), _text(claim.get("resolves_when"))
    return {"forecast": [due, criteria]} if due or criteria else {}


def _text(value):
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def changes(old, new):
    """What differs from reviewable content `old` to `new`, as short phrases: “title”,
    “section “Background””, “claim abc123 reworded, sources”…"""
    found = [what for what in ("title", "standfirst", "tags") if old[what] != new[what]]
    old_sections = {anchor: (heading, body) for anchor, heading, body in old["sections"]}
    new_sections = {anchor: (heading, body) for anchor, heading, body in new["sections"]}
    for anchor, heading, body in new["sections"]:
        if anchor not in old_sections:
            found.append(f"section “{heading}” added")
        elif old_sections[anchor] != (heading, body):
            found.append(f"section “{heading}”")
    found += [
        f"section “{heading}” removed"
        for anchor, heading, _ in old["sections"]
        if anchor not in new_sections
    ]
    kept = [anchor for anchor, *_ in new["sections"] if anchor in old_sections]
    if kept != [anchor for anchor, *_ in old["sections"] if anchor in new_sections]:
        found.append("sections reordered")
    old_claims = {claim["id"]: claim for claim in old["claims"]}
    new_ids = {claim["id"] for claim in new["claims"]}
    for claim in new["claims"]:
        before = old_claims.get(claim["id"])
        if before is None:
            found.append(f"claim {claim['id']} added")
            continue
        what = [label for key, label in CLAIM_PARTS if before.get(key) != claim.get(key)]
        if what:
            found.append(f"claim {claim['id']} {', '.join(what)}")
    found += [f"claim {id_} removed" for id_ in old_claims if id_ not in new_ids]
    return found


def summarize(found):
    """The changes as one line, the first few named."""
    if not found:
        return ""
    shown = "; ".join(found[:CHANGES_LISTED])
    more = len(found) - CHANGES_LISTED
    return f"{shown}; and {more} more" if more > 0 else shown


def record_edit(paper, *, by, what=""):
    """Called by every path that saved a paper's reviewable content (the admin, imports,
    reverts), after saving, in its transaction. While a round is open, `by` becomes one of its
    editors, who may not approve or publish it. An approved paper whose content no longer
    matches its approval goes back in review in the same round, with a REOPEN event naming
    what changed, and its reviewers and approving editor are emailed. `what` is the caller's
    account of the edit, used when the change cannot be worked out from the round's text."""
    with transaction.atomic():
        paper = lock(paper)
        if paper.stage not in ROUND_OPEN:
            return paper
        round_ = paper.rounds.filter(number=paper.round).first()
        if round_ is not None and by is not None and by.is_authenticated:
            round_.editors.add(by)
        if paper.stage != Stage.APPROVED:
            return paper
        document = snapshots.paper_document(paper)
        now = content(document)
        if digest(now) == paper.approved_fingerprint:
            return paper
        found = changes(content(round_.snapshot), now) if round_ is not None else []
        note = summarize(found) or what or "the reviewable content changed"
        approval = paper.events.filter(action=Event.Action.APPROVE).order_by("-pk").first()
        paper.stage = Stage.IN_REVIEW
        paper.publish_at = None
        paper.approved_fingerprint = ""
        paper.save(update_fields=["stage", "publish_at", "approved_fingerprint", "updated_at"])
        event(paper, Event.Action.REOPEN, by, from_stage=Stage.APPROVED, note=note)
        notify(
            "reopened",
            paper,
            [*_reviewers_of_round(paper), *_approver(approval)],
            by_name=name(by),
            changes=found or [note],
            against_round=bool(found),
        )
    return paper


def record_shared_edit(papers, *, by, what):
    """`record_edit` for each of `papers` (a queryset) whose round is open: after an edit of
    something papers share, a source or a tag. One query finds them."""
    for paper in papers.filter(stage__in=ROUND_OPEN).distinct().order_by("pk"):
        record_edit(paper, by=by, what=what)


def authors_fixed(paper):
    """A paper's authors cannot change while its round is open: four eyes rests on them."""
    return paper.stage in ROUND_OPEN


def _reviewers_of_round(paper):
    """Reviewers of the round still assigned to the paper (those unassigned lost access)."""
    reviews = paper.reviews.filter(
        round=paper.round, reviewer__in=paper.assignments.values("reviewer")
    ).exclude(status=Review.Status.CLOSED)
    return [review.reviewer for review in reviews.select_related("reviewer")]


def _approver(approval):
    if approval is None or approval.actor_id is None:
        return []
    return list(User.objects.filter(pk=approval.actor_id))
