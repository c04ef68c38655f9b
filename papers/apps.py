from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PapersConfig(AppConfig):
    default = True
    name = "papers"
    verbose_name = "Papers"


class EditorsAdminConfig(admin_apps.AdminConfig):
    """The Django admin, open only to the Editors group (papers.admin_site.EditorsAdminSite)."""

    default = False
    default_site = "papers.admin_site.EditorsAdminSite"
