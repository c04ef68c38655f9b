"""Who may do what: pure predicates, and the one place roles are defined.

Roles are the groups made by migration 0002. Nothing here caches: every request asks again,
so removing someone from a group or deactivating them takes effect on their next request.
"""

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
    "papers.publish_paper",
    "auth.view_user",  # choosing a paper's authors in the admin looks users up
]


def is_editor(user):
    """Active staff in the Editors group, or a superuser: the people who may use the admin."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=EDITORS).exists()


def can_publish(user, paper):
    """Editors holding the publish permission (Editors have it) may publish any paper."""
    return is_editor(user) and user.has_perm("papers.publish_paper")


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
