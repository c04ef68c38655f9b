from django.urls import path

from papers.views import public as views

app_name = "papers"
urlpatterns = [
    path("", views.home, name="home"),
    path("papers/", views.paper_list, name="list"),
    path("papers/<slug:slug>/", views.paper_detail, name="detail"),
    path("papers/<slug:slug>/v<int:number>/", views.version_detail, name="version"),
    path("papers/<slug:slug>/export.<str:fmt>", views.export, name="export"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
]
