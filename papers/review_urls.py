from django.urls import path

from papers import converters  # noqa: F401  (registers <natural:…>, used below)
from papers.views import review as views

app_name = "review"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:slug>/", views.paper, name="paper"),
    path("<slug:slug>/claims/<str:public_id>/comment/", views.comment, name="comment"),
    path("<slug:slug>/claims/<str:public_id>/assess/", views.assess, name="assess"),
    path("<slug:slug>/comments/<natural:comment_id>/", views.thread, name="thread"),
    path("<slug:slug>/comments/<natural:comment_id>/resolve/", views.resolve, name="resolve"),
    path("<slug:slug>/confirm/", views.confirm, name="confirm"),
    path("<slug:slug>/submit/", views.submit, name="submit"),
    path("<slug:slug>/workflow/<str:action>/", views.workflow_action, name="workflow"),
]
