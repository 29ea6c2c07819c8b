"""Top-level routes: auth, language switch, admin, readiness and the tasks app."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from mjdash.health import readyz

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("readyz", readyz, name="readyz"),
    path("", include("tasks_app.urls")),
]
