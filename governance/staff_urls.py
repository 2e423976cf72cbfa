from django.urls import path

from . import views_staff as views

app_name = "staff"

urlpatterns = [
    path("", views.index, name="index"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/export.<slug:fmt>", views.request_export, name="request_export"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request_action"),
    path("triage/", views.triage_queue, name="triage_queue"),
    path("department/", views.department_queue, name="department_queue"),
    path("supervision/", views.supervision_list, name="supervision_list"),
    path("return-visits/", views.return_visit_queue, name="return_visit_queue"),
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("service-day/", views.service_day, name="service_day"),
    path("work-lists/", views.work_lists, name="work_lists"),
]

# Reports and background jobs (issue 6): governance/views_reports.py
from . import views_reports  # noqa: E402

urlpatterns += [
    path("reports/", views_reports.reports_index, name="reports"),
    path("reports/run/", views_reports.reports_run, name="reports_run"),
    path("reports/jobs/<int:pk>/", views_reports.job_detail, name="job_detail"),
    path(
        "reports/monthly/<str:month>/township/",
        views_reports.monthly_township,
        name="monthly_township",
    ),
    path(
        "reports/monthly/<str:month>/village/<int:village_id>/",
        views_reports.monthly_village,
        name="monthly_village",
    ),
    path(
        "reports/quarterly/<str:quarter>/",
        views_reports.quarterly_review,
        name="quarterly_review",
    ),
]
