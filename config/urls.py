from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("papers.urls")),
]

handler404 = "papers.views.not_found"
handler500 = "papers.views.server_error"
