"""Email to the people a workflow step concerns: written once the step's transaction has
committed, and sent by a background task (papers.tasks), so no request waits for SMTP.

Each kind has a template in templates/emails/<kind>.txt whose first line is the subject. A
template that fails to render is logged and never undoes the step that caused it: rendering
happens after the commit too. Each recipient's message is its own task: one that the mail
server refuses or cannot take now is retried with backoff (papers.tasks.retried) without
sending the others twice, and if it still fails editors see it among the failed tasks in the
admin.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from papers.tasks import enqueue_now, retried

log = logging.getLogger(__name__)


def notify(kind, paper, recipients, **context):
    """Queue one email per active recipient with an address, after commit."""
    addresses = sorted({user.email for user in recipients if user.is_active and user.email})
    if not addresses:
        return
    context = {
        "paper": paper,
        "site_url": settings.SITE_URL,
        "review_url": f"{settings.SITE_URL}/review/{paper.slug}/",
        "public_url": f"{settings.SITE_URL}{paper.get_absolute_url()}",
        **context,
    }
    transaction.on_commit(lambda: _queue(kind, context, addresses))


def _queue(kind, context, addresses):
    try:
        subject, _, body = render_to_string(f"emails/{kind}.txt", context).partition("\n")
    except Exception:
        log.exception("Could not write the “%s” email about %s", kind, context["paper"].slug)
        return
    subject, body = subject.strip(), body.strip() + "\n"
    for address in addresses:
        enqueue_now(send_email, subject, body, address)


# A mail server that is down, refuses a connection or answers 4xx raises OSError (smtplib's
# errors are OSErrors): tried 6 times over about half an hour (1, 2, 4, 8 and 16 minutes apart).
@retried(attempts=6, backoff=60, retry_on=(OSError,))
def send_email(subject, body, address):
    """Send one message through Django's mail backend (SMTP in production)."""
    send_mail(subject, body, None, [address])


def queue_password_reset(user):
    """Queue the password-reset email of one account. The worker writes its link when it sends
    it, so no working link waits in the queue's table, and a retried email carries a fresh one.
    Queued at once: asking for a reset writes nothing to wait for."""
    enqueue_now(send_password_reset, user.pk)


@retried(attempts=6, backoff=60, retry_on=(OSError,))
def send_password_reset(user_pk):
    """Send the reset link to an account that can still use one (active, with a password)."""
    user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return
    context = {
        "user": user,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "site_url": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
    }
    # A subject is one line, whatever the template holds.
    subject = " ".join(render_to_string("emails/password_reset_subject.txt", context).split())
    body = render_to_string("emails/password_reset.txt", context)
    send_mail(subject, body, None, [user.email])
