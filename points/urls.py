from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("points/claims/", views.claim_queue, name="claim_queue"),
    path("points/claims/<int:pk>/", views.claim_decide, name="claim_decide"),
    path("points/claims/batches/<int:pk>/", views.batch_decide, name="batch_decide"),
    path("points/claim/", views.claim_pick_household, name="claim_pick"),
    path("points/claim/<int:household_id>/", views.claim_new, name="claim_new"),
    path("points/award/", views.bulk_award, name="bulk_award"),
    path("points/households/<int:household_id>/passbook/", views.passbook, name="passbook"),
    path("points/counter/", views.counter, name="counter"),
    path("points/counter/<int:household_id>/", views.counter_household, name="counter_household"),
    path("points/redemptions/<int:pk>/", views.redemption_receipt, name="redemption_receipt"),
    path("points/shops/", views.shop_list, name="shop_list"),
    path("points/shops/<int:pk>/report/", views.shop_report, name="shop_report"),
    path("points/rules/", views.rule_list, name="rule_list"),
    path("points/honours/", views.honour_list, name="honour_list"),
    path(
        "points/honours/<int:pk>/certificate/",
        views.honour_certificate,
        name="honour_certificate",
    ),
    path("p/passbook/", views.public_lookup, name="public_lookup"),
    path("p/passbook/<str:code>/", views.public_passbook, name="public_passbook"),
    path("p/<str:village_code>/honours/", views.public_honours, name="public_honours"),
]

# 红黑榜 (quarterly red/black lists): points/list_views.py
from . import list_views  # noqa: E402

urlpatterns += [
    path("points/lists/", list_views.staff_lists, name="staff_lists"),
    path(
        "points/lists/entries/<int:pk>/withdraw/",
        list_views.staff_entry_withdraw,
        name="list_entry_withdraw",
    ),
    path(
        "points/lists/entries/<int:pk>/objection/",
        list_views.staff_objection_record,
        name="list_objection_record",
    ),
    path(
        "points/lists/objections/<int:pk>/decide/",
        list_views.staff_objection_decide,
        name="list_objection_decide",
    ),
    path("p/<str:village_code>/lists/", list_views.public_lists, name="public_lists"),
    path(
        "p/<str:village_code>/lists/print/",
        list_views.public_lists_print,
        name="public_lists_print",
    ),
]
