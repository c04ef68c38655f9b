import time

from django.core.management.base import BaseCommand, CommandError

from papers import tasks


class Command(BaseCommand):
    help = (
        "Enqueue the periodic tasks of settings.PERIODIC_TASKS each time their interval comes "
        "round (and once at start), for the task workers to run. Runs until stopped; --once "
        "enqueues what is due and exits (for cron). See papers/tasks.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue what is due, then exit.")
        parser.add_argument(
            "--tick", type=float, default=5.0, help="Seconds between looks (default 5)."
        )

    def handle(self, *, once, tick, **options):
        if tick <= 0:
            raise CommandError("--tick must be more than zero seconds.")
        try:
            schedule = tasks.periodic_tasks()
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not once:
            for path, _task, every in schedule:
                self.stdout.write(f"Every {every} s: {path}")
        while True:
            for path in tasks.enqueue_due():
                self.stdout.write(f"Enqueued {path}")
            if once:
                return
            time.sleep(tick)
