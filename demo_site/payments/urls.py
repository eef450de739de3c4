from django.urls import path

from . import views

urlpatterns = [
    path("api/transfers/", views.TransfersView.as_view(), name="api-transfers"),
    path("demo/transfers/", views.transfer_list, name="demo-transfers"),
]
