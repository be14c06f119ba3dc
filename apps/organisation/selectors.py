"""Reads of the organisation tree and reference data."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.core.errors import DomainError

from .models import OrgNode, Place, ServiceCategory


def org_subtree(*, node: OrgNode) -> QuerySet[OrgNode]:
    """The node and everything under it, in one indexed prefix query."""
    subtree: QuerySet[OrgNode] = OrgNode.objects.filter(path__startswith=node.path)
    return subtree


def org_ancestors_and_self(*, node: OrgNode) -> QuerySet[OrgNode]:
    steplen = OrgNode.steplen
    prefixes = [node.path[: i * steplen] for i in range(1, node.depth + 1)]
    ancestors: QuerySet[OrgNode] = OrgNode.objects.filter(path__in=prefixes)
    return ancestors


def hotline_for(node: OrgNode) -> str:
    """The number residents of ``node`` call: its own hotline, else its nearest ancestor's that
    has one (a village station without one answers on its township office's line, that on the
    centre's). Empty when no node up to the root has one. No query when the node has its own."""
    if node.hotline:
        return node.hotline
    nearest: str | None = (
        org_ancestors_and_self(node=node)
        .exclude(hotline="")
        .order_by("-depth")
        .values_list("hotline", flat=True)
        .first()
    )
    return nearest or ""


def centre_hotline() -> str:
    """The centre's hotline (the root of the tree), for pages before log-in; empty if none is set."""
    number: str | None = (
        OrgNode.objects.filter(depth=1, kind=OrgNode.Kind.CENTRE)
        .exclude(hotline="")
        .order_by("path")
        .values_list("hotline", flat=True)
        .first()
    )
    return number or ""


def station_for_village(*, village: Place) -> OrgNode:
    """The station that owns a village; the township office when the village has no station."""
    node: OrgNode | None = (
        OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION, place=village).first()
        or OrgNode.objects.filter(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place_id=village.parent_id).first()
    )
    if node is None:
        raise DomainError(_("该村/社区尚未设立实践站，请联系所在乡镇。"), code="no_station")
    return node


def active_categories() -> QuerySet[ServiceCategory]:
    return ServiceCategory.objects.filter(is_active=True)


def townships() -> QuerySet[Place]:
    return Place.objects.filter(kind=Place.Kind.TOWNSHIP).order_by("code")


def villages(*, township_id: int | None = None) -> QuerySet[Place]:
    qs = Place.objects.filter(kind=Place.Kind.VILLAGE).order_by("parent__code", "name")
    if township_id is not None:
        qs = qs.filter(parent_id=township_id)
    return qs
