"""What the review workspace shows: a paper's working draft with its claims, each with its
sources, verdicts and threads as the viewer may see them.

Where each claim sits, and which part of a long paper shows it, is papers.workspace_layout;
independent assessment (who sees whose work) is papers.independence; what changed since earlier
rounds, and where the viewer's own review stands, papers.workspace_rounds.
"""

import functools

from django.db.models import Prefetch, Q
from django.utils import dates, timezone

from papers import (
    actions,
    claim_marks,
    independence,
    permissions,
    rendering,
    similarity,
    verdicts,
    workflow,
    workspace_layout,
    workspace_rounds,
)
from papers.models import Assessment, Comment, Paper, Review

Stage = Paper.Stage


def build(paper, user, part=None):
    """The workspace context of `part` (1-based; out of range is the nearest part). Without a
    part, the workspace opens on the part of the viewer's first claim that needs attention."""
    viewer = _viewer(paper, user)
    placed, orphans, parts = workspace_layout.layout(paper)
    overview = _overview(paper, viewer, placed, orphans, parts)
    if part is None:
        attention = overview["progress"]["attention"]
        part = attention["part"] if attention else 1
    part = min(max(part, 1), len(parts))
    shown = parts[part - 1]
    orphans_shown = orphans if part == len(parts) else []
    claims = _with_details(paper, [c for s in shown for _, c in placed[s.pk]] + orphans_shown)
    section_views = []
    for section in shown:
        items = [_claim_view(claims[c.pk], n, paper, viewer) for n, c in placed[section.pk]]
        marks = [item["mark"] for item in items]
        html, _ = claim_marks.mark_claims(section.body_html, marks)
        section_views.append(
            {
                "section": section,
                "html": rendering.stored_html(html),
                "claims": items,
                "changes": workspace_rounds.section_changes(section, viewer["bases"]),
            }
        )
    orphan_views = [_claim_view(claims[c.pk], None, paper, viewer) for c in orphans_shown]
    _with_similar([*(i for s in section_views for i in s["claims"]), *orphan_views], paper)
    context = {
        "standfirst": rendering.stored_html(paper.standfirst_html),
        "sections": section_views,
        "orphans": orphan_views,
        "orphan_total": len(orphans),
        "part": part,
        "parts": workspace_layout.navigation(parts, placed),
        **overview,
    }
    if viewer["editor"]:
        context.update(_editor_panel(paper, viewer["round_reviews"], user))
    return context


def panel(paper, user, claim):
    """One claim's panel, the viewer's progress and (for editors) the editor's desk, as `build`
    shows them: what a page that is updated in place needs after an action on the claim."""
    viewer = _viewer(paper, user)
    placed, orphans, parts = workspace_layout.layout(paper)
    number, located = next(
        ((n, c) for pairs in placed.values() for n, c in pairs if c.pk == claim.pk),
        (None, next((c for c in orphans if c.pk == claim.pk), claim)),
    )
    detailed = _with_details(paper, [located])[claim.pk]
    item = _claim_view(detailed, number, paper, viewer)
    _with_similar([item], paper)
    context = {
        "item": item,
        **_overview(paper, viewer, placed, orphans, parts),
    }
    if viewer["editor"]:
        context.update(_editor_panel(paper, viewer["round_reviews"], user))
    return context


def _overview(paper, viewer, placed, orphans, parts):
    """What every view of the workspace shares: the viewer, their progress, the totals."""
    own = viewer["own"]
    progress = {"carried": 0, "attention": None, "attention_total": 0}
    if viewer["can_assess"]:
        progress = workspace_rounds.progress(
            own,
            workspace_layout.reading_order(placed, orphans),
            workspace_layout.parts_of_claims(placed, parts, orphans),
        )
    return {
        "paper": paper,
        "claim_total": sum(len(pairs) for pairs in placed.values()) + len(orphans),
        "assessed": own.assessed if own is not None else 0,
        "progress": progress,
        "hidden_threads": _hidden_threads(paper, viewer),
        "verdicts": Assessment.Verdict.choices,
        "max_text": workflow.MAX_TEXT,
        **viewer,
    }


def recap(paper, review):
    """The reviewer's verdicts, claim by claim in reading order with the part that shows each,
    for the submission page. `review` comes `with_coverage()`."""
    if review is None:
        return {"recap": [], "assessed": 0}
    placed, orphans, parts = workspace_layout.layout(paper)
    ordered = workspace_layout.reading_order(placed, orphans)
    claims = {claim.pk: claim.instance() for _, claim in ordered}
    mine = {}
    for assessment in review.assessments.all():
        assessment.claim = claims[assessment.claim_id]  # for is_stale, without a query each
        mine[assessment.claim_id] = assessment
    part = workspace_layout.parts_of_claims(placed, parts, orphans)
    rows = [
        {"number": n, "claim": claims[c.pk], "assessment": mine.get(c.pk), "part": part[c.pk]}
        for n, c in ordered
    ]
    return {"recap": rows, "assessed": review.assessed, "missing": len(rows) - review.assessed}


def _viewer(paper, user):
    editor = permissions.is_editor(user)
    # This round's reviews, with the viewer's own earlier ones: the round they last reviewed is
    # what the draft is compared with.
    reviews = list(
        paper.reviews.filter(
            Q(round=paper.round)
            | Q(reviewer=user, round__lt=paper.round, status=Review.Status.SUBMITTED)
        )
        .with_coverage()
        .select_related("reviewer")
    )
    round_reviews = [r for r in reviews if r.round == paper.round]
    own = next((r for r in round_reviews if r.reviewer_id == user.pk), None)
    reviewed = max((r.round for r in reviews if r.round < paper.round), default=None)
    last_round = reviewed or (paper.round - 1 if editor else None)
    in_review = paper.stage == Stage.IN_REVIEW
    bases = workspace_rounds.baselines(
        paper, last_round=last_round, reviewed=reviewed is not None, in_review=in_review
    )
    return {
        "user": user,
        "editor": editor,
        "own": own,
        "round_reviews": round_reviews,
        "others_visible": independence.others_visible(own, editor=editor),
        "hidden_authors": independence.hidden_authors(user, round_reviews, editor=editor),
        "can_assess": own is not None and own.status == Review.Status.OPEN and in_review,
        "last_round": last_round,
        "bases": bases,
    }


def _with_details(paper, claims):
    """The claims shown, by pk, with everything their panels show, in a fixed number of queries."""
    detailed = paper.claims.filter(pk__in=[claim.pk for claim in claims]).prefetch_related(
        "tags",
        "sources",
        Prefetch("assessments", Assessment.objects.select_related("review__reviewer")),
        "comments",
    )
    sections = {claim.pk: claim.section for claim in claims if claim.section_id}
    by_pk = {}
    for claim in detailed:
        if claim.section_id is not None:
            claim.section = sections.get(claim.pk)
        by_pk[claim.pk] = claim
    return by_pk


def _with_similar(items, paper):
    """Each claim shown with the published claims of other papers that resemble it, all looked
    up at once (papers.similarity)."""
    texts = {item["id"]: item["claim"].quote for item in items}
    found = similarity.similar_to_claims(texts, paper_id=paper.pk)
    for item in items:
        item["similar"] = found.get(item["id"], [])
        item["similar_flag"] = similarity.flag(item["similar"])


def _hidden_threads(paper, viewer):
    """Threads other reviewers opened this round, which the viewer meets after submitting."""
    if not viewer["hidden_authors"]:
        return 0
    return Comment.objects.filter(
        claim__paper=paper,
        parent=None,
        round=paper.round,
        author_id__in=viewer["hidden_authors"],
    ).count()


def _claim_view(claim, number, paper, viewer):
    user = viewer["user"]
    assessments = list(claim.assessments.all())
    own = viewer["own"]
    mine = next((a for a in assessments if own and a.review_id == own.pk), None)
    earlier_own = [a for a in assessments if a.review.reviewer_id == user.pk and a is not mine]
    earlier = verdicts.latest_per_reviewer(earlier_own)
    submitted = [a for a in assessments if a.review.is_submitted]
    shown = verdicts.latest_per_reviewer(assessments) if viewer["others_visible"] else []
    threads = _threads(claim, paper, viewer)
    initial = mine or (earlier[0] if earlier else None)
    own_texts = {a.review.round: a.claim_text for a in earlier_own}
    # A verdict of this round that repeats the reviewer's last one on the same words: carried
    # and confirmed, or reached again.
    kept = (
        mine is not None
        and mine.carried_from is None
        and bool(earlier)
        and (earlier[0].verdict, earlier[0].claim_hash) == (mine.verdict, mine.claim_hash)
    )
    return {
        "claim": claim,
        "id": claim.public_id,
        "number": number,
        "tags": list(claim.tags.all()),
        "sources": list(claim.sources.all()),
        "note_html": _plain(claim.note),
        "mine": mine,
        "carried": mine.carried_from if mine else None,
        "kept_from": earlier[0].review.round if kept else None,
        "attention": viewer["can_assess"]
        and (mine is None or mine.carried_from is not None or mine.is_stale),
        "earlier": None if mine else initial,
        "initial_verdict": initial.verdict if initial else "",
        "initial_note": mine.note if mine else "",
        "assessments": shown,
        "status": verdicts.summarize(submitted) if viewer["others_visible"] else None,
        "disagree": bool(shown) and verdicts.disagree(shown),
        "threads": threads,
        "open_threads": sum(1 for thread in threads if not thread["root"].is_resolved),
        "changes": workspace_rounds.claim_changes(claim, viewer["bases"], own_texts),
        "mark": claim_marks.claim_mark(claim, number),
    }


def _threads(claim, paper, viewer):
    """The claim's threads the viewer may see, as (first comment, replies)."""
    comments = list(claim.comments.all())
    quote = " ".join(claim.quote.split())
    replies = {}
    for comment in comments:
        comment.body_html = _plain(comment.body)
        comment.reworded = " ".join(comment.claim_text.split()) != quote
        comment.time_attribute, comment.time_shown = _times(comment.created_at)
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    threads = []
    for root in (c for c in comments if c.parent_id is None):
        if independence.is_hidden(root, paper, viewer["hidden_authors"]):
            continue
        can_resolve = viewer["editor"] or root.author_id == viewer["user"].pk
        threads.append(
            {
                "root": root,
                "comments": [root, *replies.get(root.pk, [])],
                "can_resolve": can_resolve and not root.is_resolved,
            }
        )
    return threads


def _times(moment):
    """A comment's time in the current time zone as its <time> element gives it: the datetime
    attribute and the text shown, as |date:"Y-m-d\\TH:i:sO" and |date:"j M Y, H:i" would.
    Formatted here because a part shows about 150 comments, and those filters are the slowest
    step of rendering them."""
    local = timezone.localtime(moment)
    offset = int(local.utcoffset().total_seconds())
    sign, offset = "-" if offset < 0 else "+", abs(offset)
    day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    hour = f"{local.hour:02d}:{local.minute:02d}"
    zone = f"{sign}{offset // 3600:02d}{offset // 60 % 60:02d}"
    month = str(dates.MONTHS_3[local.month]).title()
    return f"{day}T{hour}:{local.second:02d}{zone}", f"{local.day} {month} {local.year:04d}, {hour}"


def _plain(text):
    """Plain text as HTML (rendering.render_plain), remembered for short texts: comments are
    never edited, and finding the links in them is the slowest step of a workspace page."""
    return _remembered_plain(text) if len(text) <= 2_000 else rendering.render_plain(text)


_remembered_plain = functools.lru_cache(maxsize=4_096)(rendering.render_plain)


def _editor_panel(paper, round_reviews, user):
    by_reviewer = {review.reviewer_id: review for review in round_reviews}
    assignments = list(paper.assignments.select_related("reviewer").order_by("assigned_at", "pk"))
    for assignment in assignments:
        assignment.review = by_reviewer.get(assignment.reviewer_id)
    return {
        "assignments": assignments,
        "assignable": list(actions.assignable_reviewers(paper)),
        "open_concerns": len(workflow.open_concern_claims(paper)),
        "time_zone": timezone.get_current_timezone_name(),
        "workflow_actions": actions.offered(paper, user),
    }
