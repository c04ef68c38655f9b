import pytest

from papers import workflow
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    UserFactory,
    approved,
    client_for,
)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The hashed-name manifest exists only after collectstatic; tests use the plain storage.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Most tests create accounts; slow password hashing is not what they are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(db):
    return EditorFactory(username="editor", first_name="Eda")


@pytest.fixture
def other_editor(db):
    return EditorFactory(username="other_editor")


@pytest.fixture
def reviewer(db):
    return ReviewerFactory(username="reviewer")


@pytest.fixture
def other_reviewer(db):
    return ReviewerFactory(username="other_reviewer")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def editor_client(editor):
    return client_for(editor)


@pytest.fixture
def as_editor(editor):
    return client_for(editor)


@pytest.fixture
def as_reviewer(reviewer):
    return client_for(reviewer)


@pytest.fixture
def draft(db):
    """An unpublished paper with two sections and a claim in each."""
    paper = PaperFactory(title="Draft on deterrence", slug="draft-on-deterrence")
    first = SectionFactory(paper=paper, heading="Background", position=0)
    second = SectionFactory(
        paper=paper,
        heading="Outlook",
        position=1,
        body="Deterrence will hold *for a decade*, the authors expect.",
    )
    ClaimFactory(section=first, quote="NATO forces are present in Estonia.")
    ClaimFactory(section=second, quote="Deterrence will hold for a decade", kind="predictive")
    return paper


@pytest.fixture
def published(draft, editor):
    """The draft, published once as version 1."""
    workflow.publish_paper(approved(draft), by=editor, note="First edition.")
    draft.refresh_from_db()
    return draft


@pytest.fixture(autouse=True)
def _empty_caches():
    # Each test starts at public revision 0 in a fresh database: pages kept by an earlier test
    # under the same revision, or cards under the same version id, must not be served to it.
    from django.core.cache import caches

    from papers import cards, pagecache

    pagecache.memory.clear()
    cards.forget()
    pagecache.last_read.forget()
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _revision_read_at_every_request(settings):
    # Query counts are pinned with the public revision read at each request; tests/
    # test_pagecache.py covers the window in which a process trusts the one it last read.
    settings.STANDPOINT_PAGE_REVISION_MS = 0


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    # Tasks run inside the code that queues them, unless a test takes `task_queue` below (or
    # picks another backend itself): the tests of what a task does need no worker.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    }


@pytest.fixture(scope="session")
def _session_media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_outside_the_checkout(settings, _session_media):
    # Publishing typesets the version's PDF (at once, with the tasks run at once): whatever a
    # test stores goes to a temporary folder. Tests that look at what was stored set their own.
    settings.MEDIA_ROOT = _session_media


@pytest.fixture
def task_queue(settings, db):
    """The database queue (production's default), run by django-tasks-db's own worker."""
    from tests.taskqueue import TaskQueue

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
    }
    return TaskQueue()
