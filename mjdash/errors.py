"""The dashboard's answer to an uncaught error (settings.ROOT_URLCONF's handler500).

With the database unreachable (a restart, a network cut) nothing is wrong with
the request: the answer is the dashboard's own outage page, 503 with a
Retry-After, in the visitor's language. Any other error is the 500 page. Both
templates are static: nothing in them may need the database or the user.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views.defaults import server_error as default_server_error

RETRY_AFTER_SECONDS = 30


def server_error(request, template_name: str = "500.html") -> HttpResponse:
    # Django calls this inside its `except` block: the error is the one in hand.
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        page = loader.get_template("503.html").render()
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return default_server_error(request, template_name)
