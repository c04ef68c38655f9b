from django.urls import path

from papers import converters  # noqa: F401  (registers <natural:…>, used below)
from papers.views import cite, claims, corrections, drafts, forecasts, history, pdf, public, tags

app_name = "papers"
urlpatterns = [
    path("", public.home, name="home"),
    path("papers/", public.paper_list, name="list"),
    path("papers/<slug:slug>/", public.paper_detail, name="detail"),
    path("papers/<slug:slug>/v<natural:number>/", public.version_detail, name="version"),
    path("papers/<slug:slug>/v<natural:number>/paper.pdf", pdf.version_pdf, name="pdf"),
    path("papers/<slug:slug>/versions/", history.version_list, name="versions"),
    path("papers/<slug:slug>/diff/<natural:a>/<natural:b>/", history.diff, name="diff"),
    path("papers/<slug:slug>/export.<str:fmt>", public.export, name="export"),
    path("papers/<slug:slug>/cite/", cite.paper_cite, name="cite"),
    path("papers/<slug:slug>/cite.<str:fmt>", cite.paper_cite_file, name="cite-file"),
    path("papers/<slug:slug>/v<natural:number>/cite/", cite.version_cite, name="version-cite"),
    path(
        "papers/<slug:slug>/v<natural:number>/cite.<str:fmt>",
        cite.version_cite_file,
        name="version-cite-file",
    ),
    path("papers/<slug:slug>/preview/", drafts.preview, name="preview"),
    path("preview/<str:token>/", drafts.shared, name="shared"),
    path("claims/", claims.claim_list, name="claims"),
    path("claims/<str:public_id>/", claims.claim_detail, name="claim"),
    path("claims/<str:public_id>/cite/", cite.claim_cite, name="claim-cite"),
    path("claims/<str:public_id>/cite.<str:fmt>", cite.claim_cite_file, name="claim-cite-file"),
    path("tags/", tags.tag_list, name="tags"),
    path("tags/<slug:slug>/", tags.tag_detail, name="tag"),
    path("corrections/", corrections.correction_list, name="corrections"),
    path("forecasts/", forecasts.forecast_list, name="forecasts"),
    path("forecasts/<str:public_id>/resolve/", forecasts.resolve, name="forecast-resolve"),
]
