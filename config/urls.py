from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from papers import pagecache
from papers.feeds import VersionFeed
from papers.sitemaps import SITEMAPS
from papers.views import accounts, health, media, public

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("review/", include("papers.review_urls")),
    path("feed/", pagecache.for_readers(VersionFeed()), name="feed"),
    path(
        "sitemap.xml",
        pagecache.for_readers(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", public.robots_txt, name="robots"),
    path("healthz", health.healthz, name="healthz"),
    # Uploaded images, with headers that keep browsers from running them; production proxies
    # serve this path themselves with the same headers (docs/deploy.md).
    path("media/<path:path>", media.serve, name="media"),
    path("", include("papers.urls")),
]

handler404 = "papers.views.public.not_found"
handler500 = "papers.views.public.server_error"
