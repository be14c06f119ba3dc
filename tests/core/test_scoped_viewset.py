"""The guard of the scoped base view: a viewset reads through its scoped selector, or says in
so many words why it does not."""

import pytest
from django.db.models import QuerySet
from rest_framework import mixins

from apps.core.api import ScopedViewSet
from apps.organisation.api import CategoryViewSet, PlaceViewSet
from apps.organisation.models import Place, ServiceCategory
from apps.service_requests.models import ServiceRequest
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import ADDRESS, CONTACT_PHONE, TITLE, submit
from zhuozhou_civic.api_urls import router

# The only viewsets that read unscoped, and why that is fine: public reference data.
UNSCOPED_ALLOWED = {
    "categories": CategoryViewSet,
    "places": PlaceViewSet,
}


def test_setting_queryset_on_a_scoped_viewset_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError) as raised:

        class Leaky(mixins.ListModelMixin, ScopedViewSet):
            queryset = ServiceRequest.objects.all()

    assert str(raised.value) == "Leaky must not set queryset; implement get_scoped_queryset()"


def test_overriding_get_queryset_on_a_scoped_viewset_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError) as raised:

        class Leaky(mixins.ListModelMixin, ScopedViewSet):
            def get_queryset(self) -> QuerySet[ServiceRequest]:
                return ServiceRequest.objects.all()

    assert str(raised.value) == "Leaky must not override get_queryset; implement get_scoped_queryset()"


def test_an_unscoped_viewset_may_set_queryset_or_override_get_queryset_when_it_says_why() -> None:
    class Reference(mixins.ListModelMixin, ScopedViewSet):
        dangerously_unscoped = "public reference data"
        queryset = Place.objects.all()

    class OtherReference(mixins.ListModelMixin, ScopedViewSet):
        dangerously_unscoped = "public reference data"

        def get_queryset(self) -> QuerySet[ServiceCategory]:
            return ServiceCategory.objects.all()

    assert Reference.queryset is not None
    assert OtherReference.get_queryset is not ScopedViewSet.get_queryset


def test_an_empty_reason_is_no_reason() -> None:
    with pytest.raises(TypeError):

        class Leaky(mixins.ListModelMixin, ScopedViewSet):
            dangerously_unscoped = ""
            queryset = ServiceRequest.objects.all()


def test_a_subclass_of_an_unscoped_viewset_must_give_its_own_reason() -> None:
    """The reason is not inherited: a subclass of a reference-data viewset is checked again."""
    with pytest.raises(TypeError):

        class Narrower(CategoryViewSet):
            pass

    class Reasoned(CategoryViewSet):
        dangerously_unscoped = "public reference data, in another order"

    assert issubclass(Reasoned, ScopedViewSet)


def test_a_scoped_viewset_needs_nothing_but_its_selector() -> None:
    class Scoped(mixins.ListModelMixin, ScopedViewSet):
        def get_scoped_queryset(self) -> QuerySet[ServiceRequest]:
            return ServiceRequest.objects.none()

    assert Scoped.get_queryset is ScopedViewSet.get_queryset


def test_every_viewset_of_the_api_is_scoped_and_only_the_allowed_ones_read_unscoped() -> None:
    registered: dict[str, type[ScopedViewSet]] = {}
    for prefix, viewset, _basename in router.registry:
        assert issubclass(viewset, ScopedViewSet), prefix
        registered[prefix] = viewset
    assert sorted(registered) == [
        "categories",
        "follow-ups",
        "notifications",
        "offers",
        "places",
        "requests",
        "team-memberships",
        "teams",
        "volunteer-applications",
        "volunteers",
    ]
    unscoped = {prefix: viewset for prefix, viewset in registered.items() if viewset.dangerously_unscoped}
    assert unscoped == UNSCOPED_ALLOWED
    for prefix, viewset in registered.items():
        if prefix in UNSCOPED_ALLOWED:
            continue
        assert viewset.queryset is None, prefix
        assert viewset.get_queryset is ScopedViewSet.get_queryset, prefix
        assert viewset.get_scoped_queryset is not ScopedViewSet.get_scoped_queryset, prefix


def test_a_volunteer_of_township_b_cannot_read_a_request_of_township_a(cast, org, api) -> None:
    """Through the scoped selector: not found, as if it did not exist, and nothing of it shown."""
    request = submit(requester=cast.resident, village=org["village_a1"], category=org["category"])
    volunteer_b = make_volunteer(township=org["township_b"], village=org["village_b1"], categories=[org["category"]])

    response = api(volunteer_b).get(f"/api/v1/requests/{request.id}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到，或您无权查看。", "code": "not_found"}
    text = response.content.decode()
    assert TITLE not in text and ADDRESS not in text and CONTACT_PHONE not in text
    listed = api(volunteer_b).get("/api/v1/requests/")
    assert listed.status_code == 200
    assert listed.json()["results"] == []
