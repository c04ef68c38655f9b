"""Who may do what: pure predicates, the fetchers views use, and the roles themselves.

Roles are the groups made by migration 0002. Nothing here caches: every request asks again,
so unassigning a reviewer, removing someone from a group or deactivating them takes effect on
their next request.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404

EDITORS = "Editors"
REVIEWERS = "Reviewers"
EDITOR_PERMISSIONS = [
    *(
        f"papers.{verb}_{model}"
        for model in ("paper", "section", "claim", "tag", "source")
        for verb in ("add", "change", "delete", "view")
    ),
    "papers.view_version",
    "papers.view_event",
    "papers.view_resolution",
    "papers.view_review",
    "papers.view_assessment",
    "papers.view_comment",
    "papers.publish_paper",
    "auth.view_user",  # choosing a paper's authors in the admin looks users up
]

security_log = logging.getLogger("security")


def is_editor(user):
    """Active staff in the Editors group, or a superuser: the people who may use the admin."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=EDITORS).exists()


def is_reviewer(user):
    """Active members of the Reviewers group: the people editors may assign."""
    return user.is_authenticated and user.is_active and user.groups.filter(name=REVIEWERS).exists()


def can_publish(user, paper=None):
    """Editors holding the publish permission (Editors have it) may publish any paper."""
    return is_editor(user) and user.has_perm("papers.publish_paper")


def can_review(user, paper):
    """Editors, and members of the Reviewers group assigned to the paper, may see its draft
    and its threads."""
    if is_editor(user):
        return True
    return is_reviewer(user) and paper.assignments.filter(reviewer=user).exists()


def can_resolve_forecast(user, paper):
    """Editors may record how a paper's forecasts turned out, and so may the reviewers they
    asked: asking one is assigning them to the paper."""
    return can_review(user, paper)


def is_author(user, paper):
    return paper.authors.filter(pk=user.pk).exists()


def paper_for_review(user, slug):
    """The paper behind a review page, or 404 for anyone who may not see it: its existence is
    not revealed to people outside its review."""
    from papers.models import Paper

    paper = Paper.objects.filter(slug=slug).first()
    if paper is None or not can_review(user, paper):
        if paper is not None:
            denied(user, "review page", slug)
        raise Http404("No review of that paper is open to you.")
    return paper


def require_editor(user, what):
    """For actions on pages the user may see but whose action is not theirs: 403."""
    if not is_editor(user):
        denied(user, what, "")
        raise PermissionDenied(f"Only editors may {what}.")


def denied(user, what, target):
    """Failed authorisation attempts are logged for the security team (R27)."""
    who = user.get_username() if user.is_authenticated else "anonymous"
    security_log.warning("authz.denied user=%s action=%s target=%s", who, what, target)


def ensure_roles(group_model, permission_model):
    """Create the Editors and Reviewers groups with their permissions where they are missing.

    Takes the models as arguments so that migrations can pass their historical ones.
    """
    editors, _ = group_model.objects.get_or_create(name=EDITORS)
    for name in EDITOR_PERMISSIONS:
        app_label, codename = name.split(".")
        editors.permissions.add(
            *permission_model.objects.filter(content_type__app_label=app_label, codename=codename)
        )
    group_model.objects.get_or_create(name=REVIEWERS)
