from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from papers import pagecache
from papers.feeds import CorrectionFeed, VersionFeed
from papers.sitemaps import SITEMAPS
from papers.views import accounts, health, media, metrics, public

password_reset = accounts.PasswordResetView.as_view()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", password_reset, name="password_reset"),
    # The same page under the name the admin's sign-in page looks for, so that it offers
    # editors a "Forgotten your password?" link too (requests resolve to the route above).
    path("accounts/password-reset/", password_reset, name="admin_password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("review/", include("papers.review_urls")),
    path("api/v1/", include("papers.api.urls")),
    path("feed/", pagecache.for_readers(VersionFeed()), name="feed"),
    path("corrections/feed/", pagecache.for_readers(CorrectionFeed()), name="corrections-feed"),
    path(
        "sitemap.xml",
        pagecache.for_readers(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", public.robots_txt, name="robots"),
    # Browsers and crawlers ask for /favicon.ico whatever a page links to (base.html links the
    # SVG). Lazy: the static file's hashed name is known only once the app has loaded.
    path(
        "favicon.ico",
        RedirectView.as_view(
            url=lazy(static, str)("favicon.svg"), http_method_names=["get", "head"]
        ),
        name="favicon",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.scrape, name="metrics"),
    # Uploaded images, with headers that keep browsers from running them; production proxies
    # serve this path themselves with the same headers (docs/deploy.md).
    path("media/<path:path>", media.serve, name="media"),
    path("", include("papers.urls")),
]

handler404 = "papers.views.public.not_found"
handler500 = "papers.views.public.server_error"
