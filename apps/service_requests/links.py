"""The pages a notification about a request opens, by who reads it. Notifications store the
link they were written with, so the inbox needs to know no page of any app."""

from django.urls import reverse


def for_requester(request_id: int) -> str:
    return reverse("workflow:request_detail", args=[request_id])


def for_staff(request_id: int) -> str:
    return reverse("workflow:staff_request_detail", args=[request_id])


def volunteer_offers() -> str:
    return reverse("workflow:volunteer_offers")


def volunteer_tasks() -> str:
    return reverse("workflow:volunteer_tasks")
