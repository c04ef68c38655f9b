"""Email to the people a workflow step concerns, written and sent only once its transaction
has committed.

Each kind has a template in templates/emails/<kind>.txt whose first line is the subject. A
template that fails to render, or a failed send, is logged and never undoes the step that
caused it: rendering happens after the commit too.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

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
    transaction.on_commit(lambda: _deliver(kind, context, addresses))


def _deliver(kind, context, addresses):
    try:
        subject, _, body = render_to_string(f"emails/{kind}.txt", context).partition("\n")
    except Exception:
        log.exception("Could not write the “%s” email about %s", kind, context["paper"].slug)
        return
    subject, body = subject.strip(), body.strip() + "\n"
    for address in addresses:
        try:
            send_mail(subject, body, None, [address])
        except Exception:
            log.exception("Could not send “%s” to %s", subject, address)
