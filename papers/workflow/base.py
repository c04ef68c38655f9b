"""What every workflow step shares: its errors, the table of stage transitions, and the steps
that check who acts and lock, move and log the paper."""

from django.contrib.auth import get_user_model

from papers import audit, permissions
from papers.models import Event, Paper

Stage = Paper.Stage
User = get_user_model()

# action: (stages it may start from, stage it leaves the paper in)
TRANSITIONS = {
    "submit": ({Stage.DRAFT, Stage.CHANGES_REQUESTED}, Stage.IN_REVIEW),
    "request_changes": ({Stage.IN_REVIEW, Stage.APPROVED}, Stage.CHANGES_REQUESTED),
    "approve": ({Stage.IN_REVIEW}, Stage.APPROVED),
    "publish": ({Stage.APPROVED}, Stage.DRAFT),
}
ACTION_WORDS = {
    "submit": "submitted for review",
    "request_changes": "sent back for changes",
    "approve": "approved",
    "publish": "published",
}
MAX_TEXT = 10_000


class WorkflowError(Exception):
    """The action is not allowed now; the message tells the person why."""


class NotAllowed(WorkflowError):
    """The actor may not take this action (on this paper), whatever its stage."""


class WrongStage(WorkflowError):
    """The action does not apply to the paper as it is now: its stage, round or content."""


def require_editor(user, what):
    if user is not None and not permissions.is_editor(user):
        permissions.denied(user, what, "")
        raise NotAllowed(f"Only editors may {what}.")


def require_publisher(user, what):
    if user is not None and not permissions.can_publish(user):
        permissions.denied(user, what, "")
        raise NotAllowed(f"You do not have permission to {what}.")


def require_reviewer_of(user, paper):
    if user is None or not permissions.can_review(user, paper):
        if user is not None:
            permissions.denied(user, "take part in a review", paper.slug)
        raise NotAllowed("You are not a reviewer or editor of this paper.")


def lock(paper):
    return Paper.objects.select_for_update().get(pk=paper.pk)


def check_stage(paper, action):
    allowed, _ = TRANSITIONS[action]
    if paper.stage not in allowed:
        raise WrongStage(
            f"A paper that is “{paper.get_stage_display().lower()}” cannot be "
            f"{ACTION_WORDS[action]}; it must be "
            f"{' or '.join(f'“{Stage(s).label.lower()}”' for s in sorted(allowed))}."
        )
    return paper.stage


def move(paper, action, extra=()):
    paper.stage = TRANSITIONS[action][1]
    paper.save(update_fields=["stage", "updated_at", *extra])


def event(paper, action, by, *, from_stage="", version_number=None, note=""):
    return audit.record(
        action,
        by=by,
        paper=paper,
        from_stage=from_stage,
        version_number=version_number,
        note=note,
    )


def text(value, what):
    value = (value or "").strip()
    if not value:
        raise WorkflowError(f"{what} cannot be empty.")
    if len(value) > MAX_TEXT:
        raise WorkflowError(f"{what} is too long (at most {MAX_TEXT:,} characters).")
    return value


def editors_of(paper):
    """Who hears about a paper's progress: its authors with accounts, and the editor who last
    submitted it for review."""
    submitter = paper.events.filter(action=Event.Action.SUBMIT).order_by("-pk").first()
    people = list(paper.authors.all())
    if submitter is not None and submitter.actor_id:
        people.extend(User.objects.filter(pk=submitter.actor_id))
    return people


def reviewers_of(paper):
    return [a.reviewer for a in paper.assignments.select_related("reviewer")]


name = audit.actor_name
