import datetime
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from papers import documents, importing, permissions, workflow
from papers.models import Claim, Paper, Source, VersionClaim

DEMO = Path(__file__).resolve().parents[2] / "demo"
ACCOUNTS = {
    # username: (password, group, is_staff) — published here, so for local use only.
    "editor": ("standpoint-editor", permissions.EDITORS, True),
    "reviewer": ("standpoint-reviewer", permissions.REVIEWERS, False),
}


class Command(BaseCommand):
    help = (
        "Load the demo paper with its claims and sources, its first review round, a corrected "
        "second version, and demo accounts. Running it again changes nothing."
    )

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
            paper = self._paper(users)
            second = self._second_paper(users)
        self.stdout.write(f"Demo paper: {settings.SITE_URL}{paper.get_absolute_url()}")
        self.stdout.write(
            f"Second demo paper, in review: {settings.SITE_URL}/review/{second.slug}/"
        )
        for name, (password, _, is_staff) in ACCOUNTS.items():
            where = "/admin/" if is_staff else "/review/"
            self.stdout.write(f"Demo account {name} / {password} at {settings.SITE_URL}{where}")

    def _account(self, username, password, group, is_staff):
        # example.org is reserved for examples (RFC 2606): the demo's emails reach nobody, and
        # the password reset can be tried with the console mail backend of `make run`.
        defaults = {
            "is_staff": is_staff,
            "first_name": username.title(),
            "email": f"{username}@example.org",
        }
        user, created = get_user_model().objects.get_or_create(username=username, defaults=defaults)
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=group))
        return user

    def _paper(self, users):
        extras = yaml.safe_load((DEMO / "baltic-states-nato.yaml").read_text(encoding="utf-8"))
        existing = Paper.objects.filter(slug=extras["slug"]).first()
        if existing is not None:
            self.stdout.write("The demo paper is loaded already; nothing changed.")
            return existing
        document = documents.read_file(DEMO / "baltic-states-nato.txt")
        document.update(extras)
        paper = importing.save_document(document, by=users["editor"])
        # Version 1 came out before Standpoint's review, like a back catalogue.
        workflow.publish_paper(paper, by=None, note="First publication.")
        story = yaml.safe_load((DEMO / "review-story.yaml").read_text(encoding="utf-8"))
        Story(paper, story, editor=users["editor"], reviewer=users["reviewer"]).play()
        return paper

    def _second_paper(self, users):
        """A shorter paper on a related subject, in review, with typed sources: one of its
        claims resembles one the first paper's correction reworded, so the reviewer's workspace
        and the editor's pages show the similar-claim flag."""
        document = documents.read_file(DEMO / "nordic-enlargement.md")
        existing = Paper.objects.filter(slug=document["slug"]).first()
        if existing is not None:
            return existing
        editor, reviewer = users["editor"], users["reviewer"]
        paper = importing.save_document(document, by=editor)
        due = timezone.localdate() + datetime.timedelta(days=14)
        workflow.assign_reviewer(paper, reviewer, by=editor, due_date=due)
        workflow.submit_paper(paper, by=editor)
        return paper


class Story:
    """The demo paper's review, played through the workflow functions."""

    def __init__(self, paper, story, *, editor, reviewer):
        self.paper, self.story, self.editor, self.reviewer = paper, story, editor, reviewer

    def play(self):
        first, second = self.story["round_1"], self.story["round_2"]
        due = timezone.localdate() + datetime.timedelta(days=first["due_in_days"])
        workflow.assign_reviewer(self.paper, self.reviewer, by=self.editor, due_date=due)
        workflow.submit_paper(self.paper, by=self.editor)
        self._review(first)
        for comment in first["comments"]:
            workflow.add_comment(
                self._claim(comment["claim"]), by=self.reviewer, body=comment["body"]
            )
        workflow.request_changes(self.paper, by=self.editor, reason=first["changes_reason"])
        self._edit()
        self._answer_threads(self.story["replies"])
        workflow.submit_paper(self.paper, by=self.editor)
        self._review(second)
        self._answer_threads(second["reply"])
        workflow.approve_paper(self.paper, by=self.editor)
        workflow.publish_correction(self.paper, by=self.editor, note=self.story["correction"])
        self._resolve(self.story["resolution"])

    def _resolve(self, resolution):
        """A forecast of the published version, resolved after its date (papers.forecasts)."""
        self.paper.refresh_from_db()
        forecast = VersionClaim.objects.get(
            version=self.paper.live_version, quote__startswith=resolution["claim"]
        )
        fields = {key: resolution[key] for key in ("outcome", "note", "sources")}
        workflow.resolve_forecast(forecast, by=self.editor, **fields)

    def _review(self, round_):
        review = self.paper.reviews.get(round=self._round(), reviewer=self.reviewer)
        for entry in round_["assessments"]:
            workflow.assess_claim(
                review,
                self._claim(entry["claim"]),
                by=self.reviewer,
                verdict=entry["verdict"],
                note=entry.get("note", ""),
            )
        for start in round_.get("withdrawn_concerns", []):
            for thread in self._claim(start).comments.filter(
                author=self.reviewer, parent=None, resolved_at__isnull=True
            ):
                workflow.resolve_thread(thread, by=self.reviewer)
        if round_.get("confirm_carried"):
            workflow.confirm_carried(review, by=self.reviewer)
        workflow.submit_review(review, by=self.reviewer, **round_["review"])

    def _edit(self):
        """The editor's corrections: new words in the sections, and the claims re-marked."""
        for edit in self.story["edits"]:
            section = self.paper.sections.get(anchor=edit["section"])
            assert edit["old"] in section.body, edit["old"]
            section.body = section.body.replace(edit["old"], edit["new"])
            section.save()
            for change in edit["claims"]:
                claim = self._claim(change["was"])
                claim.quote = change["quote"]
                claim.full_clean()
                claim.save()
        for entry in self.story["sources"]:
            fields = {k: v for k, v in entry.items() if k != "claim"}
            self._claim(entry["claim"]).sources.add(Source.objects.create(**fields))

    def _answer_threads(self, reply):
        for thread in self.paper_threads():
            workflow.add_comment(thread.claim, by=self.editor, body=reply, parent=thread)
            workflow.resolve_thread(thread, by=self.editor)

    def paper_threads(self):
        return [
            comment
            for claim in self.paper.claims.all()
            for comment in claim.comments.filter(parent=None, resolved_at__isnull=True)
        ]

    def _claim(self, start):
        return Claim.objects.get(paper=self.paper, quote__startswith=start)

    def _round(self):
        self.paper.refresh_from_db()
        return self.paper.round
