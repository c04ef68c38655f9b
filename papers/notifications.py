"""Email to the people a workflow step concerns, sent only once its transaction has committed.

Each kind has a template in templates/emails/<kind>.txt whose first line is the subject. A
failed send is logged and never undoes the step that caused it.
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
    subject, _, body = render_to_string(f"emails/{kind}.txt", context).partition("\n")
    transaction.on_commit(lambda: _deliver(subject.strip(), body.strip() + "\n", addresses))


def _deliver(subject, body, addresses):
    for address in addresses:
        try:
            send_mail(subject, body, None, [address])
        except Exception:
            log.exception("Could not send “%s” to %s", subject, address)
