"""FieldsBuiltOnce: fields built once per class, never shared between instances."""

import copy

from rest_framework import serializers

from apps.core.serializers import FieldsBuiltOnce
from apps.dispatch.serializers import OfferOutput
from apps.service_requests.serializers import RequestListOutput
from tests.workflow.scenario import advance, build_world


def test_each_instance_has_its_own_fields_bound_to_itself() -> None:
    first, second = OfferOutput(), OfferOutput()
    for name in ("status", "request", "volunteer"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
    nested = second.fields["volunteer"]
    assert isinstance(nested, serializers.Serializer)
    assert nested.fields["name"].parent is nested
    assert nested.root is second


def test_the_answer_is_what_drf_builds_each_time(cast, org) -> None:
    world = advance(build_world(cast, org), "offered")

    # RequestListOutput without the mixin: DRF's own field building, every time.
    built_each_time: type[serializers.ModelSerializer] = type(
        "BuiltEachTime",
        (serializers.ModelSerializer,),
        {**copy.deepcopy(RequestListOutput._declared_fields), "Meta": RequestListOutput.Meta},
    )

    assert issubclass(RequestListOutput, FieldsBuiltOnce)
    assert not issubclass(built_each_time, FieldsBuiltOnce)
    for _ in range(2):  # the second use reads the fields built by the first
        assert RequestListOutput(world.request).data == built_each_time(world.request).data
