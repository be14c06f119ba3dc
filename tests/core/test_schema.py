"""The OpenAPI schema as a contract a client can be written from: typed, closed, with its
errors and examples. Whether the answers keep to it is the fuzzing's part
(``tests/workflow/test_api_fuzz.py``); this checks the schema itself."""

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT4

from apps.core.schema import COMMON_CODES


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _objects(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{path}[{index}]")


def test_every_object_in_the_schema_names_its_fields(schema) -> None:
    untyped = [
        path
        for path, node in _objects(schema)
        if "properties" not in node
        and path != "/components/schemas/FieldErrors"
        # the code of an error response: ErrorOutput narrowed by allOf
        and not path.endswith("/allOf[1]")
    ]
    assert untyped == []


def test_answers_are_closed_objects_with_every_field_required(schema) -> None:
    components = schema["components"]["schemas"]
    outputs = {
        name: component
        for name, component in components.items()
        if "properties" in component and not name.endswith("Request") and name not in {"ErrorOutput", "FieldErrors"}
    }
    assert {"OfferOutput", "OfferRequestOutput", "OfferRequestWithContactOutput", "RequestDetailOutput"} <= set(outputs)
    for name, component in outputs.items():
        assert component["additionalProperties"] is False, name
        assert component["required"] == sorted(component["properties"]), name
    assert components["ErrorOutput"]["required"] == ["code", "detail"]


def test_the_request_in_an_offer_is_one_of_two_shapes_differing_by_the_contact(schema) -> None:
    components = schema["components"]["schemas"]
    offer = components["OfferOutput"]["properties"]
    assert offer["request"]["allOf"] == [{"$ref": "#/components/schemas/OfferRequest"}]
    assert "holds a place (accepted, or arrived)" in offer["request"]["description"]
    assert components["OfferRequest"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/OfferRequestOutput"},
            {"$ref": "#/components/schemas/OfferRequestWithContactOutput"},
        ]
    }
    without = set(components["OfferRequestOutput"]["properties"])
    with_contact = set(components["OfferRequestWithContactOutput"]["properties"])
    assert with_contact - without == {"address", "contact_phone", "latitude", "longitude"}
    assert without <= with_contact
    assert offer["volunteer"] == {"$ref": "#/components/schemas/OfferVolunteerOutput"}


def _refs_to(schema: dict[str, Any], prop: str) -> set[str]:
    """What every property named ``prop`` (or the items of it) refers to, in every answer's component."""
    found = set()
    for name, component in schema["components"]["schemas"].items():
        node = None if name.endswith("Request") else component.get("properties", {}).get(prop)
        if node is None:
            continue
        node = node.get("items", node)
        found.add(node.get("$ref") or node["allOf"][0]["$ref"])
    return found


def test_a_category_has_one_shape_wherever_an_answer_names_it(schema) -> None:
    assert _refs_to(schema, "category") == {"#/components/schemas/CategoryRef"}
    assert _refs_to(schema, "categories") == {"#/components/schemas/CategoryRef"}
    assert schema["components"]["schemas"]["CategoryRef"]["properties"].keys() == {"id", "name"}
    assert _refs_to(schema, "village") == {"#/components/schemas/PlaceRef"}


def test_me_is_typed_with_roles_and_the_staff_node(schema) -> None:
    components = schema["components"]["schemas"]
    me = components["MeOutput"]["properties"]
    assert components[me["roles"]["items"]["$ref"].rsplit("/", 1)[1]]["enum"] == [
        "resident",
        "volunteer",
        "staff",
        "dispatcher",
        "admin",
    ]
    assert me["staff_node"]["allOf"] == [{"$ref": "#/components/schemas/OrgNodeRef"}]
    assert me["staff_node"]["nullable"] is True
    assert me["phone"]["description"] == "Your own number, in full."


def _codes(operation: dict[str, Any], status: int) -> list[str]:
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/ErrorOutput"}
    return schema["allOf"][1]["properties"]["code"]["enum"]


def test_each_operation_lists_the_error_codes_it_may_answer_with(schema) -> None:
    paths = schema["paths"]
    accept = paths["/api/v1/offers/{id}/accept/"]["post"]
    assert _codes(accept, 409) == sorted(
        [
            *COMMON_CODES[409],
            "offer_taken",
            "request_cancelled",
            "offer_expired",
            "offer_declined",
            "offer_released",
            "offer_closed",
        ]
    )
    assert "- `offer_taken`: The places were filled by others." in accept["responses"]["409"]["description"]
    assert _codes(accept, 401) == ["authentication_failed", "not_authenticated"]
    assert accept["responses"]["401"]["headers"]["WWW-Authenticate"]["schema"]["type"] == "string"
    assert _codes(accept, 403) == ["forbidden", "permission_denied"]
    dispatch = paths["/api/v1/requests/{id}/dispatch/"]["post"]
    assert "already_offered" in _codes(dispatch, 409)
    assert {"unknown_volunteer", "volunteer_unavailable", "invalid_idempotency_key"} <= set(_codes(dispatch, 400))
    assert _codes(dispatch, 422) == ["idempotency_key_reused"]
    assert _codes(paths["/api/v1/requests/{id}/review/"]["post"], 400) == sorted(
        [*COMMON_CODES[400], "reason_required"]
    )
    token = paths["/api/v1/auth/token/"]["post"]
    assert _codes(token, 429) == ["throttled"]
    assert "Retry-After" in token["responses"]["429"]["headers"]
    # An operation that creates nothing takes no key and lists no key error.
    assert "422" not in paths["/api/v1/offers/{id}/accept/"]["post"]["responses"]


CREATING = [
    "/api/v1/auth/token/",
    "/api/v1/requests/",
    "/api/v1/requests/on-behalf/",
    "/api/v1/requests/{id}/review/",
    "/api/v1/requests/{id}/dispatch/",
    "/api/v1/requests/{id}/rate/",
]


@pytest.mark.parametrize("path", CREATING)
def test_the_main_calls_have_examples_that_keep_to_their_own_schema(schema, path) -> None:
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    assert body["examples"]
    registry = Registry().with_resource("urn:api", DRAFT4.create_resource(schema))
    validator = jsonschema.Draft4Validator({"$ref": "urn:api#" + body["schema"]["$ref"][1:]}, registry=registry)
    for name, example in body["examples"].items():
        errors = [error.message for error in validator.iter_errors(example["value"])]
        assert errors == [], name


def test_the_schema_builds_without_a_warning_and_is_valid_openapi(tmp_path) -> None:
    # A warning is a real defect in the published schema: two components with one name, say,
    # document one of two bodies wrongly, and a colliding enum gets a hash for a name.
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    assert "openapi: 3.0.3" in text
    assert "TeamTaskDeclineInputRequest:" in text and "DeclineInputRequest:" in text
    assert "FollowUpStatusEnum:" in text and "MembershipStatusEnum:" in text
