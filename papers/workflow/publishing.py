"""Publishing: versions made from the working draft (a publication or a correction), the
scheduler's publications, withdrawals, and the gate that holds up publishing."""

import hashlib

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from papers import documents, pagecache, purging, search_index, snapshots, typesetting
from papers.models import Event, Paper, Tag, VersionClaim
from papers.notifications import notify
from papers.workflow import content
from papers.workflow.base import (
    Stage,
    WorkflowError,
    check_stage,
    editors_of,
    event,
    lock,
    name,
    require_publisher,
    reviewers_of,
    text,
)
from papers.workflow.decisions import four_eyes


def publish_paper(paper, *, by, note="", override_reason=""):
    """Editors with the publish permission publish an approved paper as version N+1, if its
    content is still what was approved; the operator may publish from any stage (a back
    catalogue), and an approved paper only as approved. See `_gate` for what else blocks it."""
    return _publish(paper, by=by, note=note, override_reason=override_reason, correction=False)


def publish_correction(paper, *, by, note, override_reason=""):
    """Editors with the publish permission publish the working copy of a published paper as a
    correction, at any stage, with a note that tells readers what was corrected.

    By design a correction needs no approval of its text: it is the publisher's own public
    statement, flagged as such to readers. Four eyes still applies to it, and the publish gate.
    """
    return _publish(paper, by=by, note=note, override_reason=override_reason, correction=True)


def withdraw_paper(paper, *, by, reason):
    """Editors with the publish permission withdraw a published paper: its address stays, with
    the reason, in place of the paper (retraction practice)."""
    require_publisher(by, "withdraw papers")
    reason = text(reason, "The reason for the withdrawal")
    with transaction.atomic():
        paper = lock(paper)
        if paper.live_version_id is None:
            raise WorkflowError("Only a published paper can be withdrawn.")
        if paper.withdrawn_at is not None:
            raise WorkflowError("This paper is already withdrawn.")
        paper.withdrawn_at = timezone.now()
        paper.withdrawal_reason = reason
        paper.save(update_fields=["withdrawn_at", "withdrawal_reason", "updated_at"])
        search_index.unindex(paper)
        pagecache.public_changed()
        purging.paper_withdrawn(paper)
        event(paper, Event.Action.WITHDRAW, by, note=reason)
        notify("withdrawn", paper, [*editors_of(paper), *reviewers_of(paper)], by_name=name(by))
    return paper


def publish_due(now=None):
    """Publish every approved paper whose publication time has come (the scheduler's job).
    Returns (published versions, [(paper, reason it was refused)])."""
    now = now or timezone.now()
    published, refused = [], []
    due = Paper.objects.filter(stage=Stage.APPROVED, publish_at__lte=now).order_by("publish_at")
    for paper in due:
        try:
            with transaction.atomic():
                # Another run (an overlapping cron job, a second server) may have published it
                # since the query: look again under the lock, or it is published twice.
                paper = lock(paper)
                if paper.stage != Stage.APPROVED or not paper.publish_at or paper.publish_at > now:
                    continue
                published.append(publish_paper(paper, by=None, note="Scheduled publication."))
        except WorkflowError as error:
            refused.append((paper, str(error)))
    return published, refused


def _publish(paper, *, by, note, override_reason, correction):
    require_publisher(by, "publish papers")
    note = note.strip()
    with transaction.atomic():
        paper = lock(paper)
        from_stage = paper.stage
        if correction:
            if paper.live_version_id is None:
                raise WorkflowError("Only a published paper can be corrected; publish it first.")
            if not note:
                raise WorkflowError("A correction needs a note that tells readers what changed.")
        elif by is not None:
            check_stage(paper, "publish")
        if paper.withdrawn_at is not None:
            raise WorkflowError("This paper was withdrawn; it cannot be published again.")
        if not correction and paper.stage == Stage.APPROVED:
            content.require_approved_content(paper)
        if by is not None:
            four_eyes(paper, by, "publish", override_reason)
        _gate(paper, by, override_reason)

        number = (paper.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = snapshots.unsaved_version(
            paper,
            number=number,
            with_review=True,
            note=note,
            is_correction=correction,
            published_at=timezone.now(),
            published_by=by,
            published_by_name=name(by),
        )
        document = version.snapshot
        version.fingerprint = export_sha256(version)
        version.save()
        version.tags.set(paper.tags.all())
        _record_claims(version, document)
        search_index.index(version, document)
        paper.live_version = version
        paper.publish_at = None
        if not correction or paper.stage == Stage.APPROVED:
            # Publishing uses up an approval; the working copy starts a new draft. A correction
            # made during a review round leaves the round as it is.
            paper.stage = Stage.DRAFT
            paper.approved_fingerprint = ""
        workflow_fields = ["live_version", "publish_at", "stage", "approved_fingerprint"]
        paper.save(update_fields=[*workflow_fields, "updated_at"])
        pagecache.public_changed()
        purging.paper_published(paper, correction=correction)
        action = Event.Action.CORRECT if correction else Event.Action.PUBLISH
        event(paper, action, by, from_stage=from_stage, version_number=number, note=note)
        notify("published", paper, [*editors_of(paper), *reviewers_of(paper)], version=version)
        # Typeset in the background, so that the PDF is ready before most readers ask for it.
        transaction.on_commit(lambda: typesetting.queue_build(version))
    return version


def export_sha256(version):
    """The SHA-256 a version is known by: of the bytes of its JSON export (what
    `/papers/<slug>/export.json` serves), so anyone can check a copy. Stored as
    `Version.fingerprint`, shown on the version's page and printed on its PDF."""
    return hashlib.sha256(documents.to_json(version.export_document()).encode()).hexdigest()


def _record_claims(version, document):
    """The version's claims as rows, for the claims index and each claim's history."""
    rows = [
        VersionClaim(
            version=version,
            paper=version.paper,
            public_id=claim["id"],
            number=number,
            section_anchor=section["anchor"],
            section_heading=section["heading"],
            quote=claim["quote"],
            kind=claim["kind"],
            status=claim.get("review", {}).get("status", "unchecked"),
            status_label=claim.get("review", {}).get("label", "Not checked by a reviewer"),
            due=claim.get("due") or None,
        )
        for number, section, claim in snapshots.numbered_claims(document)
    ]
    VersionClaim.objects.bulk_create(rows)
    tags = {tag.slug: tag for tag in Tag.objects.filter(slug__in=_claim_tag_slugs(document))}
    VersionClaim.tags.through.objects.bulk_create(
        VersionClaim.tags.through(versionclaim_id=row.pk, tag_id=tags[slug].pk)
        for row, (_, _, claim) in zip(rows, snapshots.numbered_claims(document), strict=True)
        for slug in claim.get("tags", [])
        if slug in tags
    )


def _claim_tag_slugs(document):
    return {slug for claim in document.get("claims", []) for slug in claim.get("tags", [])}


def _gate(paper, by, override_reason):
    """Orphaned claims always block publishing. Concerns (disputed, needs a source) in the
    current round whose threads are unresolved block it too, unless the editor overrides with
    a written reason, which is logged."""
    claims = list(paper.claims.select_related("section"))
    orphans = [claim for claim in claims if claim.is_orphaned]
    if orphans:
        quotes = "; ".join(f"“{claim}”" for claim in orphans[:3])
        raise WorkflowError(
            f"{len(orphans)} claim(s) no longer match their section's text and must be "
            f"re-anchored or removed before publishing: {quotes}."
        )
    if not paper.sections.exists():
        raise WorkflowError("A paper needs at least one section before it can be published.")
    open_concerns = open_concern_claims(paper)
    if open_concerns:
        if not override_reason.strip():
            raise WorkflowError(
                f"{len(open_concerns)} claim(s) have a reviewer's concern with an unresolved "
                "thread; resolve the threads, or override with a written reason."
            )
        event(paper, Event.Action.OVERRIDE, by, note=f"Publish gate: {override_reason.strip()}")


def open_concern_claims(paper):
    """The ids of the claims whose concerns hold up publishing (`Claim.with_open_concern`)."""
    return set(paper.claims.with_open_concern().values_list("pk", flat=True))
