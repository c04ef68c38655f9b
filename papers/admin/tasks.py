"""Background tasks in the editors' admin: every result of the database queue, each failed one
with its error, and an action that runs a failed task again (papers/tasks.py).

django-tasks-db registers its own admin for the results, open to those holding its model's
permissions; this one replaces it, open to editors, and adds the attempt, the error and the
retry action.
"""

from django.contrib import admin, messages
from django.core.exceptions import SuspiciousOperation
from django_tasks_db.admin import DBTaskResultAdmin  # registers its admin: replaced below
from django_tasks_db.models import DBTaskResult

from papers import tasks

admin.site.unregister(DBTaskResult)


def _editor(request):
    # Every admin page has let editors alone in already (EditorsAdminSite.has_permission); this
    # says so again without a query, where django-tasks-db's admin asked for model permissions.
    return request.user.is_active and request.user.is_staff


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = ["task_name", "status", "attempt", "error", "enqueued_at", "finished_at"]
    list_filter = ["status", "task_path"]
    actions = ["run_again"]

    def has_module_permission(self, request):
        return _editor(request)

    def has_view_permission(self, request, obj=None):
        return _editor(request)

    def has_run_again_permission(self, request):
        return _editor(request)

    @admin.display(description="attempt")
    def attempt(self, result):
        number = tasks.attempt_number(result.args_kwargs.get("kwargs", {}))
        try:
            return f"{number} of {tasks.attempts_of(result.task)}"
        except (ImportError, SuspiciousOperation):  # a task the code no longer has
            return str(number)

    @admin.display(description="error")
    def error(self, result):
        if not result.traceback:
            return ""
        lines = [line for line in result.traceback.strip().splitlines() if line.strip()]
        shown = [line for line in lines if not line.startswith("Attempt ")]
        return (shown or lines)[-1][:300]

    @admin.action(description="Run the selected failed tasks again", permissions=["run_again"])
    def run_again(self, request, queryset):
        queued = skipped = 0
        for result in queryset.filter(status="FAILED").order_by("enqueued_at"):
            if tasks.retry_queued(result.traceback):
                skipped += 1  # its next attempt is queued already, or has run
                continue
            try:
                task = result.task
            except (ImportError, SuspiciousOperation):
                skipped += 1
                continue
            kwargs = dict(result.args_kwargs.get("kwargs", {}))
            kwargs.pop(tasks.ATTEMPT, None)  # a fresh set of attempts
            if tasks.enqueue_now(task, *result.args_kwargs.get("args", []), **kwargs):
                queued += 1
        ignored = queryset.exclude(status="FAILED").count()
        if queued:
            self.message_user(request, f"Queued again: {queued}.", messages.SUCCESS)
        if skipped or ignored:
            self.message_user(
                request,
                f"Left alone: {skipped + ignored} (not failed, already followed by another "
                "attempt, or a task this version of Standpoint no longer has).",
                messages.WARNING,
            )
