"""Four eyes that hold: nobody who wrote a paper (its authors when the round was submitted) or
changed its content during the round may approve or publish it, whatever the authors field says
now; the authors cannot change while a round is open; a superuser's override is logged."""

import pytest

from papers import workflow
from papers.models import Event, Paper, Review, Round, Version
from papers.workflow import NotAllowed
from tests.factories import EditorFactory, approved

pytestmark = pytest.mark.django_db

Stage = Paper.Stage


@pytest.fixture
def third_editor(db):
    return EditorFactory(username="third_editor")


def submitted(paper, editor, reviewer):
    workflow.assign_reviewer(paper, reviewer, by=editor)
    return workflow.submit_paper(paper, by=editor)


def complete_review(paper, reviewer):
    review = Review.objects.get(paper=paper, reviewer=reviewer, round=paper.round)
    for claim in paper.claims.all():
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    return workflow.submit_review(review, by=reviewer, recommendation="approve")


def reviewed(paper, editor, reviewer):
    paper = submitted(paper, editor, reviewer)
    complete_review(paper, reviewer)
    return Paper.objects.get(pk=paper.pk)


def current(paper):
    return Paper.objects.get(pk=paper.pk)


# --- The round records who wrote the paper ----------------------------------------------------


def test_submitting_records_the_round_with_its_authors_and_text(draft, editor, reviewer):
    draft.authors.add(editor)
    submitted(draft, editor, reviewer)
    round_ = Round.objects.get()
    assert (round_.paper, round_.number, round_.submitted_by_name) == (draft, 1, "Eda")
    assert list(round_.authors.all()) == [editor]
    assert round_.snapshot["title"] == "Draft on deterrence"
    assert [s["heading"] for s in round_.snapshot["sections"]] == ["Background", "Outlook"]


def test_the_only_author_who_empties_the_authors_field_still_cannot_approve_or_publish(
    draft, editor, reviewer
):
    """The attack: the author saves the paper with no authors, approves, publishes."""
    draft.authors.add(editor)
    paper = reviewed(draft, editor, reviewer)
    paper.authors.clear()  # however it happened: the round remembers
    with pytest.raises(NotAllowed):
        workflow.approve_paper(paper, by=editor)
    assert current(paper).stage == Stage.IN_REVIEW
    approved(paper)  # however that happened: nobody else approved it
    with pytest.raises(NotAllowed):
        workflow.publish_paper(current(paper), by=editor, override_reason="Mine anyway.")
    assert not Version.objects.exists()


def test_an_author_of_the_last_round_cannot_publish_a_correction_after_leaving_the_byline(
    draft, editor, other_editor, reviewer
):
    draft.authors.add(editor)
    paper = reviewed(draft, editor, reviewer)
    workflow.approve_paper(paper, by=other_editor)
    workflow.publish_paper(current(paper), by=other_editor)
    current(paper).authors.clear()  # allowed now: no round is open
    with pytest.raises(NotAllowed):
        workflow.publish_correction(current(paper), by=editor, note="Quietly changed.")


def test_an_editor_who_changed_the_content_during_the_round_may_not_approve_it(
    draft, editor, other_editor, third_editor, reviewer
):
    paper = submitted(draft, editor, reviewer)
    Paper.objects.filter(pk=paper.pk).update(title="Sharpened during review")
    workflow.record_edit(paper, by=other_editor, what="title")
    complete_review(current(paper), reviewer)
    with pytest.raises(NotAllowed):
        workflow.approve_paper(current(paper), by=other_editor)
    with pytest.raises(NotAllowed):
        workflow.approve_paper(current(paper), by=other_editor, override_reason="I'm an editor.")
    workflow.approve_paper(current(paper), by=third_editor)
    assert current(paper).stage == Stage.APPROVED


def test_an_author_publishes_only_what_another_editor_approved(
    draft, editor, other_editor, reviewer
):
    draft.authors.add(editor)
    paper = reviewed(draft, editor, reviewer)
    workflow.approve_paper(paper, by=other_editor)
    version = workflow.publish_paper(current(paper), by=editor)
    assert version.number == 1


def test_an_editor_of_the_round_who_approved_does_not_count_as_a_second_pair_of_eyes(
    draft, editor, other_editor, superuser, reviewer
):
    draft.authors.add(editor)
    paper = submitted(draft, editor, reviewer)
    Paper.objects.filter(pk=paper.pk).update(title="Edited by the superuser")
    workflow.record_edit(paper, by=superuser, what="title")
    complete_review(current(paper), reviewer)
    workflow.approve_paper(current(paper), by=superuser, override_reason="Deadline.")
    # The approval came from someone who changed the paper: the author may not lean on it.
    with pytest.raises(NotAllowed):
        workflow.publish_paper(current(paper), by=editor)
    workflow.publish_paper(current(paper), by=other_editor)


def test_a_superusers_override_of_four_eyes_is_an_event(draft, editor, superuser, reviewer):
    paper = submitted(draft, editor, reviewer)
    Paper.objects.filter(pk=paper.pk).update(title="Edited by the superuser")
    workflow.record_edit(paper, by=superuser, what="title")
    complete_review(current(paper), reviewer)
    with pytest.raises(NotAllowed):
        workflow.approve_paper(current(paper), by=superuser)
    workflow.approve_paper(current(paper), by=superuser, override_reason="Editor on leave.")
    event = Event.objects.get(action=Event.Action.OVERRIDE)
    assert (event.actor, event.note) == (superuser, "Four eyes (approve): Editor on leave.")


def test_a_paper_in_review_before_rounds_were_recorded_falls_back_to_its_authors(
    draft, editor, other_editor, reviewer
):
    draft.authors.add(editor)
    paper = reviewed(draft, editor, reviewer)
    Round.objects.all().delete()
    workflow.record_edit(paper, by=other_editor, what="title")  # nowhere to record: no error
    with pytest.raises(NotAllowed):
        workflow.approve_paper(current(paper), by=editor)
    workflow.approve_paper(current(paper), by=other_editor)


# --- Authors are fixed while a round is open --------------------------------------------------


def save_authors(client, paper, authors):
    """The paper's admin page saved with these authors and everything else as it was."""
    return client.post(
        f"/admin/papers/paper/{paper.pk}/change/",
        {
            "opened_version": paper.lock_version,
            "title": paper.title,
            "slug": paper.slug,
            "standfirst": paper.standfirst,
            "byline": paper.byline,
            "authors": [user.pk for user in authors],
        },
    )


@pytest.mark.parametrize("stage", [Stage.IN_REVIEW, Stage.APPROVED])
@pytest.mark.parametrize("change", ["emptied", "added"])
def test_the_authors_cannot_change_while_a_round_is_open(
    draft, editor, other_editor, editor_client, stage, change
):
    draft.authors.add(editor)
    Paper.objects.filter(pk=draft.pk).update(stage=stage)
    paper = current(draft)
    authors = [] if change == "emptied" else [editor, other_editor]
    events = Event.objects.count()
    response = save_authors(editor_client, paper, authors)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["authors"]
    assert list(current(paper).authors.all()) == [editor]
    assert Event.objects.count() == events


@pytest.mark.parametrize("stage", [Stage.DRAFT, Stage.CHANGES_REQUESTED])
def test_the_authors_change_freely_between_rounds(draft, editor, editor_client, stage):
    draft.authors.add(editor)
    Paper.objects.filter(pk=draft.pk).update(stage=stage)
    response = save_authors(editor_client, current(draft), [])
    assert response.status_code == 302
    assert not current(draft).authors.exists()


def test_an_author_cannot_approve_through_the_admin_page_either(
    draft, editor, reviewer, editor_client
):
    draft.authors.add(editor)
    paper = reviewed(draft, editor, reviewer)
    paper.authors.clear()
    response = editor_client.post(
        f"/admin/papers/paper/{paper.pk}/workflow/approve/", {"override_reason": ""}, follow=True
    )
    assert response.status_code == 200
    assert current(paper).stage == Stage.IN_REVIEW
    assert not Event.objects.filter(action=Event.Action.APPROVE).exists()
