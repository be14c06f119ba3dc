from django.urls import path

from .views import resident, staff, volunteer

app_name = "workflow"
urlpatterns = [
    path("r/requests/", resident.my_requests, name="my_requests"),
    path("r/requests/new/", resident.request_new, name="request_new"),
    path("r/help/", resident.request_help, name="request_help"),
    path("r/requests/<int:pk>/", resident.request_detail, name="request_detail"),
    path("r/requests/<int:pk>/rate/", resident.request_rate, name="request_rate"),
    path("r/requests/<int:pk>/cancel/", resident.request_cancel, name="request_cancel"),
    path("v/offers/", volunteer.volunteer_offers, name="volunteer_offers"),
    path("v/tasks/", volunteer.volunteer_tasks, name="volunteer_tasks"),
    path("v/offers/<int:pk>/<slug:verb>/", volunteer.volunteer_offer_action, name="volunteer_offer_action"),
    path("s/queue/", staff.staff_queue, name="staff_queue"),
    path("s/requests/new/", staff.staff_request_new, name="staff_request_new"),
    path("s/requests/<int:pk>/", staff.staff_request_detail, name="staff_request_detail"),
    path("s/requests/<int:pk>/review/", staff.staff_review, name="staff_review"),
    path("s/requests/<int:pk>/dispatch/", staff.staff_dispatch, name="staff_dispatch"),
    path("s/requests/<int:pk>/cancel/", staff.staff_cancel, name="staff_cancel"),
    path("s/requests/<int:pk>/rate/", staff.staff_rate, name="staff_rate"),
]
