"""Every change of a paper's public state is a function here, shared by the admin and commands.

Each one checks the actor's permission, runs in one transaction and writes one Event.
`by=None` stands for an operator at the command line, who acts with the machine's authority.
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from papers import permissions, rendering, snapshots
from papers.models import Event, Paper, Version


class WorkflowError(Exception):
    """The action is not allowed now; the message tells the person why."""


def publish_paper(paper, *, by, note="", correction=False):
    """Editors with the publish permission publish a paper whose claims all still match their
    sections' text, as version N+1 that readers see from now on. Returns the version."""
    if by is not None and not permissions.can_publish(by, paper):
        raise WorkflowError("You do not have permission to publish papers.")
    with transaction.atomic():
        paper = Paper.objects.select_for_update().get(pk=paper.pk)
        if correction and paper.live_version_id is None:
            raise WorkflowError("Only a published paper can be corrected; publish it first.")
        if correction and not note.strip():
            raise WorkflowError("A correction needs a note that tells readers what was corrected.")
        orphans = [claim for claim in paper.claims.select_related("section") if claim.is_orphaned]
        if orphans:
            quotes = "; ".join(f"“{claim}”" for claim in orphans[:3])
            raise WorkflowError(
                f"{len(orphans)} claim(s) no longer match their section's text and must be "
                f"re-anchored or removed before publishing: {quotes}."
            )
        if not paper.sections.exists():
            raise WorkflowError("A paper needs at least one section before it can be published.")

        document = snapshots.paper_document(paper)
        body_html, toc, claim_count = snapshots.render_body(document)
        number = (paper.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = Version.objects.create(
            paper=paper,
            number=number,
            title=paper.title,
            standfirst_html=rendering.render_markdown(paper.standfirst),
            byline=paper.byline,
            snapshot=document,
            body_html=body_html,
            toc=toc,
            claim_count=claim_count,
            note=note.strip(),
            is_correction=correction,
            published_at=timezone.now(),
            published_by=by,
            published_by_name=_name(by),
        )
        version.tags.set(paper.tags.all())
        from_stage = paper.stage
        paper.live_version = version
        paper.stage = Paper.Stage.DRAFT  # the working copy starts a new round
        paper.save(update_fields=["live_version", "stage", "standfirst_html", "updated_at"])
        Event.objects.create(
            action=Event.Action.PUBLISH,
            paper=paper,
            paper_title=paper.title,
            actor=by,
            actor_name=_name(by),
            from_stage=from_stage,
            to_stage=paper.stage,
            version_number=number,
            note=version.note,
        )
    return version


def _name(user):
    if user is None:
        return "command line"
    return user.get_full_name() or user.get_username()
