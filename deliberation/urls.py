from django.urls import path, re_path

from . import views

app_name = "deliberation"

VILLAGE = r"p/(?P<village_code>[0-9]{12})/"

urlpatterns = [
    path("staff/bodies/", views.body_list, name="body_list"),
    path("staff/bodies/new/", views.body_create, name="body_create"),
    path("staff/bodies/<int:pk>/", views.body_detail, name="body_detail"),
    path("staff/meetings/", views.meeting_list, name="meeting_list"),
    path("staff/meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/announce/", views.meeting_announce, name="meeting_announce"),
    path("meetings/<int:pk>/conclude/", views.meeting_conclude, name="meeting_conclude"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/photos/", views.meeting_photo_add, name="meeting_photo_add"),
    path("meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path("meetings/<int:pk>/motions/new/", views.motion_create, name="motion_create"),
    path("staff/ballots/new/", views.ballot_create, name="ballot_create"),
    path("motions/<int:pk>/", views.motion_detail, name="motion_detail"),
    path("motions/<int:pk>/vote/", views.motion_vote, name="motion_vote"),
    path("motions/<int:pk>/open/", views.motion_open, name="motion_open"),
    path("motions/<int:pk>/close/", views.motion_close, name="motion_close"),
    path("staff/rules/", views.rule_version_list, name="rule_version_list"),
    path("staff/rules/new/", views.rule_version_create, name="rule_version_create"),
    path("rules/versions/<int:pk>/", views.rule_version_detail, name="rule_version_detail"),
    path("rules/versions/<int:pk>/print/", views.rule_version_print, name="rule_version_print"),
    path(
        "rules/versions/<int:pk>/<slug:action>/",
        views.rule_version_detail,
        name="rule_version_action",
    ),
    path("rules/commitments/", views.commitments, name="commitments"),
    re_path(rf"^{VILLAGE}$", views.public_board, name="public_board"),
    re_path(rf"^{VILLAGE}rules/$", views.public_rules, name="public_rules"),
    re_path(
        rf"^{VILLAGE}rules/(?P<number>[0-9]{{1,4}})/$",
        views.public_article,
        name="public_article",
    ),
    re_path(
        rf"^{VILLAGE}consultation/(?P<pk>[0-9]+)/$",
        views.public_consultation,
        name="public_consultation",
    ),
]
