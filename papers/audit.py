"""The audit log: every Event is written by `record`, with one rule for naming its actor. Workflow
steps (papers.workflow), editors' saves and deletions in the admin, and sign-ins all call it."""

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from papers.models import Event

Action = Event.Action


MAX_NOTE = 10_000


def record(
    action,
    *,
    by,
    paper=None,
    paper_id=None,
    title="",
    from_stage="",
    version_number=None,
    note="",
):
    """One event; `paper_id` and `title` keep a deleted paper's identity. `from_stage` defaults
    to the paper's stage: an event that moves it names where it came from."""
    stage = paper.stage if paper is not None else ""
    return Event.objects.create(
        action=action,
        paper_id=paper.pk if paper is not None else paper_id,
        paper_title=paper.title if paper is not None else title,
        actor=by if by is not None and by.is_authenticated else None,
        actor_name=actor_name(by),
        from_stage=from_stage or stage,
        to_stage=stage,
        version_number=version_number,
        note=note[:MAX_NOTE],
    )


def actor_name(user):
    """How the log, versions and emails name who acted: `None` is the operator at the command
    line (or the scheduler), acting with the machine's authority; an anonymous visitor has no
    name."""
    if user is None:
        return "command line"
    if not user.is_authenticated:
        return ""
    return user.get_full_name() or user.get_username()


def _client(request):
    """The client's address as the lockouts see it (behind a declared proxy, not the proxy's)."""
    return (get_client_ip_address(request) or "") if request is not None else ""


@receiver(user_logged_in, dispatch_uid="papers.audit.signed_in")
def signed_in(sender, request, user, **kwargs):
    record(Action.SIGN_IN, by=user, note=f"from {_client(request)}")


@receiver(user_login_failed, dispatch_uid="papers.audit.sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django scrubs the password from `credentials`; the username is what was typed.
    username = str(credentials.get("username", ""))[:150]
    record(
        Action.SIGN_IN_FAILED,
        by=AnonymousUser(),
        note=f"username “{username}” from {_client(request)}",
    )


@receiver(user_locked_out, dispatch_uid="papers.audit.sign_in_locked_out")
def sign_in_locked_out(sender, request, username, ip_address, **kwargs):
    # django-axes sends this for each sign-in refused by the lock (settings.AXES_*), beside the
    # failed sign-in above. Its address honours the proxy settings, unlike REMOTE_ADDR.
    username = str(username or "")[:150]
    record(
        Action.SIGN_IN_FAILED,
        by=AnonymousUser(),
        note=f"locked out: username “{username}” from {ip_address or ''}",
    )
