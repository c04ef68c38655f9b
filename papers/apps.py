from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PapersConfig(AppConfig):
    default = True
    name = "papers"
    verbose_name = "Papers"

    def ready(self):
        from papers import audit  # noqa: F401  (connects the sign-in audit receivers)


class EditorsAdminConfig(admin_apps.AdminConfig):
    """The Django admin, open only to the Editors group (papers.admin_site.EditorsAdminSite)."""

    default = False
    default_site = "papers.admin_site.EditorsAdminSite"
