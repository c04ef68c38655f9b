from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from papers import documents, importing, permissions, workflow
from papers.models import Paper

DEMO = Path(__file__).resolve().parents[2] / "demo"
ACCOUNTS = {
    # username: (password, group, is_staff) — published here, so for local use only.
    "editor": ("standpoint-editor", permissions.EDITORS, True),
    "reviewer": ("standpoint-reviewer", permissions.REVIEWERS, False),
}


class Command(BaseCommand):
    help = "Load the demo paper with its claims and sources, and demo accounts. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="create the demo accounts even with DEBUG off (they have public passwords)",
        )

    def handle(self, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "load_demo creates accounts with published passwords: run it with "
                "DJANGO_DEBUG=1, or pass --force if you really mean to."
            )
        with transaction.atomic():
            permissions.ensure_roles(Group, Permission)
            users = {name: self._account(name, *spec) for name, spec in ACCOUNTS.items()}
            paper = self._paper(users["editor"])
        self.stdout.write(f"Demo paper: {settings.SITE_URL}{paper.get_absolute_url()}")
        for name, (password, _, is_staff) in ACCOUNTS.items():
            where = "/admin/" if is_staff else "/accounts/login/"
            self.stdout.write(f"Demo account {name} / {password} at {settings.SITE_URL}{where}")

    def _account(self, username, password, group, is_staff):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": is_staff, "first_name": username.title()}
        )
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=group))
        return user

    def _paper(self, editor):
        extras = yaml.safe_load((DEMO / "baltic-states-nato.yaml").read_text(encoding="utf-8"))
        existing = Paper.objects.filter(slug=extras["slug"]).first()
        if existing is not None:
            self.stdout.write("The demo paper is loaded already; nothing changed.")
            return existing
        document = documents.read_file(DEMO / "baltic-states-nato.txt")
        document.update(extras)
        paper = importing.save_document(document, by=editor)
        # Version 1 came out before Standpoint's review, like a back catalogue.
        workflow.publish_paper(paper, by=None, note="First publication.")
        return paper
