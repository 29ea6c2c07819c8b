from django.urls import path

from tasks_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<str:task_id>/", views.task_detail, name="task_detail"),
    path("healthz", views.healthz, name="healthz"),
]
