from django.urls import path

from . import views

app_name = "workflow"
urlpatterns = [
    path("r/requests/", views.my_requests, name="my_requests"),
    path("r/requests/new/", views.request_new, name="request_new"),
    path("r/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("r/requests/<int:pk>/rate/", views.request_rate, name="request_rate"),
    path("r/requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("v/offers/", views.volunteer_offers, name="volunteer_offers"),
    path("v/tasks/", views.volunteer_tasks, name="volunteer_tasks"),
    path("v/offers/<int:pk>/<slug:verb>/", views.volunteer_offer_action, name="volunteer_offer_action"),
    path("s/queue/", views.staff_queue, name="staff_queue"),
    path("s/requests/new/", views.staff_request_new, name="staff_request_new"),
    path("s/requests/<int:pk>/", views.staff_request_detail, name="staff_request_detail"),
    path("s/requests/<int:pk>/review/", views.staff_review, name="staff_review"),
    path("s/requests/<int:pk>/dispatch/", views.staff_dispatch, name="staff_dispatch"),
    path("s/requests/<int:pk>/cancel/", views.staff_cancel, name="staff_cancel"),
    path("s/requests/<int:pk>/rate/", views.staff_rate, name="staff_rate"),
]
