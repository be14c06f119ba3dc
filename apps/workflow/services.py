"""Writes that span the domain apps."""

from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.accounts.services import resident_get_or_create
from apps.core.errors import DomainError
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import RequestInput, request_submit


def request_submit_on_behalf(
    *, staff: User, data: RequestInput, requester_phone: str, requester_name: str, channel: str
) -> ServiceRequest:
    """代点单: staff enter a request taken by phone or at the desk for a resident of their area.

    Preconditions: ``staff`` is staff of a node, or an administrator. Raises DomainError
    ``out_of_area`` for a village, or ``out_of_field`` for a service field (a sub-centre's),
    outside the staff member's area.
    Staff entering the request are its review: it is accepted (受理) on entry, straight into
    the dispatch queue, with the staff member as the event's actor.
    Side effects: the resident is registered (without a password) if their phone is new; then
    as :func:`request_submit` with ``accept_on_entry``: the resident is told it was accepted,
    the staff member who entered it is told nothing."""
    area = area_of(staff)
    if not area.covers_place(township_id=data.village.parent_id, village_id=data.village.id):
        raise DomainError(_("该村/社区不在您的服务范围内。"), code="out_of_area")
    if not area.covers(township_id=data.village.parent_id, village_id=data.village.id, category_id=data.category.id):
        raise DomainError(_("该服务类别不在您的服务范围内。"), code="out_of_field")
    with transaction.atomic():
        requester = resident_get_or_create(phone=requester_phone, name=requester_name)
        return request_submit(data=data, requester=requester, entered_by=staff, channel=channel, accept_on_entry=True)
