"""The database task queue as tests drive it: django-tasks-db's worker in batch mode (what
`manage.py db_worker --batch` runs), in this process so that it sees the test database."""

from unittest import mock

from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max


class TaskQueue:
    def run(self):
        """Run every task that is ready now, as a worker would, then stop."""
        # A worker drops connections that are not in autocommit, as a test's is: it would end
        # the test's transaction (PostgreSQL; an in-memory SQLite connection never closes).
        with mock.patch.object(db_worker, "close_old_connections", lambda: None):
            self._work()

    def _work(self):
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()

    def results(self, **filters):
        """The stored results, oldest first."""
        return list(DBTaskResult.objects.filter(**filters).order_by("enqueued_at"))

    def waiting(self):
        """Tasks queued for a later time (retries), oldest first."""
        return list(self._later().order_by("enqueued_at"))

    def make_due(self):
        """The clock moves on to the time every waiting task was queued for."""
        self._later().update(run_after=timezone.now())

    def _later(self):
        # A task queued to run at once is stored with the greatest date as its run_after.
        later = DBTaskResult.objects.filter(status="READY", run_after__gt=timezone.now())
        return later.exclude(run_after=get_date_max())
