from django.urls import path

from . import views_rep as views

app_name = "rep"

urlpatterns = [
    path("", views.home, name="home"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/<int:pk>/", views.visit_done, name="visit_done"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request_action"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/confirm/", views.notice_confirm, name="notice_confirm"),
    path("work-items/<int:pk>/done/", views.work_item_done, name="work_item_done"),
]
