"""Who may do what: pure predicates, and the one place roles are defined.

Roles are the groups made by migration 0002. Nothing here caches: every request asks again,
so removing someone from a group or deactivating them takes effect on their next request.
"""

EDITORS = "Editors"
REVIEWERS = "Reviewers"


def is_editor(user):
    """Active staff in the Editors group, or a superuser: the people who may use the admin."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=EDITORS).exists()


def can_publish(user, paper):
    """Editors holding the publish permission (Editors have it) may publish any paper."""
    return is_editor(user) and user.has_perm("papers.publish_paper")
