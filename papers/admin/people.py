"""People in the admin: deactivated, never deleted. Their reviews, comments, versions and audit
events stay theirs (and name them), and a deactivated account can no longer sign in."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from papers import audit

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups"]
    actions = ["deactivate", "reactivate"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            action = audit.Action.REACTIVATE if obj.is_active else audit.Action.DEACTIVATE
            audit.record(action, by=request.user, note=obj.get_username())

    @admin.action(description="Deactivate the selected people (they can no longer sign in)")
    def deactivate(self, request, queryset):
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate yourself.", messages.ERROR)
            return
        count = _switch(request.user, queryset.filter(is_active=True), audit.Action.DEACTIVATE)
        self.message_user(request, f"Deactivated {count} {'person' if count == 1 else 'people'}.")

    @admin.action(description="Reactivate the selected people")
    def reactivate(self, request, queryset):
        count = _switch(request.user, queryset.filter(is_active=False), audit.Action.REACTIVATE)
        self.message_user(request, f"Reactivated {count} {'person' if count == 1 else 'people'}.")


@transaction.atomic
def _switch(by, people, action):
    """Deactivate or reactivate `people` (those not so already), one event each."""
    people = list(people.select_for_update().order_by("username"))
    active = action == audit.Action.REACTIVATE
    User.objects.filter(pk__in=[person.pk for person in people]).update(is_active=active)
    for person in people:
        audit.record(action, by=by, note=person.get_username())
    return len(people)
