"""Login required everywhere, as Django's middleware does, but an htmx request
whose session ran out is sent to the login page as a whole page (HX-Redirect),
not answered with a login form swapped into a card or the poller."""

from urllib.parse import urlsplit

from django.contrib.auth import middleware
from django.contrib.auth.views import redirect_to_login
from django_htmx.http import HttpResponseClientRedirect


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    def handle_no_permission(self, request, view_func):
        if request.headers.get("HX-Request") != "true":
            return super().handle_no_permission(request, view_func)
        # Back to the page the person was on, not to the fragment's endpoint.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = (current.path or "/") + (f"?{current.query}" if current.query else "")
        login = redirect_to_login(page, self.get_login_url(view_func))
        return HttpResponseClientRedirect(login.url)
