"""How background work runs (papers.tasks): the retry policy, tasks queued after commit, the
periodic schedule and its command, and failed tasks in the editors' admin. The database queue,
run by django-tasks-db's own worker."""

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO

import django_rq
import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.utils import timezone

from papers import tasks
from papers.tasks import ATTEMPT, enqueue_on_commit, retried
from tests.factories import ReviewerFactory, UserFactory

pytestmark = pytest.mark.django_db

# What the tasks below have been asked to do, by whom, in this process (the worker runs here).
CALLS = []


@retried(attempts=3, backoff=10)
def flaky(failures):
    """Fails its first `failures` calls."""
    CALLS.append("flaky")
    if CALLS.count("flaky") <= failures:
        raise ConnectionError(f"failure {CALLS.count('flaky')}")
    return "done"


@retried(attempts=5, backoff=10, retry_on=(ConnectionError,), give_up_on=(ConnectionResetError,))
def picky(error):
    CALLS.append("picky")
    raise {"reset": ConnectionResetError, "value": ValueError, "refused": ConnectionError}[error]()


@retried(attempts=2, backoff=10)
def tick():
    CALLS.append("tick")


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()


def statuses(queue):
    return [r.status for r in queue.results()]


def delay_of(result):
    return (result.run_after - result.enqueued_at).total_seconds()


class TestRetries:
    def test_a_failing_task_is_retried_with_exponential_backoff_until_it_succeeds(self, task_queue):
        flaky.enqueue(2)
        task_queue.run()
        [retry] = task_queue.waiting()
        assert 9 <= delay_of(retry) <= 11
        task_queue.run()  # not due yet
        assert CALLS == ["flaky"]
        task_queue.make_due()
        task_queue.run()
        [retry] = task_queue.waiting()
        assert 18 <= delay_of(retry) <= 22
        task_queue.make_due()
        task_queue.run()
        assert statuses(task_queue) == ["FAILED", "FAILED", "SUCCESSFUL"]
        assert [r.args_kwargs for r in task_queue.results()] == [
            {"args": [2], "kwargs": {}},
            {"args": [2], "kwargs": {ATTEMPT: 2}},
            {"args": [2], "kwargs": {ATTEMPT: 3}},
        ]
        assert task_queue.results()[-1].return_value == "done"

    def test_each_failed_attempt_keeps_its_error_and_says_whether_another_follows(self, task_queue):
        flaky.enqueue(5)
        for _ in range(4):
            task_queue.make_due()
            task_queue.run()
        first, second, last = task_queue.results()
        assert statuses(task_queue) == ["FAILED"] * 3 and task_queue.waiting() == []
        assert "ConnectionError: failure 1" in first.traceback
        assert "Attempt 1 of 3. Another attempt is queued." in first.traceback
        assert "Attempt 3 of 3. No other attempt follows." in last.traceback
        assert tasks.retry_queued(second.traceback) and not tasks.retry_queued(last.traceback)

    @pytest.mark.parametrize("error", ["reset", "value"])
    def test_errors_outside_retry_on_or_in_give_up_on_are_not_retried(self, task_queue, error):
        picky.enqueue(error)
        task_queue.run()
        assert statuses(task_queue) == ["FAILED"] and task_queue.waiting() == []
        traceback = task_queue.results()[0].traceback
        if error == "reset":  # retried errors that give up say so
            assert "Attempt 1 of 5. No other attempt follows." in traceback
        else:  # others pass through untouched
            assert "Attempt" not in traceback

    def test_backoff_doubles_up_to_an_hour_with_a_tenth_either_way(self):
        for number, expected in [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]:
            delays = [tasks.backoff_seconds(30, number) for _ in range(50)]
            assert all(expected * 0.9 <= delay <= expected * 1.1 for delay in delays)
            assert len(set(delays)) > 1

    def test_with_tasks_run_at_once_a_failure_is_not_retried(self):
        result = flaky.enqueue(1)
        assert result.status == "FAILED" and CALLS == ["flaky"]

    def test_a_policy_needs_an_attempt(self):
        with pytest.raises(ValueError):
            retried(attempts=0)


class TestAfterCommit:
    def test_a_task_is_queued_only_once_the_transaction_commits(
        self, task_queue, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            enqueue_on_commit(tick)
            assert task_queue.results() == []
        assert statuses(task_queue) == ["READY"]

    def test_a_rolled_back_transaction_queues_nothing(
        self, task_queue, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            enqueue_on_commit(tick)
            raise RuntimeError("something later failed")
        assert task_queue.results() == []


def run_periodic(*args):
    out = StringIO()
    call_command("run_periodic", *args, stdout=out)
    return out.getvalue()


class TestPeriodic:
    @pytest.fixture(autouse=True)
    def _schedule(self, settings):
        settings.PERIODIC_TASKS = {"tests.test_tasks.tick": 60}

    def test_each_interval_is_enqueued_once_whoever_asks(self, task_queue):
        assert run_periodic("--once") == "Enqueued tests.test_tasks.tick\n"
        assert run_periodic("--once") == ""  # the same minute: claimed already
        task_queue.run()
        assert CALLS == ["tick"] and statuses(task_queue) == ["SUCCESSFUL"]

    def test_the_next_interval_enqueues_it_again(self, task_queue):
        now = timezone.now()
        assert tasks.enqueue_due(now) == ["tests.test_tasks.tick"]
        assert tasks.enqueue_due(now + timezone.timedelta(seconds=60)) == ["tests.test_tasks.tick"]
        assert len(task_queue.results()) == 2

    @pytest.mark.parametrize(
        "schedule",
        [
            {"tests.test_tasks.nothing": 60},
            {"tests.test_tasks.CALLS": 60},
            {"tests.test_tasks.tick": 0},
        ],
    )
    def test_a_bad_schedule_is_one_line_and_enqueues_nothing(self, task_queue, settings, schedule):
        settings.PERIODIC_TASKS = schedule
        with pytest.raises(CommandError) as error:
            call_command("run_periodic", "--once")
        assert str(error.value).startswith("PERIODIC_TASKS: tests.test_tasks.")
        assert "\n" not in str(error.value)
        assert task_queue.results() == []


# --- Failed tasks in the editors' admin --------------------------------------------------------

TASKS_URL = "/admin/django_tasks_database/dbtaskresult/"


def failed_chain(task_queue):
    """A task that gave up after its three attempts, and one still waiting for its second."""
    flaky.enqueue(10)
    for _ in range(3):
        task_queue.make_due()
        task_queue.run()
    picky.enqueue("refused")
    task_queue.run()
    return task_queue.results()


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


class TestAdmin:
    def test_editors_see_each_failed_attempt_with_its_error(self, task_queue, editor_client):
        failed_chain(task_queue)
        page = editor_client.get(f"{TASKS_URL}?status__exact=FAILED").content.decode()
        assert page.count("ConnectionError: failure") == 3
        assert "1 of 3" in page and "3 of 3" in page and "1 of 5" in page

    def test_an_attempts_page_shows_its_traceback_escaped(self, task_queue, editor_client):
        picky.enqueue("refused")
        task_queue.run()
        failed = task_queue.results()[0]
        failed.traceback += "\n<script>alert(1)</script>"
        failed.save()
        page = editor_client.get(f"{TASKS_URL}{failed.pk}/change/").content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page

    def test_the_list_costs_the_same_queries_for_few_and_many_results(
        self, task_queue, editor_client, django_assert_num_queries
    ):
        # The session and user, the editor check, the admin's app list (its permissions), the
        # counts and the page of results, and the task filter's choices.
        failed_chain(task_queue)
        with django_assert_num_queries(10):
            assert editor_client.get(TASKS_URL).status_code == 200
        for n in range(20):
            flaky.enqueue(n)
        with django_assert_num_queries(10):
            assert editor_client.get(TASKS_URL).status_code == 200

    def test_running_a_task_again_queues_a_fresh_first_attempt_of_the_last_failure_only(
        self, task_queue, editor_client
    ):
        results = failed_chain(task_queue)
        waiting = task_queue.waiting()
        response = editor_client.post(
            TASKS_URL,
            {"action": "run_again", "_selected_action": [r.pk for r in results]},
            follow=True,
        )
        assert "Queued again: 1." in response.content.decode()
        assert "Left alone: 4" in response.content.decode()
        new = [r for r in task_queue.results() if r.pk not in {x.pk for x in results}]
        assert [(r.task_path, r.args_kwargs, r.status) for r in new] == [
            ("tests.test_tasks.flaky", {"args": [10], "kwargs": {}}, "READY")
        ]
        assert task_queue.waiting() == waiting

    @pytest.mark.parametrize("who", ["reviewer", "staff"])
    def test_only_editors_see_tasks_or_run_them_again(self, task_queue, who):
        results = failed_chain(task_queue)
        user = (
            ReviewerFactory(username="r2")
            if who == "reviewer"
            else UserFactory(username="staff", is_staff=True)
        )
        client = client_for(user)
        assert client.get(TASKS_URL).status_code == 302
        assert client.get(f"{TASKS_URL}{results[0].pk}/change/").status_code == 302
        client.post(TASKS_URL, {"action": "run_again", "_selected_action": [results[2].pk]})
        assert len(task_queue.results()) == len(results)


# --- Redis through RQ: the queue for several machines ------------------------------------------


@retried(attempts=3, backoff=1)
def quick_flaky(failures):
    CALLS.append("quick_flaky")
    if CALLS.count("quick_flaky") <= failures:
        raise ConnectionError("not yet")
    return "done"


@pytest.fixture
def redis_queue(settings, tmp_path):
    """A throwaway redis-server on 127.0.0.1, and the tasks on it through django-tasks-rq."""
    if not shutil.which("redis-server"):
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    connection = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            connection.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    yield
    server.terminate()
    server.wait(timeout=10)


def rq_worker_burst():
    """What `manage.py rqworker default --with-scheduler --burst` runs, in this process."""
    from django_rq import get_worker
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    get_worker("default", job_class=Job, worker_class=SimpleWorker).work(
        burst=True, with_scheduler=True
    )


@pytest.mark.django_db(transaction=True)
def test_on_redis_a_failed_task_is_retried_after_its_backoff_by_an_rq_worker(redis_queue):
    first = quick_flaky.enqueue(1)
    rq_worker_burst()
    first.refresh()
    assert first.status == "FAILED" and CALLS == ["quick_flaky"]
    time.sleep(1.5)  # the backoff of one second, ±10%
    rq_worker_burst()
    assert CALLS == ["quick_flaky", "quick_flaky"]
    queue = django_rq.get_queue("default")
    assert (queue.failed_job_registry.count, queue.finished_job_registry.count) == (1, 1)
    [finished] = queue.finished_job_registry.get_job_ids()
    retry = quick_flaky.get_result(finished)
    assert retry.status == "SUCCESSFUL" and retry.kwargs == {ATTEMPT: 2}


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "django_tasks_db.DatabaseBackend"),
        (
            {"STANDPOINT_TASKS": "rq", "REDIS_URL": "redis://127.0.0.1:1/0"},
            "django_tasks_rq.RQBackend",
        ),
        ({"STANDPOINT_TASKS": "immediate"}, "django_tasks.backends.immediate.ImmediateBackend"),
        ({"STANDPOINT_TASKS": "rq"}, "STANDPOINT_TASKS=rq needs REDIS_URL."),
        ({"STANDPOINT_TASKS": "celery"}, "STANDPOINT_TASKS must be one of database, rq, immediate"),
    ],
)
def test_the_queue_is_chosen_by_one_environment_variable(env, backend):
    settings_env = {
        k: v for k, v in os.environ.items() if k not in {"STANDPOINT_TASKS", "REDIS_URL"}
    }
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config import settings; print(settings.TASKS['default']['BACKEND'])",
        ],
        env={**settings_env, "DJANGO_DEBUG": "1", **env},
        capture_output=True,
        text=True,
    )
    assert backend in (found.stdout if found.returncode == 0 else found.stderr)


class TestAbandonedTasks:
    """A worker that dies mid-task (SIGKILL, a lost machine) leaves its task RUNNING: the
    periodic sweep marks it FAILED for editors to see and run again."""

    def running(self, task_queue, started_hours_ago):
        from papers.scheduling import publish_due_papers

        publish_due_papers.enqueue()
        [result] = task_queue.results(status="READY")
        # What a worker records as it takes a task, then dies without a word.
        started = timezone.now() - timedelta(hours=started_hours_ago)
        type(result).objects.filter(pk=result.pk).update(status="RUNNING", started_at=started)
        return result

    def test_a_task_running_past_the_limit_is_marked_failed_with_the_reason(
        self, task_queue, settings
    ):
        settings.STANDPOINT_TASK_ABANDONED_HOURS = 6
        stuck = self.running(task_queue, started_hours_ago=7)
        recent = self.running(task_queue, started_hours_ago=1)
        assert tasks.fail_abandoned_tasks.call() == {"abandoned": 1}
        stuck.refresh_from_db()
        recent.refresh_from_db()
        assert (stuck.status, recent.status) == ("FAILED", "RUNNING")
        assert "stopped before it finished" in stuck.traceback
        assert stuck.task_result.errors[0].exception_class is tasks.AbandonedTask

    def test_editors_can_run_an_abandoned_task_again(self, task_queue, editor_client):
        stuck = self.running(task_queue, started_hours_ago=7)
        tasks.fail_abandoned_tasks.call()
        response = editor_client.post(
            TASKS_URL,
            {"action": "run_again", "_selected_action": [stuck.pk]},
        )
        assert response.status_code == 302
        assert len(task_queue.results(status="READY")) == 1

    def test_the_sweep_is_periodic(self):
        assert "papers.tasks.fail_abandoned_tasks" in [path for path, *_ in tasks.periodic_tasks()]
