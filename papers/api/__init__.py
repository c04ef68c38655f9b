"""The read-only claims API under /api/v1/ (django-ninja): published papers, versions, claims
and corrections as JSON, with its OpenAPI schema and a page documenting it."""
