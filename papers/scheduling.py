"""Periodic work of the editorial workflow, run by the task workers (settings.PERIODIC_TASKS)."""

import logging

from papers import workflow
from papers.tasks import retried

log = logging.getLogger(__name__)


@retried(attempts=3, backoff=30)
def publish_due_papers():
    """Publish approved papers whose time has come, as `manage.py publish_scheduled` does; the
    result lists what was published and what was refused (a refused paper stays approved and is
    tried again at the next run)."""
    published, refused = workflow.publish_due()
    for paper, reason in refused:
        log.warning("publish.refused", extra={"paper": paper.slug, "reason": reason})
    return {
        "published": [f"{v.paper.slug} v{v.number}" for v in published],
        "refused": [{"paper": paper.slug, "reason": reason} for paper, reason in refused],
    }


@retried(attempts=3, backoff=60)
def notify_due_forecasts():
    """Tell the editors of each paper whose forecast has come due, once per forecast."""
    told = workflow.notify_due_forecasts()
    return {"notified": [forecast.public_id for forecast in told]}
