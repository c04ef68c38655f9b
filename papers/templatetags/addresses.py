"""`{% fixed_url %}`: the address of a view that takes no arguments, for the frame every page
renders (base.html and its includes).

Django's `{% url %}` reverses at every render: the frame's eight links cost a search page a
quarter of its rendering. An address without arguments cannot change while the process runs
under one URLconf and script prefix, so it is reversed once for them.
"""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@register.simple_tag
def fixed_url(name):
    return _reversed(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=256)
def _reversed(name, urlconf, prefix):
    return reverse(name, urlconf=urlconf)
