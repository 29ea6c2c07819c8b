"""Top-level routes: auth, language switch, admin, readiness and the tasks app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from mjdash.health import healthz, readyz

urlpatterns = [
    # Only log in and out: password reset would mail, and this dashboard sends no mail.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", include("tasks_app.urls")),
]

# The database unreachable: the dashboard's own outage page (503), not a bare 500.
handler500 = "mjdash.errors.server_error"
