"""Signing in: Django's view, with the publication's name where Django puts the request's host."""

from django.conf import settings
from django.contrib.auth.views import LoginView


class SignInView(LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "site_name": settings.SITE_NAME}
