from django.conf import settings


def site(request):
    """The site's name and absolute base URL, for titles, canonical links and Open Graph tags."""
    return {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL}
