"""How Standpoint runs work outside requests: tasks on django-tasks (the backport of Django's own
tasks framework), one retry policy, and one schedule for periodic work.

Defining a task
---------------
A task is a module-level function in the module whose job it does, decorated with `retried`.
Its arguments and return value must be JSON (ids and strings, not model instances: the worker
loads the rows it needs). Code that changes rows queues it with `enqueue_on_commit`, so no
worker sees work whose rows were rolled back and no request waits for it::

    from papers.tasks import enqueue_on_commit, retried

    @retried(attempts=5, backoff=30, retry_on=(OSError,))
    def purge_tags(tags):
        ...  # raise to fail the attempt

    enqueue_on_commit(purge_tags, ["paper-12", "papers"])

A failed attempt that raised one of `retry_on` (any exception by default) and none of
`give_up_on` is enqueued again with `run_after` set `backoff × 2^(n-1)` seconds later (at most
an hour, ±10% so that a burst of failures does not come back in step), until `attempts` have
been made. Every attempt leaves its
own result, FAILED with its traceback if it raised; editors see them in the admin and can run a
task again from there (papers/admin/tasks.py), which starts a fresh set of attempts. A task must
be idempotent: an attempt may have done part of its work before it failed. On a backend that
cannot defer (the immediate one, used by tests) a failure is logged and not retried.

Periodic work
-------------
django-tasks has no scheduler of its own. A periodic task is an ordinary `retried` task named,
with its interval in seconds, in `settings.PERIODIC_TASKS`::

    PERIODIC_TASKS = {
        "papers.scheduling.publish_due_papers": 60,
        "papers.linkcheck.check_sources": 24 * 60 * 60,
    }

`manage.py run_periodic` enqueues each one every time its interval comes round (and once at
start); workers run them. Why a scheduler rather than tasks that enqueue their own next run: a
self-rescheduling chain is lost for good when a worker dies in the middle of a run, doubles when
it is started twice, and keeps its old interval until someone empties the queue; the scheduler
holds the whole schedule in one place, read afresh at each start, and catches up at once after
downtime. Each interval is a slot claimed in the default cache before enqueueing, so several
schedulers sharing Redis (REDIS_URL) enqueue each slot once; without Redis run one. A periodic
task may still overlap its previous run if that one outlasts the interval: it must be safe to
run twice at once (row locks, or work that is idempotent).
"""

import logging
import random
from datetime import timedelta
from functools import partial, wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task
from django_tasks.base import Task

log = logging.getLogger(__name__)

# The keyword that carries an attempt's number to the next one; the task function never sees it.
ATTEMPT = "_attempt"
MAX_BACKOFF = 60 * 60
# Added to a failed attempt's error, and so to the traceback its result keeps: whether another
# attempt follows (the admin runs only the last one of a task again).
RETRY_QUEUED = "Another attempt is queued."
GAVE_UP = "No other attempt follows."
JITTER = 0.1


def retried(
    *,
    attempts=5,
    backoff=30,
    retry_on=(Exception,),
    give_up_on=(),
    priority=0,
    queue_name="default",
):
    """Make `func` a task that is tried up to `attempts` times, with exponential backoff, when
    it raises one of `retry_on` that is not one of `give_up_on`."""
    if attempts < 1 or backoff < 0:
        raise ValueError("A task needs at least one attempt and a backoff of zero or more.")

    def decorate(func):
        @wraps(func)
        def attempt(*args, **kwargs):
            number = kwargs.pop(ATTEMPT, 1)
            try:
                return func(*args, **kwargs)
            except retry_on as error:
                if number < attempts and not isinstance(error, give_up_on):
                    delay = backoff_seconds(backoff, number)
                    if _again(this, number, args, kwargs, delay, error):
                        error.add_note(f"Attempt {number} of {attempts}. {RETRY_QUEUED}")
                        raise
                log.error(
                    "task.gave_up",
                    extra={"task": this.module_path, "attempts": number, "error": repr(error)},
                )
                error.add_note(f"Attempt {number} of {attempts}. {GAVE_UP}")
                raise

        # Read back by the admin to say which attempt a result was and whether more follow.
        attempt.attempts = attempts
        this = task(priority=priority, queue_name=queue_name)(attempt)
        return this

    return decorate


def backoff_seconds(backoff, number):
    """How long after failed attempt `number` (from 1) the next one waits."""
    delay = min(backoff * 2 ** (number - 1), MAX_BACKOFF)
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


def attempts_of(task_):
    """How many attempts `task_`'s policy allows (1 for a task not made with `retried`)."""
    return getattr(task_.func, "attempts", 1)


def attempt_number(kwargs):
    """Which attempt a result with these keyword arguments was."""
    return kwargs.get(ATTEMPT, 1)


def retry_queued(traceback):
    """Whether the failed attempt with this traceback was followed by another one."""
    return RETRY_QUEUED in traceback


def _again(this, number, args, kwargs, delay, error):
    """Queue the next attempt; returns whether it was queued."""
    if not this.get_backend().supports_defer:
        # The immediate backend runs tasks inside the request that queued them.
        log.warning("task.not_retried", extra={"task": this.module_path, "error": repr(error)})
        return False
    run_after = timezone.now() + timedelta(seconds=delay)
    try:
        this.using(run_after=run_after).enqueue(*args, **kwargs, **{ATTEMPT: number + 1})
    except Exception:
        # The attempt's own failure is still recorded; only its retry is lost.
        log.exception("task.retry_not_queued", extra={"task": this.module_path})
        return False
    log.warning(
        "task.retry",
        extra={
            "task": this.module_path,
            "attempt": number + 1,
            "run_after": run_after.isoformat(),
            "error": repr(error),
        },
    )
    return True


def enqueue_on_commit(task_, *args, **kwargs):
    """Queue `task_` once the current transaction commits (at once outside one). A queue that
    cannot take it is logged: the change that caused it stands."""
    transaction.on_commit(partial(enqueue_now, task_, *args, **kwargs))


def enqueue_now(task_, *args, **kwargs):
    """Queue `task_` now; returns its result, or None (logged) when the queue refused it."""
    try:
        return task_.enqueue(*args, **kwargs)
    except Exception:
        log.exception("task.enqueue_failed", extra={"task": task_.module_path})
        return None


def periodic_tasks():
    """settings.PERIODIC_TASKS as [(path, task, seconds)]; ValueError names a bad entry."""
    found = []
    for path, every in settings.PERIODIC_TASKS.items():
        try:
            task_ = import_string(path)
        except ImportError as error:
            raise ValueError(f"PERIODIC_TASKS: {path} cannot be imported ({error}).") from error
        if not isinstance(task_, Task):
            raise ValueError(f"PERIODIC_TASKS: {path} is not a task.")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"PERIODIC_TASKS: {path} needs a whole number of seconds.")
        found.append((path, task_, every))
    return found


def enqueue_due(now=None):
    """Enqueue each periodic task whose interval has come round and was not yet claimed;
    returns the paths enqueued. The scheduler calls it every few seconds."""
    now = now or timezone.now()
    enqueued = []
    for path, task_, every in periodic_tasks():
        slot = f"periodic:{path}:{int(now.timestamp()) // every}"
        if not cache.add(slot, True, timeout=every * 2):
            continue
        if enqueue_now(task_) is None:
            cache.delete(slot)  # the next tick tries again
            continue
        enqueued.append(path)
    return enqueued


class AbandonedTask(Exception):
    """What an abandoned task failed with: its worker stopped before it finished."""


# What an abandoned task's result says in place of a traceback.
ABANDONED = (
    "The worker running this task stopped before it finished (killed, or its machine lost): "
    "no result came within {hours} hours of its start. Run it again from here."
)


@retried(attempts=1)
def fail_abandoned_tasks():
    """Mark FAILED the tasks a dead worker left RUNNING: django-tasks-db never takes a task back
    from a worker that died, so without this they would stay RUNNING for good, out of editors'
    sight. Periodic; any task running longer than STANDPOINT_TASK_ABANDONED_HOURS counts."""
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        return {"abandoned": 0}
    from django_tasks_db.models import DBTaskResult

    hours = settings.STANDPOINT_TASK_ABANDONED_HOURS
    stale = DBTaskResult.objects.filter(
        status="RUNNING", started_at__lt=timezone.now() - timedelta(hours=hours)
    )
    count = stale.update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path=f"{__name__}.{AbandonedTask.__qualname__}",
        traceback=ABANDONED.format(hours=hours),
    )
    if count:
        log.error("task.abandoned", extra={"tasks": count, "hours": hours})
    return {"abandoned": count}
