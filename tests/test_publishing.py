"""publish_paper: snapshots, numbering, refusals, and versions that nothing can change."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from papers import workflow
from papers.models import Claim, Event, Immutable, Paper, Version
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db


def test_publishing_snapshots_the_paper_as_version_one(draft, editor):
    draft.tags.add(TagFactory(slug="nato", name="NATO"))
    version = workflow.publish_paper(approved(draft), by=editor, note="First edition.")
    draft.refresh_from_db()
    assert draft.live_version == version
    assert (version.number, version.title, version.note) == (1, draft.title, "First edition.")
    assert version.claim_count == 2
    assert [entry["anchor"] for entry in version.toc] == ["background", "outlook"]
    assert [claim["quote"] for claim in version.snapshot["claims"]] == [
        "NATO forces are present in Estonia.",
        "Deterrence will hold for a decade",
    ]
    assert list(version.tags.values_list("slug", flat=True)) == ["nato"]
    assert version.published_by_name == "Eda"


def test_the_version_body_marks_claims_with_kind_and_tags(draft, editor):
    claim = draft.claims.get(kind="predictive")
    claim.tags.add(TagFactory(slug="deterrence", name="Deterrence"))
    version = workflow.publish_paper(approved(draft), by=editor)
    body = version.body_html
    assert f'<mark id="claim-{claim.public_id}" class="claim claim--predictive">' in body
    note = body.split(f'<li id="claim-note-{claim.public_id}">')[1].split("</li>")[0]
    assert ">Predictive claim 2</a>" in note and "Tags: Deterrence." in note
    # The quote spans *emphasis*: two runs, one anchor; the second names its claim.
    assert body.count(f'data-claim="{claim.public_id}"') == 1


def test_later_edits_do_not_change_the_published_version(published, editor):
    section = published.sections.first()
    section.body += " CANARY-EDIT"
    section.save()
    published.title = "A new working title"
    published.save()
    version = Version.objects.get(paper=published)
    assert "CANARY-EDIT" not in version.body_html
    assert version.title == "Draft on deterrence"


def test_versions_are_numbered_one_after_another(published, editor):
    second = workflow.publish_paper(approved(published), by=editor, note="Second.")
    third = workflow.publish_paper(approved(published), by=editor, note="Third.")
    assert [second.number, third.number] == [2, 3]
    published.refresh_from_db()
    assert published.live_version == third


def test_publishing_writes_exactly_one_event(draft, editor):
    workflow.publish_paper(approved(draft), by=editor, note="Hello.")
    event = Event.objects.get()
    assert (event.action, event.actor, event.version_number, event.note) == (
        "publish",
        editor,
        1,
        "Hello.",
    )


def test_a_correction_needs_a_published_paper_and_a_note(draft, editor):
    with pytest.raises(workflow.WorkflowError, match="Only a published paper can be corrected"):
        workflow.publish_correction(draft, by=editor, note="Fix.")
    workflow.publish_paper(approved(draft), by=editor)
    with pytest.raises(workflow.WorkflowError, match="needs a note"):
        workflow.publish_correction(draft, by=editor, note="")
    version = workflow.publish_correction(draft, by=editor, note="Fixed a date.")
    assert version.is_correction


def test_orphaned_claims_block_publishing_and_change_nothing(draft, editor):
    section = draft.sections.first()
    section.body = "The text was rewritten entirely."
    section.save()
    with pytest.raises(workflow.WorkflowError, match="1 claim\\(s\\) no longer match"):
        workflow.publish_paper(approved(draft), by=editor)
    assert not Version.objects.exists() and not Event.objects.exists()


def test_a_claim_whose_section_was_deleted_is_kept_orphaned(draft, editor):
    draft.sections.first().delete()
    claim = Claim.objects.get(quote="NATO forces are present in Estonia.")
    assert claim.section is None and claim.is_orphaned
    with pytest.raises(workflow.WorkflowError, match="re-anchored or removed"):
        workflow.publish_paper(approved(draft), by=editor)


def test_a_paper_without_sections_cannot_be_published(editor):
    with pytest.raises(workflow.WorkflowError, match="at least one section"):
        workflow.publish_paper(approved(PaperFactory()), by=editor)


@pytest.mark.parametrize("persona", ["reviewer", "outsider"])
def test_only_editors_may_publish(draft, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(workflow.WorkflowError, match="permission"):
        workflow.publish_paper(approved(draft), by=user)
    assert not Version.objects.exists()


def test_an_inactive_editor_may_not_publish(draft, editor):
    editor.is_active = False
    editor.save()
    with pytest.raises(workflow.WorkflowError):
        workflow.publish_paper(approved(draft), by=editor)


def test_a_failure_after_the_version_insert_rolls_everything_back(draft, editor, monkeypatch):
    """R29: a crash mid-publish leaves no version, no event and the old live pointer."""

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Event.objects, "create", explode)
    with pytest.raises(RuntimeError):
        workflow.publish_paper(approved(draft), by=editor)
    draft.refresh_from_db()
    assert draft.live_version is None
    assert not Version.objects.exists()


class TestImmutability:
    """R29: versions and events cannot be changed or deleted through the ORM or the admin."""

    def test_saving_a_version_again_is_refused(self, published):
        version = published.live_version
        version.title = "Rewritten history"
        with pytest.raises(Immutable):
            version.save()

    def test_deleting_a_version_is_refused(self, published):
        with pytest.raises(Immutable):
            published.live_version.delete()

    def test_bulk_update_and_delete_are_refused(self, published):
        with pytest.raises(Immutable):
            Version.objects.update(title="x")
        with pytest.raises(Immutable):
            Version.objects.all().delete()
        with pytest.raises(Immutable):
            Event.objects.update(note="x")
        assert Version.objects.get().title == "Draft on deterrence"

    def test_deleting_a_published_paper_is_refused(self, published):
        from django.db.models import ProtectedError

        with pytest.raises(ProtectedError):
            Paper.objects.get(pk=published.pk).delete()

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers on PostgreSQL")
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE papers_version SET title = 'x'",
            "DELETE FROM papers_version",
            "UPDATE papers_event SET note = 'x'",
            "DELETE FROM papers_event",
        ],
    )
    def test_raw_sql_cannot_change_history(self, published, sql):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
        assert Version.objects.get().title == "Draft on deterrence"


def publish_queries(editor, sections):
    paper = PaperFactory()
    for n in range(sections):
        section = SectionFactory(paper=paper, position=n)
        for _ in range(3):
            # Each section holds the quote once: the claims are duplicates, but valid.
            ClaimFactory(section=section, quote="NATO forces are present in Estonia.")
    paper, editor = approved(paper), type(editor).objects.get(pk=editor.pk)  # no cached perms
    with CaptureQueriesContext(connection) as queries:
        workflow.publish_paper(paper, by=editor)
    return len(queries)


def test_publishing_queries_do_not_grow_with_sections_or_claims(editor):
    assert publish_queries(editor, 2) == publish_queries(editor, 20)
