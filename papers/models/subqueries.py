"""Correlated counts for annotations: each row gets the number of rows of another query that
point at it, without a GROUP BY on the outer query (which would multiply with other counts)."""

from django.db.models import F, Func, IntegerField, Subquery


def count(queryset):
    """COUNT(*) of `queryset`, which filters on an OuterRef, as an annotation."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())
