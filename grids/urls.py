from django.urls import path

from . import import_views, views

app_name = "grids"

urlpatterns = [
    path("my/households/", views.my_households, name="my_households"),
    path("staff/households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("staff/representatives/", views.representative_list, name="representative_list"),
    path("representatives/<int:pk>/card/", views.representative_card, name="representative_card"),
    path("p/card/<str:token>/", views.card_verify, name="card_verify"),
    path("staff/import/territory/", import_views.territory_import_page, name="import_territory"),
    path("staff/import/roster/", import_views.roster_import_page, name="import_roster"),
]
