"""What editors do with a working draft besides editing it: share it with someone who has no
account, and put a section back as the live version has it."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from papers import anchoring
from papers.models import Event, Paper, ShareLink
from papers.workflow.base import (
    WorkflowError,
    WrongStage,
    event,
    lock,
    name,
    require_editor,
)
from papers.workflow.content import record_edit

SHARE_DAYS = range(1, 31)  # how long a share link may last, in days
SHARE_DAYS_DEFAULT = 7
LABEL_MAX = ShareLink._meta.get_field("label").max_length


def create_share_link(paper, *, by, days=SHARE_DAYS_DEFAULT, label=""):
    """Editors make a read-only link to a paper's working draft, at any stage, lasting 1 to 30
    days. Returns (link, token): the token is in the link's address and is never stored, so
    this is the only time it can be shown."""
    require_editor(by, "share drafts")
    if days not in SHARE_DAYS:
        raise WorkflowError(
            f"A share link lasts {SHARE_DAYS[0]} to {SHARE_DAYS[-1]} days, not {days}."
        )
    label = " ".join(label.split())[:LABEL_MAX]
    token, token_hash = ShareLink.new_token()
    with transaction.atomic():
        paper = lock(paper)
        link = ShareLink.objects.create(
            paper=paper,
            token_hash=token_hash,
            label=label,
            created_by=by,
            created_by_name=name(by),
            expires_at=timezone.now() + timedelta(days=days),
        )
        event(paper, Event.Action.SHARE, by, note=_describe(link))
    return link, token


def revoke_share_link(link, *, by):
    """Editors revoke a share link that is still open; it answers 404 from then on."""
    require_editor(by, "revoke share links")
    with transaction.atomic():
        links = ShareLink.objects.select_related("paper").select_for_update(of=("self",))
        link = links.get(pk=link.pk)
        if link.revoked_at is not None:
            raise WrongStage("This share link was already revoked.")
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        event(link.paper, Event.Action.UNSHARE, by, note=_describe(link))
    return link


def _describe(link):
    who = f"for “{link.label}”" if link.label else "without a label"
    return f"Link {link.pk} {who}, open until {link.expires_at:%Y-%m-%d %H:%M %Z}."


def revert_section(paper, anchor, *, by):
    """Editors put one section's heading and text back as the live version has them, at any
    stage; its claims are re-anchored in the old text. Returns the re-anchored claims as
    [(claim, outcome)] (see papers.anchoring)."""
    require_editor(by, "revert sections")
    with transaction.atomic():
        paper = lock(paper)
        if paper.live_version_id is None:
            raise WrongStage("This paper has no published version to revert to.")
        version = paper.live_version
        old = next((s for s in version.snapshot["sections"] if s["anchor"] == anchor), None)
        section = paper.sections.filter(anchor=anchor).first()
        if old is None or section is None:
            raise WrongStage(
                f"Only a section in both the draft and version {version.number} can be reverted."
            )
        if (section.heading, section.body) == (old["heading"], old["body"]):
            raise WrongStage(f"This section already reads as in version {version.number}.")
        section.heading, section.body = old["heading"], old["body"]
        section.save()
        outcomes = anchoring.reanchor_section(section)
        # Forms of the paper opened before the revert are stale now (R28).
        Paper.objects.filter(pk=paper.pk).update(lock_version=F("lock_version") + 1)
        what = f"Section “{section.heading}” to its text in version {version.number}"
        event(paper, Event.Action.REVERT, by, version_number=version.number, note=what + ".")
        # While a round is open an edit has consequences of its own (who changed the paper,
        # whether an approval still holds): the same as any other edit's.
        record_edit(paper, by=by, what=what)
    return outcomes
