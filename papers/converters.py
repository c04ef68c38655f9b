"""Numbers read from addresses: path segments (`<natural:…>`) and query parameters.

A number a visitor types goes into a database query. Python's int() takes more than the database
does: integers past 2**63 overflow SQLite's driver, and it reads digits of any script ("١٢" is
12) while str.isdigit() also passes superscripts that int() refuses ("²"). Each of these
answered 500. Here a number is ASCII digits only, from 1 up to the largest value of a PostgreSQL
`integer` column (PositiveIntegerField: version numbers); ids (bigint) stay far below it in
practice. Anything else is no number: a route does not match (404), a query parameter counts as
absent.
"""

from django.urls import register_converter

DATABASE_INT_MAX = 2**31 - 1
_MAX_DIGITS = len(str(DATABASE_INT_MAX))


def natural_number(value):
    """`value` as an int if it is 1 to DATABASE_INT_MAX written in ASCII digits, else None."""
    if not value or len(value) > _MAX_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= DATABASE_INT_MAX else None


class NaturalNumberConverter:
    """`<natural:name>` in a route: 1 to DATABASE_INT_MAX; anything else matches no route."""

    regex = "[0-9]+"

    def to_python(self, value):
        number = natural_number(value)
        if number is None:
            raise ValueError(value)  # the resolver then tries the next route: 404 in the end
        return number

    def to_url(self, value):
        return str(value)


# Registered here, once, and imported by the URL modules before they use it: Django deprecates
# registering a converter name twice.
register_converter(NaturalNumberConverter, "natural")
