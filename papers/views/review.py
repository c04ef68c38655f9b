"""The review workspace at /review/: a reviewer's assignments, one paper's working draft with its
claims, threads and assessments, and the editors' workflow buttons.

Every page fetches its paper through `permissions.paper_for_review` (404 for anyone outside the
paper's review) and looks claims and comments up within that paper. Every action calls one
`workflow` function and redirects with a message; a `WorkflowError` becomes that message.
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from papers import forms, permissions, rendering, verdicts, workflow
from papers.models import Assessment, Assignment, Claim, Comment, Paper, Review

Stage = Paper.Stage
CONCERNS = [Assessment.Verdict.DISPUTED, Assessment.Verdict.NEEDS_SOURCE]


# --- Dashboard --------------------------------------------------------------------------------


@login_required
@require_safe
def dashboard(request):
    editor = permissions.is_editor(request.user)
    papers = []
    if editor:
        papers = sorted(_papers_under_review(), key=lambda p: p.stage != Stage.IN_REVIEW)
    context = {
        "assignments": list(_assignments_of(request.user)),
        "papers": papers,
        "is_editor": editor,
    }
    return render(request, "review/dashboard.html", context)


def _count(queryset):
    """A correlated COUNT of queryset's rows, as an annotation (no GROUP BY on the outer query)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def _assignments_of(user):
    """The user's assignments, with the status of their review of the paper's current round and
    how many claims it has assessed so far."""
    mine = Review.objects.filter(
        paper=OuterRef("paper"), reviewer=user, round=OuterRef("paper__round")
    )
    return (
        Assignment.objects.filter(reviewer=user)
        .for_dashboard()
        .annotate(
            review_status=Subquery(mine.values("status")[:1]),
            assessed=_count(
                Assessment.objects.filter(
                    review__paper=OuterRef("paper"),
                    review__reviewer=user,
                    review__round=OuterRef("paper__round"),
                )
            ),
            claim_total=_count(Claim.objects.filter(paper=OuterRef("paper"))),
        )
    )


def _papers_under_review():
    """Papers in review, and any other paper with reviewers, with their round's progress and
    open concerns (counted as `workflow.open_concern_claims` defines them)."""
    concern = Assessment.objects.filter(
        claim=OuterRef("pk"), review__round=OuterRef(OuterRef("round")), verdict__in=CONCERNS
    )
    unresolved = Comment.objects.filter(claim=OuterRef("pk"), parent=None, resolved_at=None)
    assigned = Assignment.objects.filter(paper=OuterRef("pk"))
    return (
        Paper.objects.filter(Q(stage=Stage.IN_REVIEW) | Exists(assigned))
        .annotate(
            assigned=_count(assigned),
            submitted=_count(
                Review.objects.filter(
                    paper=OuterRef("pk"), round=OuterRef("round"), status=Review.Status.SUBMITTED
                )
            ),
            open_concerns=_count(
                Claim.objects.filter(paper=OuterRef("pk")).filter(
                    Exists(concern), Exists(unresolved)
                )
            ),
        )
        .order_by("-updated_at", "pk")
    )


# --- A paper's workspace ----------------------------------------------------------------------


@login_required
@require_safe
def paper(request, slug):
    paper = permissions.paper_for_review(request.user, slug)
    return render(request, "review/paper.html", _workspace(paper, request.user))


def _workspace(paper, user):
    editor = permissions.is_editor(user)
    round_reviews = list(paper.reviews.filter(round=paper.round).select_related("reviewer"))
    own = next((r for r in round_reviews if r.reviewer_id == user.pk), None)
    # Independent assessment: a reviewer meets the others' verdicts, and the threads they opened
    # this round (an assessment's concern opens one), once their own review is in.
    others_visible = editor or (own is not None and own.is_submitted)
    hidden_authors = set() if others_visible else {r.reviewer_id for r in round_reviews} - {user.pk}
    viewer = {
        "user": user,
        "editor": editor,
        "own": own,
        "others_visible": others_visible,
        "hidden_authors": hidden_authors,
        "can_assess": own is not None
        and own.status == Review.Status.OPEN
        and paper.stage == Stage.IN_REVIEW,
    }
    sections = list(paper.sections.all())
    claims = paper.claims.select_related("section").prefetch_related(
        "tags",
        "sources",
        Prefetch("assessments", Assessment.objects.select_related("review__reviewer")),
        "comments",
    )
    placed, orphans = _arrange(claims)
    section_views = []
    for section in sections:
        items = [_claim_view(claim, number, paper, viewer) for number, claim in placed[section.pk]]
        marks = [item["mark"] for item in items]
        html, _ = rendering.mark_claims(rendering.render_markdown(section.body), marks)
        section_views.append(
            {"section": section, "html": rendering.stored_html(html), "claims": items}
        )
    orphan_views = [_claim_view(claim, None, paper, viewer) for claim in orphans]
    all_items = [item for s in section_views for item in s["claims"]] + orphan_views
    context = {
        "paper": paper,
        "standfirst": rendering.stored_html(paper.standfirst_html),
        "sections": section_views,
        "orphans": orphan_views,
        "claim_total": len(all_items),
        "assessed": sum(1 for item in all_items if item["mine"]),
        "hidden_threads": sum(item["hidden_threads"] for item in all_items),
        "verdicts": Assessment.Verdict.choices,
        "max_text": workflow.MAX_TEXT,
        **viewer,
    }
    if editor:
        context.update(_editor_panel(paper, round_reviews))
    return context


def _arrange(claims):
    """Claims placed in their sections, numbered in reading order, and the orphaned ones."""
    located, orphans = [], []
    for claim in claims:
        if claim.is_orphaned:
            orphans.append(claim)
        else:
            section = claim.section
            located.append(((section.position, section.pk, claim.locate()[0], claim.pk), claim))
    located.sort(key=lambda pair: pair[0])
    placed = defaultdict(list)
    for number, (_, claim) in enumerate(located, start=1):
        placed[claim.section_id].append((number, claim))
    return placed, orphans


def _claim_view(claim, number, paper, viewer):
    user = viewer["user"]
    assessments = list(claim.assessments.all())
    own = viewer["own"]
    mine = next((a for a in assessments if own and a.review_id == own.pk), None)
    earlier = verdicts.latest_per_reviewer(
        [a for a in assessments if a.review.reviewer_id == user.pk and a is not mine]
    )
    submitted = [a for a in assessments if a.review.is_submitted]
    shown = verdicts.latest_per_reviewer(assessments) if viewer["others_visible"] else []
    threads, hidden = _threads(claim, paper, viewer)
    initial = mine or (earlier[0] if earlier else None)
    return {
        "claim": claim,
        "id": claim.public_id,
        "number": number,
        "tags": list(claim.tags.all()),
        "sources": list(claim.sources.all()),
        "note_html": rendering.render_plain(claim.note),
        "mine": mine,
        "earlier": None if mine else initial,
        "initial_verdict": initial.verdict if initial else "",
        "initial_note": mine.note if mine else "",
        "assessments": shown,
        "status": verdicts.summarize(submitted) if viewer["others_visible"] else None,
        "disagree": bool(shown) and verdicts.disagree(shown),
        "threads": threads,
        "open_threads": sum(1 for thread in threads if not thread["root"].is_resolved),
        "hidden_threads": hidden,
        "mark": {
            "id": claim.public_id,
            "number": number,
            "quote": claim.quote,
            "prefix": claim.prefix,
            "suffix": claim.suffix,
            "kind": claim.kind,
            "tags": sorted(tag.slug for tag in claim.tags.all()),
        },
    }


def _threads(claim, paper, viewer):
    """The claim's threads as (first comment, replies), and how many are hidden from the viewer."""
    comments = list(claim.comments.all())
    quote = " ".join(claim.quote.split())
    replies = {}
    for comment in comments:
        comment.body_html = rendering.render_plain(comment.body)
        comment.reworded = " ".join(comment.claim_text.split()) != quote
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    threads, hidden = [], 0
    for root in (c for c in comments if c.parent_id is None):
        if root.author_id in viewer["hidden_authors"] and root.round == paper.round:
            hidden += 1
            continue
        can_resolve = viewer["editor"] or root.author_id == viewer["user"].pk
        threads.append(
            {
                "root": root,
                "replies": replies.get(root.pk, []),
                "can_resolve": can_resolve and not root.is_resolved,
            }
        )
    return threads, hidden


def _editor_panel(paper, round_reviews):
    by_reviewer = {review.reviewer_id: review for review in round_reviews}
    assignments = list(paper.assignments.select_related("reviewer").order_by("assigned_at", "pk"))
    for assignment in assignments:
        assignment.review = by_reviewer.get(assignment.reviewer_id)
    published = paper.live_version_id is not None and paper.withdrawn_at is None
    return {
        "assignments": assignments,
        "assignable": list(forms.assignable_reviewers(paper)),
        "open_concerns": len(workflow.open_concern_claims(paper)),
        "time_zone": timezone.get_current_timezone_name(),
        "can": {
            action: paper.stage in workflow.TRANSITIONS[action][0]
            for action in ("submit", "request_changes", "approve", "publish")
        }
        | {"correct": published, "withdraw": published},
    }


# --- Reviewers' actions -----------------------------------------------------------------------


@login_required
@require_POST
def comment(request, slug, public_id):
    paper = permissions.paper_for_review(request.user, slug)
    claim = _claim_in(paper, public_id, request.user)
    form = forms.CommentForm(request.POST)
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = _comment_in(paper, form.cleaned_data["parent"], request.user)
        _attempt(
            request,
            lambda: workflow.add_comment(
                claim, by=request.user, body=form.cleaned_data["body"], parent=parent
            ),
            "Your reply was added." if parent else "Your comment was added.",
        )
    else:
        messages.error(request, forms.error_message(form))
    return _back_to(claim)


@login_required
@require_POST
def resolve(request, slug, comment_id):
    paper = permissions.paper_for_review(request.user, slug)
    comment = _comment_in(paper, comment_id, request.user)
    _attempt(request, lambda: workflow.resolve_thread(comment, by=request.user), "Thread resolved.")
    return _back_to(comment.claim)


@login_required
@require_POST
def assess(request, slug, public_id):
    paper = permissions.paper_for_review(request.user, slug)
    claim = _claim_in(paper, public_id, request.user)
    review = _own_review(paper, request.user)
    form = forms.AssessmentForm(request.POST)
    if review is None:
        messages.error(request, "You have no review of this round in which to assess claims.")
    elif form.is_valid():
        data = form.cleaned_data
        _attempt(
            request,
            lambda: workflow.assess_claim(
                review, claim, by=request.user, verdict=data["verdict"], note=data["note"]
            ),
            "Your assessment was saved.",
        )
    else:
        messages.error(request, forms.error_message(form))
    return _back_to(claim)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request, slug):
    paper = permissions.paper_for_review(request.user, slug)
    review = _own_review(paper, request.user)
    if request.method == "POST":
        form = forms.ReviewSubmissionForm(request.POST)
        if review is None:
            messages.error(request, "You have no review of this round to submit.")
            return redirect("review:paper", paper.slug)
        if form.is_valid():
            data = form.cleaned_data
            done = _attempt(
                request,
                lambda: workflow.submit_review(
                    review,
                    by=request.user,
                    recommendation=data["recommendation"],
                    summary=data["summary"],
                ),
                "Your review was submitted. The editors have been told.",
            )
            return redirect("review:paper" if done else "review:submit", paper.slug)
    else:
        form = forms.ReviewSubmissionForm(
            initial={"recommendation": review.recommendation, "summary": review.summary}
            if review
            else None
        )
    context = {"paper": paper, "review": review, "form": form, **_recap(paper, review)}
    return render(request, "review/submit.html", context, status=400 if form.errors else 200)


def _recap(paper, review):
    """The reviewer's verdicts, claim by claim in reading order, for the submission page."""
    if review is None:
        return {"recap": [], "assessed": 0}
    mine = {a.claim_id: a for a in review.assessments.all()}
    placed, orphans = _arrange(paper.claims.select_related("section"))
    ordered = sorted((pair for pairs in placed.values() for pair in pairs), key=lambda p: p[0])
    rows = [{"number": n, "claim": c, "assessment": mine.get(c.pk)} for n, c in ordered]
    rows += [{"number": None, "claim": c, "assessment": mine.get(c.pk)} for c in orphans]
    return {"recap": rows, "assessed": sum(1 for row in rows if row["assessment"])}


# --- Editors' workflow actions ----------------------------------------------------------------


def _submit(paper, by, data):
    paper = workflow.submit_paper(paper, by=by)
    return f"Submitted for review: round {paper.round} is open."


def _request_changes(paper, by, data):
    workflow.request_changes(paper, by=by, reason=data["reason"])
    return "Changes requested; the reviewers have been told why."


def _approve(paper, by, data):
    workflow.approve_paper(
        paper, by=by, publish_at=data["publish_at"], override_reason=data["override_reason"]
    )
    return "Approved." + (" It will be published at the time set." if data["publish_at"] else "")


def _publish(paper, by, data):
    version = workflow.publish_paper(
        paper, by=by, note=data["note"], override_reason=data["override_reason"]
    )
    return f"Published as version {version.number}."


def _correct(paper, by, data):
    version = workflow.publish_correction(
        paper, by=by, note=data["note"], override_reason=data["override_reason"]
    )
    return f"Correction published as version {version.number}."


def _withdraw(paper, by, data):
    workflow.withdraw_paper(paper, by=by, reason=data["reason"])
    return "Withdrawn: its address now shows the withdrawal notice."


def _assign(paper, by, data):
    assignment = workflow.assign_reviewer(paper, data["reviewer"], by=by, due_date=data["due_date"])
    return f"{assignment.reviewer.get_username()} is assigned."


def _unassign(paper, by, data):
    workflow.unassign_reviewer(paper, data["reviewer"], by=by)
    return f"{data['reviewer'].get_username()} is no longer assigned."


WORKFLOW_ACTIONS = {
    "submit": (forms.PaperActionForm, _submit),
    "request-changes": (forms.ReasonForm, _request_changes),
    "approve": (forms.ApproveForm, _approve),
    "publish": (forms.PublishForm, _publish),
    "correct": (forms.CorrectionForm, _correct),
    "withdraw": (forms.ReasonForm, _withdraw),
    "assign": (forms.AssignForm, _assign),
    "unassign": (forms.UnassignForm, _unassign),
}


@login_required
@require_POST
def workflow_action(request, slug, action):
    paper = permissions.paper_for_review(request.user, slug)
    if action not in WORKFLOW_ACTIONS:
        raise Http404("No such action.")
    permissions.require_editor(request.user, action.replace("-", " "))
    form_class, act = WORKFLOW_ACTIONS[action]
    form = form_class(request.POST, paper=paper)
    if form.is_valid():
        try:
            messages.success(request, act(paper, request.user, form.cleaned_data))
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, forms.error_message(form))
    return redirect(reverse("review:paper", args=[paper.slug]) + "#review-editor-actions")


# --- Shared steps -----------------------------------------------------------------------------


def _claim_in(paper, public_id, user):
    claim = paper.claims.select_related("section").filter(public_id=public_id).first()
    if claim is None:
        permissions.denied(user, "claim outside the paper", f"{paper.slug}/{public_id}")
        raise Http404("No such claim in this paper.")
    return claim


def _comment_in(paper, pk, user):
    comment = (
        Comment.objects.select_related("claim__paper", "parent")
        .filter(pk=pk, claim__paper=paper)
        .first()
    )
    if comment is None:
        permissions.denied(user, "comment outside the paper", f"{paper.slug}/{pk}")
        raise Http404("No such comment in this paper.")
    return comment


def _own_review(paper, user):
    return paper.reviews.filter(reviewer=user, round=paper.round).first()


def _attempt(request, action, success):
    """Run one workflow call; its refusal becomes an error message. True if it went through."""
    try:
        action()
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success)
    return True


def _back_to(claim):
    url = reverse("review:paper", args=[claim.paper.slug])
    return redirect(f"{url}#claim-note-{claim.public_id}")
