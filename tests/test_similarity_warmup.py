"""After a change readers can see, the similar claims of the papers in review are looked up in
a task, so that the first workspace view reads them from the cache (papers.similarity.warm)."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from papers import similarity, workflow
from papers.models import Paper
from tests.test_similarity import NEAR_DUPLICATES, draft_with, publish

pytestmark = pytest.mark.django_db

PUBLISHED, WRITTEN = NEAR_DUPLICATES[0]


@pytest.fixture
def shared_cache(settings, tmp_path):
    """A "similar" cache every process reads, as Redis is in production."""
    settings.CACHES = {
        **settings.CACHES,
        "similar": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "similar"),
        },
    }


@pytest.fixture
def publish_committed(django_capture_on_commit_callbacks):
    """Publish as a request does: what waits for the commit runs (the task, here at once)."""

    def publish_now(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return publish(*args, **kwargs)

    return publish_now


@pytest.fixture
def in_review(editor, reviewer):
    draft, claim = draft_with(WRITTEN)
    workflow.assign_reviewer(draft, reviewer, by=editor)
    workflow.submit_paper(draft, by=editor)
    return draft, claim


def test_a_publication_leaves_the_papers_in_review_looked_up(
    shared_cache, in_review, publish_committed, django_assert_num_queries
):
    draft, claim = in_review
    publish_committed([PUBLISHED], slug="earlier")  # moves the public revision
    with django_assert_num_queries(1):  # the public revision; the rest comes from the cache
        kept = similarity.similar_to_claims({claim.pk: claim.quote}, paper_id=draft.pk)
    assert [s.claim.quote for s in kept[claim.pk]] == [PUBLISHED]


def test_the_first_workspace_view_then_runs_no_lookup(
    shared_cache, in_review, publish_committed, reviewer
):
    draft, _ = in_review
    publish_committed([PUBLISHED], slug="earlier")
    client = Client()
    client.force_login(reviewer)

    def view():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/review/{draft.slug}/")
        assert response.status_code == 200
        assert PUBLISHED in response.content.decode()
        return len(queries)

    warmed = view()
    caches["similar"].clear()
    assert view() == warmed + 5  # the five queries of a lookup, which the task spared it


def test_only_papers_in_review_are_looked_up(shared_cache, in_review, editor):
    draft_with("A claim of a paper nobody reviews yet.", slug="quiet")
    assert similarity.warm.call() == 1
    assert Paper.objects.get(slug="quiet").stage == Paper.Stage.DRAFT


def test_a_cache_of_each_process_alone_is_not_warmed(in_review, task_queue, publish_committed):
    publish_committed([PUBLISHED], slug="earlier")
    assert task_queue.results()  # the publication queued its own tasks
    queued = [result.task_path for result in task_queue.results()]
    assert "papers.similarity.warm" not in queued
