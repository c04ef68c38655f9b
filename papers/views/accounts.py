"""Signing in, and resetting a forgotten password by email: Django's views, with the
publication's name where Django puts the request's host, reviewers sent to their assignments,
and reset emails throttled."""

import hashlib
import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.urls import reverse

from papers import notifications, permissions

security_log = logging.getLogger("security")

RESET_WINDOW = 3600  # seconds: the password-reset limits are counted per hour


class SignInView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "site_name": settings.SITE_NAME}

    def get_default_redirect_url(self):
        """Without a `next`, reviewers go to their assignments; editors (who may review too)
        and everyone else where Django sends them."""
        user = self.request.user
        if permissions.is_reviewer(user) and not permissions.is_editor(user):
            return reverse("review:dashboard")
        return super().get_default_redirect_url()


class PasswordResetForm(auth_forms.PasswordResetForm):
    def get_users(self, email):
        """Only editors and reviewers have passwords worth resetting here; Django already
        leaves out inactive accounts and those without a usable password."""
        return (
            user
            for user in super().get_users(email)
            if permissions.is_editor(user) or permissions.is_reviewer(user)
        )

    def save(self, **kwargs):
        """Queue an email for each account of the address: the request answers without waiting
        for the mail server (papers/notifications.py)."""
        for user in self.get_users(self.cleaned_data["email"]):
            notifications.queue_password_reset(user)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email, answering the same whether or not the address belongs to
    someone. Beyond settings.PASSWORD_RESETS_PER_ADDRESS requests an hour for one address, or
    PASSWORD_RESETS_PER_CLIENT from one client address, it still answers the same but sends
    nothing, so the form cannot be used to flood someone's mailbox."""

    form_class = PasswordResetForm

    def form_valid(self, form):
        # The email's link is built on the publication's address (settings.SITE_URL), never on
        # the Host header the request came with.
        if _throttled(self.request, form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def _throttled(request, email):
    """Count this request against its email address and its client's address; True when
    either has reached its limit for the hour (and the refusal is logged)."""
    client = get_client_ip_address(request) or ""
    over_address = _over("address", email.strip().casefold(), settings.PASSWORD_RESETS_PER_ADDRESS)
    over_client = _over("client", client, settings.PASSWORD_RESETS_PER_CLIENT)
    if over_address or over_client:
        security_log.warning(
            "password_reset.throttled client=%s by=%s",
            client,
            "address" if over_address else "client",
        )
    return over_address or over_client


def _over(scope, value, limit):
    # Hashed: cache keys stay short and safe, and the cache holds no email addresses.
    key = f"password-reset:{scope}:{hashlib.sha256(value.encode()).hexdigest()}"
    cache.add(key, 0, RESET_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, RESET_WINDOW)
        count = 1
    return count > limit
