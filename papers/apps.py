from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PapersConfig(AppConfig):
    default = True
    name = "papers"
    verbose_name = "Papers"

    def ready(self):
        # audit connects the sign-in audit receivers; similarity sets pg_trgm's threshold on
        # each new database connection.
        from papers import audit, similarity  # noqa: F401


class EditorsAdminConfig(admin_apps.AdminConfig):
    """The Django admin, open only to the Editors group (papers.admin_site.EditorsAdminSite)."""

    default = False
    default_site = "papers.admin_site.EditorsAdminSite"
