"""The review workspace at /review/: a reviewer's assignments, one paper's working draft with its
claims, threads and assessments, and the editors' workflow buttons.

Every page fetches its paper through `permissions.paper_for_review` (404 for anyone outside the
paper's review) and looks claims and comments up within that paper. Every action calls one
`workflow` function and redirects with a message; a `WorkflowError` becomes that message.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from papers import actions, forms, permissions, workflow, workspace
from papers.models import Assignment, Comment, Paper

Stage = Paper.Stage


# --- Dashboard --------------------------------------------------------------------------------


@login_required
@require_safe
def dashboard(request):
    editor = permissions.is_editor(request.user)
    papers = []
    if editor:
        papers = sorted(Paper.objects.under_review(), key=lambda p: p.stage != Stage.IN_REVIEW)
    assignments = Assignment.objects.filter(reviewer=request.user).for_dashboard()
    context = {
        "assignments": list(assignments.with_progress_of(request.user)),
        "papers": papers,
        "is_editor": editor,
    }
    return render(request, "review/dashboard.html", context)


# --- A paper's workspace ----------------------------------------------------------------------


@login_required
@require_safe
def paper(request, slug):
    paper = permissions.paper_for_review(request.user, slug)
    part = request.GET.get("part", "1")
    context = workspace.build(paper, request.user, int(part) if part.isdigit() else 1)
    return render(request, "review/paper.html", context)


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
                "Your review was submitted. The editors are emailed about it.",
            )
            return redirect("review:paper" if done else "review:submit", paper.slug)
    else:
        form = forms.ReviewSubmissionForm(
            initial={"recommendation": review.recommendation, "summary": review.summary}
            if review
            else None
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


def _back_to(claim):
    """The claim's panel, on the part of the workspace that shows it."""
    url = reverse("review:paper", args=[claim.paper.slug])
    part = workspace.part_of(claim)
    query = f"?part={part}" if part > 1 else ""
    return redirect(f"{url}{query}#claim-note-{claim.public_id}")
