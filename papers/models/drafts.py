"""What surrounds a working draft before it is published: the review rounds it went through
and the share links that show it to people without an account."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Round(models.Model):
    """One submission of a paper for review: who its authors were then, what it said, and who
    changed its reviewable content while the round was open (four eyes: none of them may
    approve or publish it)."""

    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by_name = models.CharField(max_length=150, blank=True)
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="The paper's authors when the round was submitted.",
    )
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Whoever changed the paper's reviewable content while the round was open.",
    )
    snapshot = models.JSONField(help_text="The draft as submitted, in the export format.")

    class Meta:
        ordering = ["paper", "number"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "number"], name="round_number_unique")
        ]

    def __str__(self):
        return f"Round {self.number} of {self.paper}"


class ShareLinkQuerySet(models.QuerySet):
    def active(self, now=None):
        """Links that still open their draft: not revoked, not expired."""
        return self.filter(revoked_at=None, expires_at__gt=now or timezone.now())


class ShareLink(models.Model):
    """A read-only link to a paper's working draft for someone without an account. Only a hash
    of its token is kept: the link itself is shown once, to the editor who made it."""

    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(
        "for", max_length=200, blank=True, help_text="Whom the link is for, as a reminder."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Share link to {self.paper} ({self.label or 'no label'})"

    @staticmethod
    def new_token():
        """A token with 256 bits of randomness, and the hash under which it is stored."""
        token = secrets.token_urlsafe(32)
        return token, ShareLink.hash(token)

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires_at > timezone.now()
