"""The review workspace at /review/: a reviewer's assignments, one paper's working draft with its
claims, threads and assessments, and the editors' workflow buttons.

Every page fetches its paper through `permissions.paper_for_review` (404 for anyone outside the
paper's review) and looks claims and comments up within that paper. Every action calls one
`workflow` function and redirects with a message; a `WorkflowError` becomes that message. A page
that updates in place (review.js) posts the same forms asking for JSON (`Accept:
application/json`) and gets the claim's panel and the reviewer's progress re-rendered instead.
A comment the user may not see answers exactly as one that does not exist (papers.independence).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from papers import (
    actions,
    forms,
    independence,
    outcomes,
    permissions,
    workflow,
    workspace,
    workspace_layout,
)
from papers.converters import natural_number
from papers.models import Assignment, Paper, Review

Stage = Paper.Stage


# --- Dashboard --------------------------------------------------------------------------------


@login_required
@require_safe
def dashboard(request):
    """A reviewer's work: to do (reviews in progress, assignments waiting for a round) and done
    (each finished review with what became of its round); editors also see every paper with
    reviewers."""
    editor = permissions.is_editor(request.user)
    papers = []
    if editor:
        papers = sorted(Paper.objects.under_review(), key=lambda p: p.stage != Stage.IN_REVIEW)
    context = {
        "in_progress": list(Review.objects.to_do_of(request.user)),
        "waiting": list(Assignment.objects.filter(reviewer=request.user).waiting()),
        "done": outcomes.attach(list(Review.objects.done_by(request.user))),
        "papers": papers,
        "is_editor": editor,
    }
    return render(request, "review/dashboard.html", context)


# --- A paper's workspace ----------------------------------------------------------------------


@login_required
@require_safe
def paper(request, slug):
    paper = permissions.paper_for_review(request.user, slug)
    part = natural_number(request.GET.get("part"))  # anything else: no part asked
    context = workspace.build(paper, request.user, part)
    return render(request, "review/paper.html", context)


# --- Reviewers' actions -----------------------------------------------------------------------


@login_required
@require_POST
def comment(request, slug, public_id):
    paper = permissions.paper_for_review(request.user, slug)
    claim = _claim_in(paper, public_id, request.user)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        return _answer(request, paper, claim, False, forms.error_message(form))
    parent = None
    if form.cleaned_data["parent"]:
        parent = _comment_in(paper, form.cleaned_data["parent"], request.user)
        if parent is None:
            return _not_found(request, paper)
    body = form.cleaned_data["body"]
    ok, message = _run(
        lambda: workflow.add_comment(claim, by=request.user, body=body, parent=parent),
        "Your reply was added." if parent else "Your comment was added.",
    )
    return _answer(request, paper, claim, ok, message)


@login_required
@require_POST
def resolve(request, slug, comment_id):
    paper = permissions.paper_for_review(request.user, slug)
    comment = _comment_in(paper, comment_id, request.user)
    if comment is None:
        return _not_found(request, paper)
    ok, message = _run(
        lambda: workflow.resolve_thread(comment, by=request.user), "Thread resolved."
    )
    return _answer(request, paper, comment.claim, ok, message)


@login_required
@require_safe
def thread(request, slug, comment_id):
    """A comment's permanent address: the part of the workspace that shows it."""
    paper = permissions.paper_for_review(request.user, slug)
    comment = _comment_in(paper, comment_id, request.user)
    if comment is None:
        return _not_found(request, paper)
    return _back_to(comment.claim, f"comment-{comment.pk}")


@login_required
@require_POST
def assess(request, slug, public_id):
    paper = permissions.paper_for_review(request.user, slug)
    claim = _claim_in(paper, public_id, request.user)
    review = _own_review(paper, request.user)
    form = forms.AssessmentForm(request.POST)
    if review is None:
        ok, message = False, "You have no review of this round in which to assess claims."
    elif form.is_valid():
        data = form.cleaned_data
        ok, message = _run(
            lambda: workflow.assess_claim(
                review, claim, by=request.user, verdict=data["verdict"], note=data["note"]
            ),
            "Your assessment was saved.",
        )
    else:
        ok, message = False, forms.error_message(form)
    return _answer(request, paper, claim, ok, message)


@login_required
@require_POST
def confirm(request, slug):
    """Every verdict carried into the reviewer's open review, confirmed in one action."""
    paper = permissions.paper_for_review(request.user, slug)
    review = _own_review(paper, request.user)
    if review is None:
        messages.error(request, "You have no review of this round in which to confirm verdicts.")
    else:
        try:
            confirmed = workflow.confirm_carried(review, by=request.user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            plural = "" if confirmed == 1 else "s"
            messages.success(request, f"{confirmed} carried verdict{plural} confirmed.")
    return redirect(reverse("review:paper", args=[paper.slug]) + "#review-own-title")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request, slug):
    paper = permissions.paper_for_review(request.user, slug)
    review = _own_review(paper, request.user)
    missing = review.claim_total - review.assessed if review else 0
    if request.method == "POST":
        form = forms.ReviewSubmissionForm(request.POST, missing=missing)
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
                "Your review was submitted. The editors are emailed about it.",
            )
            return redirect("review:paper" if done else "review:submit", paper.slug)
    else:
        form = forms.ReviewSubmissionForm(
            initial={"recommendation": review.recommendation, "summary": review.summary}
            if review
            else None,
            missing=missing,
        )
    context = {"paper": paper, "review": review, "form": form, **workspace.recap(paper, review)}
    return render(request, "review/submit.html", context, status=400 if form.errors else 200)


# --- Editors' workflow actions ----------------------------------------------------------------


@login_required
@require_POST
def workflow_action(request, slug, action):
    """One of the actions of papers/actions.py, which the paper's admin page offers too."""
    paper = permissions.paper_for_review(request.user, slug)
    action_form = actions.ACTIONS.get(action)
    if action_form is None:
        raise Http404("No such action.")
    if not action_form.allowed(request.user):
        permissions.denied(request.user, action, paper.slug)
        raise PermissionDenied(f"{action_form.label} is not yours to do.")
    form = action_form(request.POST, paper=paper, user=request.user)
    if form.is_valid():
        if _attempt(request, form.run):
            for warning in form.warnings:
                messages.warning(request, warning)
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
    """The paper's comment `pk` if the user may see its thread, else None (then answer with
    `_not_found`): a missing id and a hidden thread are logged and answered alike."""
    editor = permissions.is_editor(user)
    comment = independence.visible_comment(paper, user, pk, editor=editor)
    if comment is None:
        permissions.denied(user, "comment outside the paper", f"{paper.slug}/{pk}")
    return comment


def _not_found(request, paper):
    return render(request, "review/not_found.html", {"paper": paper}, status=404)


def _own_review(paper, user):
    return paper.reviews.with_coverage().filter(reviewer=user, round=paper.round).first()


def _run(action, success):
    """(True, `success`) once the workflow call went through, or (False, why it was refused)."""
    try:
        action()
    except workflow.WorkflowError as error:
        return False, str(error)
    return True, success


def _answer(request, paper, claim, ok, message):
    """After an action on a claim: back to its panel with the message or, for a page that
    updates in place, the panel and the reviewer's progress as they are now, in JSON."""
    if "application/json" not in request.headers.get("Accept", ""):
        (messages.success if ok else messages.error)(request, message)
        return _back_to(claim)
    context = workspace.panel(paper, request.user, claim)
    regions = IN_PLACE_REGIONS[: 3 if context["editor"] else 1]
    data = {
        "ok": ok,
        "message": message,
        "claim": claim.public_id,
        "panel": render_to_string("review/_claim.html", context, request).strip(),
        "regions": {
            element_id: render_to_string(template, context, request).strip()
            for element_id, template in regions
        },
    }
    return JsonResponse(data, status=200 if ok else 400)


# The parts of the workspace page, by element id, that an action on a claim may change besides
# its panel: the reviewer's progress, and for editors the coverage and the editor's desk.
IN_PLACE_REGIONS = [
    ("review-own", "review/_own_review.html"),
    ("review-coverage", "review/_coverage.html"),
    ("review-editor-actions", "review/_editor_actions.html"),
]


def _attempt(request, action, success=None):
    """Run one workflow call; its refusal becomes an error message. True if it went through.
    The success message is `success`, or else what the call returns."""
    try:
        result = action()
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success or result)
    return True


def _back_to(claim, fragment=None):
    """The claim's panel (or `fragment` in it), on the part of the workspace that shows it."""
    url = reverse("review:paper", args=[claim.paper.slug])
    part = workspace_layout.part_of(claim)
    query = f"?part={part}" if part > 1 else ""
    return redirect(f"{url}{query}#{fragment or f'claim-note-{claim.public_id}'}")
