"""People in the admin: deactivated, never deleted. Their reviews, comments, versions and audit
events stay theirs (and name them), and a deactivated account can no longer sign in."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups"]
    actions = ["deactivate", "reactivate"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Deactivate the selected people (they can no longer sign in)")
    def deactivate(self, request, queryset):
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate yourself.", messages.ERROR)
            return
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"Deactivated {count} {'person' if count == 1 else 'people'}.")

    @admin.action(description="Reactivate the selected people")
    def reactivate(self, request, queryset):
        count = queryset.filter(is_active=False).update(is_active=True)
        self.message_user(request, f"Reactivated {count} {'person' if count == 1 else 'people'}.")
