"""`manage.py publish_scheduled`: the scheduler's run of workflow.publish_due."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from papers import workflow
from papers.models import Event, Paper, Version
from papers.workflow import content, publishing
from tests.factories import ClaimFactory, PaperFactory, SectionFactory

pytestmark = pytest.mark.django_db


def scheduled(*, at, title="Scheduled paper", slug="scheduled-paper"):
    """An approved paper with one anchored claim, due at `at`."""
    paper = PaperFactory(title=title, slug=slug)
    ClaimFactory(section=SectionFactory(paper=paper))
    Paper.objects.filter(pk=paper.pk).update(
        stage=Paper.Stage.APPROVED, publish_at=at, approved_fingerprint=content.fingerprint(paper)
    )
    paper.refresh_from_db()
    return paper


def run():
    out, err = StringIO(), StringIO()
    try:
        call_command("publish_scheduled", stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def test_nothing_due_says_so():
    assert run() == ("Nothing due.\n", "", None)


def test_a_paper_approved_for_tomorrow_stays_invisible():
    paper = scheduled(at=timezone.now() + timedelta(days=1))
    out, err, error = run()
    assert (out, error) == ("Nothing due.\n", None)
    paper.refresh_from_db()
    assert (paper.stage, paper.live_version) == (Paper.Stage.APPROVED, None)
    assert Client().get(f"/papers/{paper.slug}/").status_code == 404


def test_a_due_paper_is_published_and_public():
    paper = scheduled(at=timezone.now() - timedelta(minutes=1))
    out, err, error = run()
    assert out == "Published “Scheduled paper” (scheduled-paper) as version 1.\n"
    assert (err, error) == ("", None)
    paper.refresh_from_db()
    assert (paper.stage, paper.publish_at) == (Paper.Stage.DRAFT, None)
    assert paper.live_version.note == "Scheduled publication."
    event = Event.objects.get()
    assert (event.action, event.actor_id, event.actor_name) == ("publish", None, "command line")
    assert Client().get(f"/papers/{paper.slug}/").status_code == 200


def test_a_refused_paper_is_reported_and_the_command_fails():
    due = timezone.now() - timedelta(minutes=1)
    good = scheduled(at=due, title="Good", slug="good")
    bad = scheduled(at=due - timedelta(minutes=1), title="Orphaned", slug="orphaned")
    section = bad.sections.get()
    section.body = "Rewritten without the claim."
    section.save()
    # Approved as it stands, orphan included: the gate still holds it up.
    Paper.objects.filter(pk=bad.pk).update(approved_fingerprint=content.fingerprint(bad))
    out, err, error = run()
    assert out == "Published “Good” (good) as version 1.\n"
    assert err.startswith("Refused “Orphaned” (orphaned): 1 claim(s) no longer match")
    assert err.count("\n") == 1
    assert error is not None and error.returncode == 1
    bad.refresh_from_db()
    assert (bad.stage, bad.live_version) == (Paper.Stage.APPROVED, None)  # tried again next run
    good.refresh_from_db()
    assert good.live_version is not None


def test_a_second_run_publishes_nothing_again():
    scheduled(at=timezone.now() - timedelta(minutes=1))
    run()
    assert run() == ("Nothing due.\n", "", None)
    assert Version.objects.count() == 1


def test_a_paper_published_by_an_overlapping_run_is_not_published_twice(monkeypatch):
    """Two due papers; while this run publishes the first, another run publishes the second."""
    due = timezone.now() - timedelta(minutes=1)
    first = scheduled(at=due - timedelta(minutes=1), title="First", slug="first")
    second = scheduled(at=due, title="Second", slug="second")
    real_publish = workflow.publish_paper

    def publish_with_a_rival(paper, **kwargs):
        if paper.pk == first.pk:
            real_publish(second, by=None, note="The other run.")
        return real_publish(paper, **kwargs)

    monkeypatch.setattr(publishing, "publish_paper", publish_with_a_rival)
    published, refused = workflow.publish_due()
    assert [v.paper.slug for v in published] == ["first"] and refused == []
    assert list(second.versions.values_list("number", "note")) == [(1, "The other run.")]


def test_the_periodic_task_publishes_what_is_due_through_the_queue(task_queue, settings):
    settings.PERIODIC_TASKS = {"papers.scheduling.publish_due_papers": 60}
    paper = scheduled(at=timezone.now() - timedelta(minutes=1))
    call_command("run_periodic", "--once", stdout=StringIO())
    paper.refresh_from_db()
    assert paper.live_version is None  # queued, not run by the scheduler itself
    task_queue.run()
    [result] = task_queue.results()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {"published": ["scheduled-paper v1"], "refused": []}
    paper.refresh_from_db()
    assert paper.live_version.note == "Scheduled publication."
    assert Client().get(f"/papers/{paper.slug}/").status_code == 200
