"""Audit events for what is not a workflow step: editors' saves and deletions in the admin, and
sign-ins. Workflow steps write their own events (papers.workflow)."""

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from papers.models import Event

Action = Event.Action


def record(action, *, by, paper=None, paper_id=None, title="", note=""):
    """One event; `paper_id` and `title` keep a deleted paper's identity."""
    return Event.objects.create(
        action=action,
        paper_id=paper.pk if paper is not None else paper_id,
        paper_title=paper.title if paper is not None else title,
        actor=by if by is not None and by.is_authenticated else None,
        actor_name=(by.get_full_name() or by.get_username()) if by is not None else "",
        from_stage=paper.stage if paper is not None else "",
        to_stage=paper.stage if paper is not None else "",
        note=note[:1000],
    )


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
    record(Action.SIGN_IN_FAILED, by=None, note=f"username “{username}” from {_client(request)}")


@receiver(user_locked_out, dispatch_uid="papers.audit.sign_in_locked_out")
def sign_in_locked_out(sender, request, username, ip_address, **kwargs):
    # django-axes sends this for each sign-in refused by the lock (settings.AXES_*), beside the
    # failed sign-in above. Its address honours the proxy settings, unlike REMOTE_ADDR.
    username = str(username or "")[:150]
    record(
        Action.SIGN_IN_FAILED,
        by=None,
        note=f"locked out: username “{username}” from {ip_address or ''}",
    )
