"""Tests of the pure ``rar_provider.details`` package (RFC 9396).

No Django settings and no database: only ``rar_provider.details`` and
``rar_provider.errors`` are imported. Requirement IDs in the test names:
RAR-01 (an array of objects with a string ``type``), RAR-04 (the common
fields of §2.2), RAR-05 (several entries of one type), RAR-06 (limits),
RAR-07 (type names compared exactly).
"""

from __future__ import annotations

import copy
import json

import pytest

from rar_provider.details import (
    ARRAY_COMMON_FIELDS,
    Limits,
    Row,
    check_common_fields,
    check_limits,
    check_schema_is_valid,
    covering_entries,
    detail_is_covered,
    details_are_covered,
    format_amount,
    humanize_key,
    is_amount,
    json_equal,
    parse_authorization_details,
    present_detail,
    uncovered_index,
    validate_against_schema,
)
from rar_provider.details import schema as schema_module
from rar_provider.errors import AuthorizationDetailsProblem

LIMITS = Limits()

# RFC 9396 §2, Figure 2 (also §1): a payment initiation.
PAYMENT_INITIATION = {
    "type": "payment_initiation",
    "actions": ["initiate", "status", "cancel"],
    "locations": ["https://example.com/payments"],
    "instructedAmount": {"currency": "EUR", "amount": "123.50"},
    "creditorName": "Merchant A",
    "creditorAccount": {"iban": "DE02100100109307118603"},
    "remittanceInformationUnstructured": "Ref Number Merchant",
}

# RFC 9396 §2, Figure 1: access to account information.
ACCOUNT_INFORMATION = {
    "type": "account_information",
    "actions": ["list_accounts", "read_balances", "read_transactions"],
    "locations": ["https://example.com/accounts"],
}

# RFC 9396 §2.2: a type using datatypes.
CUSTOMER_INFORMATION = {
    "type": "customer_information",
    "locations": ["https://example.com/customers"],
    "actions": ["read", "write"],
    "datatypes": ["contacts", "photos"],
}

# RFC 9396 §2.2: identifier and privileges.
MEDICAL_RECORD = {
    "type": "medical_record",
    "identifier": "patient-541235",
    "locations": ["https://records.example.com/"],
    "actions": ["read"],
    "privileges": ["admin"],
}

# The JSON Schema of payment_initiation, as an operator would register it.
PAYMENT_SCHEMA = {
    "type": "object",
    "required": ["type", "instructedAmount", "creditorName", "creditorAccount"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "payment_initiation"},
        "actions": {"type": "array", "items": {"enum": ["initiate", "status", "cancel"]}},
        "locations": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "instructedAmount": {
            "type": "object",
            "required": ["currency", "amount"],
            "properties": {
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "amount": {"type": ["string", "number"], "pattern": "^[0-9]+(\\.[0-9]+)?$"},
            },
        },
        "creditorName": {"type": "string"},
        "creditorAccount": {
            "type": "object",
            "properties": {"iban": {"type": "string"}},
            "required": ["iban"],
        },
        "remittanceInformationUnstructured": {"type": "string"},
        "executionDate": {"type": "string", "format": "date"},
        "beneficiaries": {"type": "array", "items": {"type": "object", "required": ["name"]}},
    },
}


def parse(value: object, limits: Limits = LIMITS) -> list[dict]:
    return parse_authorization_details(json.dumps(value), limits)


def problem(call, *args, **kwargs) -> AuthorizationDetailsProblem:
    with pytest.raises(AuthorizationDetailsProblem) as info:
        call(*args, **kwargs)
    return info.value


def nested(depth: int, container: str = "object") -> dict:
    """An entry whose deepest container is at ``depth`` (the entry object itself is level 1)."""
    value: object = {} if container == "object" else []
    for _ in range(depth - 2):
        value = {"n": value} if container == "object" else [value]
    return {"type": "t", "n": value} if depth > 1 else {"type": "t"}


# ---------------------------------------------------------------------------
# RAR-01: parsing an array of objects with a string type (RFC 9396 §2, §5)


@pytest.mark.parametrize("raw", [None, ""])
def test_rar_01_absent_parameter_gives_no_details(raw):
    assert parse_authorization_details(raw, LIMITS) == []


@pytest.mark.parametrize(
    "details",
    [
        [PAYMENT_INITIATION],
        [ACCOUNT_INFORMATION],
        [ACCOUNT_INFORMATION, PAYMENT_INITIATION],
        [CUSTOMER_INFORMATION],
        [MEDICAL_RECORD],
    ],
    ids=["payment_initiation", "account_information", "rfc_figure_1", "customer_information", "medical"],
)
def test_rar_01_rfc_9396_examples_pass(details):
    parsed = parse(details)
    assert parsed == details
    check_common_fields(parsed)


def test_rar_01_rfc_example_matches_its_schema():
    validate_against_schema(0, PAYMENT_INITIATION, PAYMENT_SCHEMA)


def test_rar_01_whitespace_and_key_order_are_kept():
    raw = '  [ { "b": 1, "type": "t", "a": 2 } ]\n'
    parsed = parse_authorization_details(raw, LIMITS)
    assert parsed == [{"b": 1, "type": "t", "a": 2}]
    assert list(parsed[0]) == ["b", "type", "a"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[", "authorization_details is not valid JSON: Expecting value: line 1 column 2 (char 1)"),
        ("{'type': 'a'}", "authorization_details is not valid JSON: Expecting property name enclosed"),
        ('[{"type": "a"}] x', "authorization_details is not valid JSON: Extra data"),
        ("payment_initiation", "authorization_details is not valid JSON: Expecting value"),
    ],
)
def test_rar_01_invalid_json(raw, message):
    error = problem(parse_authorization_details, raw, LIMITS)
    assert error.description.startswith(message)
    assert error.error == "invalid_authorization_details"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_rar_01_nan_and_infinity_rejected(constant):
    raw = '[{"type": "t", "amount": ' + constant + "}]"
    error = problem(parse_authorization_details, raw, LIMITS)
    assert error.description == (
        f"authorization_details is not valid JSON: {constant} is not allowed (RFC 8259 §6)"
    )


def test_rar_01_number_too_large_for_a_float_rejected():
    error = problem(parse_authorization_details, '[{"type": "t", "amount": 1e400}]', LIMITS)
    assert error.description == "authorization_details is not valid JSON: the number 1e400 is out of range"


def test_rar_01_huge_integer_rejected_cleanly():
    raw = '[{"type": "t", "n": ' + "9" * 5000 + "}]"
    error = problem(parse_authorization_details, raw, Limits(max_bytes=10_000))
    assert error.description.startswith("authorization_details is not valid JSON: Exceeds the limit")


@pytest.mark.parametrize(
    "raw",
    [
        '[{"type": "a", "type": "b"}]',
        '[{"type": "a", "x": {"k": 1, "k": 2}}]',
        '[{"type": "a", "x": [{"k": 1, "k": 1}]}]',
    ],
)
def test_rar_01_duplicate_keys_rejected(raw):
    error = problem(parse_authorization_details, raw, LIMITS)
    assert error.description.startswith("authorization_details is not valid JSON: duplicate property")
    assert "in one object" in error.description


def test_rar_01_same_key_in_different_objects_is_fine():
    assert parse_authorization_details('[{"type": "a", "k": {"k": 1}}, {"type": "a", "k": 2}]', LIMITS)


def test_rar_01_deep_json_nesting_rejected_cleanly():
    raw = "[" * 2000 + "]" * 2000
    error = problem(parse_authorization_details, raw, Limits(max_bytes=10_000))
    assert error.description == "authorization_details is not valid JSON: nested too deeply"


@pytest.mark.parametrize("value", [{"type": "a"}, "a", 1, None, True])
def test_rar_01_not_an_array(value):
    error = problem(parse, value)
    assert error.description == "authorization_details must be a JSON array of objects"


def test_rar_01_empty_array():
    assert problem(parse, []).description == "authorization_details must not be an empty array"


@pytest.mark.parametrize("element", ["payment_initiation", 1, None, [], [{"type": "a"}], True])
def test_rar_01_element_not_an_object(element):
    error = problem(parse, [{"type": "a"}, {"type": "b"}, element])
    assert error.description == "authorization_details[2] must be a JSON object"


def test_rar_01_missing_type():
    error = problem(parse, [{"actions": ["read"]}])
    assert error.description == 'authorization_details[0] has no "type"'


def test_rar_01_missing_type_in_later_entry():
    error = problem(parse, [{"type": "a"}, {"Type": "a"}])
    assert error.description == 'authorization_details[1] has no "type"'


@pytest.mark.parametrize("type_", ["", 1, None, True, ["a"], {"name": "a"}])
def test_rar_01_type_must_be_a_non_empty_string(type_):
    error = problem(parse, [{"type": type_}])
    assert error.description == "authorization_details[0].type must be a non-empty string"
    assert error.error == "invalid_authorization_details"


# ---------------------------------------------------------------------------
# RAR-04: common fields (RFC 9396 §2.2)


@pytest.mark.parametrize(
    "detail",
    [
        {"type": "t"},
        {"type": "t", "actions": []},
        {"type": "t", "locations": ["https://a.example"], "actions": ["read"]},
        {"type": "t", "datatypes": ["x", "y"], "privileges": ["admin"], "identifier": "id-1"},
        {"type": "t", "identifier": ""},
        {"type": "t", "other": 1},
    ],
)
def test_rar_04_common_fields_accepted(detail):
    check_common_fields([detail])


@pytest.mark.parametrize("field", ARRAY_COMMON_FIELDS)
@pytest.mark.parametrize("value", ["read", ["read", 1], [None], [["read"]], {"read": True}, None, 1])
def test_rar_04_array_common_fields_must_be_arrays_of_strings(field, value):
    error = problem(check_common_fields, [{"type": "t"}, {"type": "t", field: value}])
    assert error.description == f"authorization_details[1].{field} must be an array of strings"
    assert error.error == "invalid_authorization_details"


@pytest.mark.parametrize("value", [1, None, ["id"], {"id": 1}, True])
def test_rar_04_identifier_must_be_a_string(value):
    error = problem(check_common_fields, [{"type": "t", "identifier": value}])
    assert error.description == "authorization_details[0].identifier must be a string"


def test_rar_04_actions_message_matches_spec():
    error = problem(check_common_fields, [{"type": "t", "actions": "read"}])
    assert error.description == "authorization_details[0].actions must be an array of strings"


# ---------------------------------------------------------------------------
# RAR-05: several entries of one type (RFC 9396 §2)


def test_rar_05_several_entries_of_one_type_allowed():
    details = [
        {"type": "account_information", "actions": ["list_accounts"], "locations": ["https://a.example"]},
        {"type": "account_information", "actions": ["read_balances"], "locations": ["https://b.example"]},
        {"type": "account_information", "actions": ["read_balances"], "locations": ["https://b.example"]},
    ]
    parsed = parse(details)
    assert parsed == details
    check_common_fields(parsed)
    for index, detail in enumerate(parsed):
        validate_against_schema(index, detail, {"type": "object"})


def test_rar_05_each_entry_is_covered_by_its_own_grant():
    a = {"type": "account_information", "actions": ["list_accounts"], "locations": ["https://a.example"]}
    b = {"type": "account_information", "actions": ["read_balances"], "locations": ["https://b.example"]}
    assert details_are_covered([a, b], [a, b])
    assert details_are_covered([b], [a, b])
    assert not details_are_covered([a, b], [a])
    assert uncovered_index([a, b], [a]) == 1
    # Two grants of one type are not merged: an entry spanning both is not covered.
    mixed = {"type": "account_information", "actions": ["list_accounts"], "locations": ["https://b.example"]}
    assert not details_are_covered([mixed], [a, b])


# ---------------------------------------------------------------------------
# RAR-06: limits (RFC 9396 §12)


def test_rar_06_default_limits():
    assert Limits() == Limits(
        max_bytes=5120,
        max_entries=5,
        max_properties=10,
        max_name_length=255,
        max_string_length=255,
        max_depth=5,
        name_pattern=r"^[A-Za-z0-9_.-]+$",
    )


def padded(details: list[dict], size: int) -> str:
    raw = json.dumps(details)
    assert len(raw.encode()) <= size
    return raw + " " * (size - len(raw.encode()))


def test_rar_06_max_bytes_allowed():
    raw = padded([PAYMENT_INITIATION], 5120)
    assert len(raw.encode("utf-8")) == 5120
    assert parse_authorization_details(raw, LIMITS) == [PAYMENT_INITIATION]


def test_rar_06_too_many_bytes():
    raw = padded([PAYMENT_INITIATION], 5121)
    error = problem(parse_authorization_details, raw, LIMITS)
    assert error.description == "authorization_details is 5121 bytes; at most 5120 are allowed"
    assert error.error == "invalid_authorization_details"


def test_rar_06_size_checked_before_parsing():
    error = problem(parse_authorization_details, "x" * 6000, LIMITS)
    assert error.description == "authorization_details is 6000 bytes; at most 5120 are allowed"


def test_rar_06_size_counts_utf8_bytes_not_characters():
    raw = json.dumps([{"type": "t", "name": "€€€€"}], ensure_ascii=False)
    size = len(raw.encode("utf-8"))
    assert size == len(raw) + 8
    assert parse_authorization_details(raw, Limits(max_bytes=size))
    error = problem(parse_authorization_details, raw, Limits(max_bytes=size - 1))
    assert error.description == f"authorization_details is {size} bytes; at most {size - 1} are allowed"


@pytest.mark.parametrize("count", [1, 5])
def test_rar_06_up_to_five_entries(count):
    assert len(parse([{"type": "t"}] * count)) == count


def test_rar_06_too_many_entries():
    error = problem(parse, [{"type": "t"}] * 6)
    assert error.description == "authorization_details: 6 entries; at most 5 are allowed"
    error = problem(check_limits, [{"type": "t"}] * 6, LIMITS)
    assert error.description == "authorization_details: 6 entries; at most 5 are allowed"


def with_properties(count: int) -> dict:
    """An object of ``count`` properties, ``type`` included."""
    return {"type": "t", **{f"p{i}": i for i in range(count - 1)}}


def test_rar_06_ten_properties_allowed():
    assert parse([with_properties(10)])
    assert parse([{"type": "t", "nested": with_properties(10)}])


def test_rar_06_too_many_properties():
    error = problem(parse, [{"type": "t"}, with_properties(12)])
    assert error.description == "authorization_details[1]: has 12 properties; at most 10 are allowed"
    error = problem(parse, [with_properties(11)])
    assert error.description == "authorization_details[0]: has 11 properties; at most 10 are allowed"


def test_rar_06_too_many_properties_in_a_nested_object():
    error = problem(parse, [{"type": "t", "a": [{"x": 1}, with_properties(11)]}])
    assert error.description == "authorization_details[0].a[1]: has 11 properties; at most 10 are allowed"


@pytest.mark.parametrize(
    "detail",
    [
        {"type": "t", "s": "x" * 255},
        {"type": "t" * 255},
        {"type": "t", "instructedAmount": {"currency": "x" * 255}},
        {"type": "t", "actions": ["x" * 255]},
    ],
)
def test_rar_06_255_character_strings_allowed(detail):
    assert parse([detail]) == [detail]


@pytest.mark.parametrize(
    ("detail", "path"),
    [
        ({"type": "t", "s": "x" * 256}, "authorization_details[0].s"),
        ({"type": "t" * 256}, "authorization_details[0].type"),
        (
            {"type": "t", "instructedAmount": {"amount": "1", "currency": "x" * 256}},
            "authorization_details[0].instructedAmount.currency",
        ),
        ({"type": "t", "actions": ["read", "x" * 256]}, "authorization_details[0].actions[1]"),
        ({"type": "t", "a": [{"b": ["x" * 256]}]}, "authorization_details[0].a[0].b[0]"),
    ],
)
def test_rar_06_string_too_long(detail, path):
    error = problem(parse, [detail])
    assert error.description == f"{path}: string is longer than 255 characters"


def test_rar_06_string_length_counts_characters():
    assert parse([{"type": "t", "s": "€" * 255}])


def test_rar_06_property_name_length():
    assert parse([{"type": "t", "n" * 255: 1}])
    error = problem(parse, [{"type": "t", "a": {"n" * 256: 1}}])
    assert error.description.startswith('authorization_details[0].a: property name "nnnn')
    assert error.description.endswith("is longer than 255 characters")
    assert "n" * 100 not in error.description


@pytest.mark.parametrize("name", ["a", "instructedAmount", "source_account", "a.b", "a-b", "A9_.-z", "0"])
def test_rar_06_property_name_pattern_allowed(name):
    assert parse([{"type": "t", name: 1}])


@pytest.mark.parametrize("name", ["bad name!", "", "ä", "a b", "a/b", "a\n", "$ref", "a:b"])
def test_rar_06_property_name_pattern_rejected(name):
    error = problem(parse, [{"type": "t", name: 1}])
    assert error.description.startswith("authorization_details[0]: property name ")
    assert error.description.endswith(" may only contain a-z A-Z 0-9 _ . -")


def test_rar_06_property_name_message_matches_spec():
    error = problem(parse, [{"type": "t", "bad name!": 1}])
    assert (
        error.description
        == 'authorization_details[0]: property name "bad name!" may only contain a-z A-Z 0-9 _ . -'
    )


def test_rar_06_nested_property_name_names_its_object():
    error = problem(parse, [{"type": "t", "x": [{"ok": {"no way": 1}}]}])
    assert error.description.startswith('authorization_details[0].x[0].ok: property name "no way"')


def test_rar_06_unprintable_property_name_is_escaped_in_the_message():
    error = problem(parse, [{"type": "t", "a\nb": 1}])
    assert (
        error.description
        == 'authorization_details[0]: property name "a\\nb" may only contain a-z A-Z 0-9 _ . -'
    )


def test_rar_06_custom_name_pattern():
    limits = Limits(name_pattern=r"^[a-z]+$")
    assert parse([{"type": "t", "abc": 1}], limits)
    error = problem(parse, [{"type": "t", "aBc": 1}], limits)
    assert error.description == 'authorization_details[0]: property name "aBc" must match ^[a-z]+$'


@pytest.mark.parametrize("container", ["object", "array"])
@pytest.mark.parametrize("depth", [1, 2, 5])
def test_rar_06_depth_up_to_five_allowed(depth, container):
    """Depth counts objects and arrays; the entry object is level 1, so five levels in all are fine."""
    assert parse([nested(depth, container)])


@pytest.mark.parametrize("container", ["object", "array"])
def test_rar_06_depth_six_rejected(container):
    error = problem(parse, [nested(6, container)])
    path = (
        "authorization_details[0].n.n.n.n.n"
        if container == "object"
        else "authorization_details[0].n[0][0][0][0]"
    )
    assert error.description == (
        f"{path}: nested too deeply; at most 5 levels of objects and arrays are allowed "
        "(the entry object is level 1)"
    )


def test_rar_06_depth_definition_examples():
    # level 1: entry; 2: "a" (array); 3: its object; 4: "b"; 5: "c" -- scalars add no level.
    assert parse([{"type": "t", "a": [{"b": {"c": [1, "x", None]}}]}])
    with pytest.raises(AuthorizationDetailsProblem):
        parse([{"type": "t", "a": [{"b": {"c": [[]]}}]}])


def test_rar_06_custom_depth():
    assert parse([nested(2)], Limits(max_depth=2))
    error = problem(parse, [nested(3)], Limits(max_depth=2))
    assert error.description.startswith("authorization_details[0].n.n: nested too deeply; at most 2 levels")


def test_rar_06_unpaired_surrogate_rejected():
    error = problem(parse_authorization_details, '[{"type": "t", "s": "\\ud800"}]', LIMITS)
    assert error.description == "authorization_details[0].s: string contains an unpaired surrogate"


def test_rar_06_check_limits_directly():
    check_limits([PAYMENT_INITIATION, ACCOUNT_INFORMATION], LIMITS)
    error = problem(check_limits, [{"type": "t", "a": "xx"}], Limits(max_string_length=1))
    assert error.description == "authorization_details[0].a: string is longer than 1 characters"


def test_rar_06_limits_are_frozen():
    with pytest.raises(AttributeError):
        LIMITS.max_entries = 6  # type: ignore[misc]


# ---------------------------------------------------------------------------
# RAR-07: type names are compared exactly (RFC 9396 §2)


@pytest.mark.parametrize(
    "type_", ["payment_initiation", "Payment_Initiation", " payment_initiation ", "https://x/y"]
)
def test_rar_07_type_kept_verbatim(type_):
    assert parse([{"type": type_}])[0]["type"] == type_


@pytest.mark.parametrize(
    "other", ["Payment_initiation", "PAYMENT_INITIATION", "payment_initiation ", "payment-initiation"]
)
def test_rar_07_types_differing_in_case_or_spacing_are_not_covered(other):
    granted = dict(PAYMENT_INITIATION)
    requested = dict(PAYMENT_INITIATION, type=other)
    assert not detail_is_covered(requested, granted)
    assert not details_are_covered([requested], [granted])


def test_rar_07_comparator_chosen_by_exact_type():
    calls = []

    def always(requested, granted):
        calls.append((requested["type"], granted["type"]))
        return True

    requested = [{"type": "Sign"}]
    assert not details_are_covered(requested, [{"type": "sign"}], {"sign": always})
    assert calls == []


# ---------------------------------------------------------------------------
# JSON Schema (RFC 9396 §2: each type defines its fields; §5: mismatches are refused)


@pytest.mark.parametrize(
    "schema",
    [
        {},
        {"type": "object"},
        PAYMENT_SCHEMA,
        {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "string"}]},
    ],
)
def test_schema_valid(schema):
    check_schema_is_valid(schema)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ([], "a JSON Schema must be a JSON object"),
        (True, "a JSON Schema must be a JSON object"),
        ("object", "a JSON Schema must be a JSON object"),
        (None, "a JSON Schema must be a JSON object"),
        ({"type": "numbr"}, "type: 'numbr' is not valid under any of the given schemas"),
        ({"properties": {"a": {"pattern": "("}}}, "properties.a.pattern: '(' is not a 'regex'"),
        ({"required": "a"}, "required: 'a' is not of type 'array'"),
        ({"$schema": 7}, "$schema must be a string"),
        ({"$schema": "https://example.com/my-schema"}, "$schema names an unknown JSON Schema draft"),
        ({"items": [{"type": "string"}]}, "items: [{'type': 'string'}] is not of type 'object', 'boolean'"),
    ],
)
def test_schema_invalid(schema, message):
    with pytest.raises(ValueError) as info:
        check_schema_is_valid(schema)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        (
            dict(PAYMENT_INITIATION, instructedAmount={"currency": "EUR", "amount": []}),
            "authorization_details[0].instructedAmount.amount: [] is not of type 'string', 'number'",
        ),
        (
            {k: v for k, v in PAYMENT_INITIATION.items() if k != "creditorName"},
            "authorization_details[0]: 'creditorName' is a required property",
        ),
        (
            dict(PAYMENT_INITIATION, foo=1),
            "authorization_details[0]: Additional properties are not allowed ('foo' was unexpected)",
        ),
        (
            dict(PAYMENT_INITIATION, actions=["initiate", "delete"]),
            "authorization_details[0].actions[1]: 'delete' is not one of ['initiate', 'status', 'cancel']",
        ),
        (
            dict(PAYMENT_INITIATION, beneficiaries=[{"name": "a"}, {}]),
            "authorization_details[0].beneficiaries[1]: 'name' is a required property",
        ),
        (
            dict(PAYMENT_INITIATION, executionDate="31/12/2025"),
            "authorization_details[0].executionDate: '31/12/2025' is not a 'date'",
        ),
    ],
)
def test_schema_mismatch_names_entry_and_field(detail, message):
    error = problem(validate_against_schema, 0, detail, PAYMENT_SCHEMA)
    assert error.description == message
    assert error.error == "invalid_authorization_details"


def test_schema_mismatch_spec_example():
    schema = {"properties": {"instructedAmount": {"properties": {"amount": {"type": "number"}}}}}
    detail = {"type": "t", "instructedAmount": {"amount": "abc", "currency": "EUR"}}
    error = problem(validate_against_schema, 3, detail, schema)
    assert (
        error.description == "authorization_details[3].instructedAmount.amount: 'abc' is not of type 'number'"
    )


def test_schema_required_spec_example():
    error = problem(validate_against_schema, 0, {"type": "t"}, {"required": ["beneficiary"]})
    assert error.description == "authorization_details[0]: 'beneficiary' is a required property"


def test_schema_format_checked():
    schema = {"properties": {"email": {"type": "string", "format": "email"}}}
    validate_against_schema(0, {"type": "t", "email": "a@example.com"}, schema)
    error = problem(validate_against_schema, 0, {"type": "t", "email": "nope"}, schema)
    assert error.description == "authorization_details[0].email: 'nope' is not a 'email'"


def test_schema_draft_from_dollar_schema():
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"a": {"items": [{"type": "string"}]}},
    }
    validate_against_schema(0, {"type": "t", "a": ["x", 1]}, schema)
    error = problem(validate_against_schema, 0, {"type": "t", "a": [1]}, schema)
    assert error.description == "authorization_details[0].a[0]: 1 is not of type 'string'"


def test_schema_draft_2020_12_by_default():
    schema = {"properties": {"a": {"prefixItems": [{"type": "string"}]}}}
    error = problem(validate_against_schema, 0, {"type": "t", "a": [1]}, schema)
    assert error.description == "authorization_details[0].a[0]: 1 is not of type 'string'"


def test_schema_long_message_shortened():
    schema = {"properties": {"a": {"enum": ["x" * 400]}}}
    error = problem(validate_against_schema, 0, {"type": "t", "a": "y"}, schema)
    assert len(error.description) < 400
    assert error.description.endswith("…")


def test_schema_validators_are_cached():
    schema = {"type": "object", "properties": {"cached": {"type": "string"}}}
    schema_module._compiled.cache_clear()
    for _ in range(3):
        validate_against_schema(0, {"type": "t", "cached": "x"}, copy.deepcopy(schema))
    reordered = dict(reversed(list(schema.items())))
    validate_against_schema(0, {"type": "t"}, reordered)
    info = schema_module._compiled.cache_info()
    assert (info.misses, info.hits) == (1, 3)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "https://example.com/elsewhere.json"},
        {"properties": {"a": {"$ref": "#/$defs/missing"}}},
        {"type": "numbr"},
    ],
)
def test_schema_the_server_cannot_use_is_a_server_error(schema):
    error = problem(validate_against_schema, 1, {"type": "x", "a": 1}, schema)
    assert error.error == "server_error"
    assert error.description == 'authorization_details[1]: the JSON Schema for type "x" could not be applied'


# ---------------------------------------------------------------------------
# Comparison (RFC 9396 §6.1)


def test_each_granted_entry_covers_one_requested_entry_in_any_order():
    """RFC 9396 §6.1: a subset — each granted entry is paired with one requested entry at most; the
    pairing is a matching, so a request that can be covered is, whatever its order."""
    wide = dict(ACCOUNT_INFORMATION, actions=["list_accounts", "read_balances"])
    narrow = dict(ACCOUNT_INFORMATION, actions=["list_accounts"])
    assert covering_entries([narrow, wide], [wide, narrow]) == [1, 0]
    assert covering_entries([narrow, narrow], [wide]) == [0, None]
    assert uncovered_index([narrow, narrow], [wide]) == 1
    assert not details_are_covered([wide, wide], [wide])
    assert details_are_covered([wide, wide], [wide, wide])


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        (ACCOUNT_INFORMATION, ACCOUNT_INFORMATION),
        (PAYMENT_INITIATION, PAYMENT_INITIATION),
        (dict(ACCOUNT_INFORMATION, actions=["read_balances"]), ACCOUNT_INFORMATION),
        (dict(ACCOUNT_INFORMATION, actions=[]), ACCOUNT_INFORMATION),
        (dict(ACCOUNT_INFORMATION, actions=["read_balances", "list_accounts"]), ACCOUNT_INFORMATION),
        (dict(ACCOUNT_INFORMATION, actions=["read_balances", "read_balances"]), ACCOUNT_INFORMATION),
        (dict(CUSTOMER_INFORMATION, datatypes=["photos"], actions=["read"]), CUSTOMER_INFORMATION),
        (dict(MEDICAL_RECORD, privileges=[]), MEDICAL_RECORD),
        ({"type": "t", "n": 1}, {"type": "t", "n": 1.0}),
        (
            {"type": "t", "o": {"b": 1, "a": [1, {"x": None}]}},
            {"type": "t", "o": {"a": [1, {"x": None}], "b": 1}},
        ),
    ],
)
def test_compare_covered(requested, granted):
    assert detail_is_covered(requested, granted)
    assert details_are_covered([requested], [granted])
    assert uncovered_index([requested], [granted]) is None


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        # a wider array common field
        (dict(ACCOUNT_INFORMATION, actions=["read_balances", "delete"]), ACCOUNT_INFORMATION),
        (dict(ACCOUNT_INFORMATION, locations=["https://other.example"]), ACCOUNT_INFORMATION),
        # an array common field the grant does not have
        (dict(ACCOUNT_INFORMATION, datatypes=["x"]), ACCOUNT_INFORMATION),
        # an array common field the grant restricts, left out of the request
        ({"type": "account_information", "locations": ["https://example.com/accounts"]}, ACCOUNT_INFORMATION),
        # other fields: different, missing or added
        (dict(PAYMENT_INITIATION, instructedAmount={"currency": "EUR", "amount": "999"}), PAYMENT_INITIATION),
        ({k: v for k, v in PAYMENT_INITIATION.items() if k != "instructedAmount"}, PAYMENT_INITIATION),
        (dict(PAYMENT_INITIATION, creditorName="Merchant B"), PAYMENT_INITIATION),
        (dict(ACCOUNT_INFORMATION, extra=1), ACCOUNT_INFORMATION),
        (dict(MEDICAL_RECORD, identifier="patient-1"), MEDICAL_RECORD),
        ({"type": "t", "flag": True}, {"type": "t", "flag": 1}),
        ({"type": "t", "n": 0}, {"type": "t", "n": False}),
        ({"type": "t", "s": "1"}, {"type": "t", "s": 1}),
        ({"type": "t", "o": {"a": 1}}, {"type": "t", "o": {"a": 1, "b": 2}}),
        ({"type": "t", "l": [1, 2]}, {"type": "t", "l": [2, 1]}),
        # type
        (dict(ACCOUNT_INFORMATION, type="payment_initiation"), ACCOUNT_INFORMATION),
        ({"actions": ["read"]}, {"actions": ["read"]}),
        ({"type": 1}, {"type": 1}),
    ],
)
def test_compare_not_covered(requested, granted):
    assert not detail_is_covered(requested, granted)
    assert not details_are_covered([requested], [granted])
    assert uncovered_index([requested], [granted]) == 0


def test_compare_superset_grant_covers_subset_request():
    granted = [ACCOUNT_INFORMATION, PAYMENT_INITIATION]
    assert details_are_covered([PAYMENT_INITIATION], granted)
    assert details_are_covered([dict(ACCOUNT_INFORMATION, actions=["list_accounts"])], granted)
    assert details_are_covered([], granted)
    assert not details_are_covered([ACCOUNT_INFORMATION], [])


def test_compare_first_uncovered_index():
    requested = [ACCOUNT_INFORMATION, CUSTOMER_INFORMATION, PAYMENT_INITIATION]
    assert uncovered_index(requested, [ACCOUNT_INFORMATION, PAYMENT_INITIATION]) == 1
    assert uncovered_index(requested, [PAYMENT_INITIATION]) == 0
    assert uncovered_index(requested, requested) is None


def test_compare_type_specific_comparator_replaces_default():
    def lower_amount(requested: dict, granted: dict) -> bool:
        return float(requested["instructedAmount"]["amount"]) <= float(granted["instructedAmount"]["amount"])

    lower = dict(PAYMENT_INITIATION, instructedAmount={"currency": "EUR", "amount": "100.00"})
    higher = dict(PAYMENT_INITIATION, instructedAmount={"currency": "EUR", "amount": "500.00"})
    comparators = {"payment_initiation": lower_amount}
    assert not details_are_covered([lower], [PAYMENT_INITIATION])
    assert details_are_covered([lower], [PAYMENT_INITIATION], comparators)
    assert not details_are_covered([higher], [PAYMENT_INITIATION], comparators)
    assert uncovered_index([lower, higher], [PAYMENT_INITIATION], comparators) == 1
    # Other types keep the default comparison.
    assert details_are_covered([ACCOUNT_INFORMATION], [ACCOUNT_INFORMATION], comparators)
    assert not details_are_covered([dict(ACCOUNT_INFORMATION, x=1)], [ACCOUNT_INFORMATION], comparators)


def test_compare_comparator_only_sees_grants_of_the_same_type():
    seen = []

    def record(requested: dict, granted: dict) -> bool:
        seen.append(granted["type"])
        return True

    assert details_are_covered([{"type": "a"}], [{"type": "b"}, {"type": "a"}], {"a": record})
    assert seen == ["a"]


def test_compare_does_not_mutate():
    requested = copy.deepcopy([ACCOUNT_INFORMATION])
    granted = copy.deepcopy([ACCOUNT_INFORMATION, PAYMENT_INITIATION])
    details_are_covered(requested, granted)
    assert requested == [ACCOUNT_INFORMATION]
    assert granted == [ACCOUNT_INFORMATION, PAYMENT_INITIATION]


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        (True, True, True),
        (None, None, True),
        ("a", "a", True),
        ([1, [2]], [1, [2]], True),
        ({"a": [1]}, {"a": [1]}, True),
        ({"a": 1}, {"a": True}, False),
        ([1], (1,), False),
        ("1", 1, False),
    ],
)
def test_json_equal(a, b, equal):
    assert json_equal(a, b) is equal
    assert json_equal(b, a) is equal


# ---------------------------------------------------------------------------
# Presentation (RFC 9396 §3: the user must understand what is asked)


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("instructedAmount", "Instructed amount"),
        ("source_account", "Source account"),
        ("IBAN", "IBAN"),
        ("iban", "IBAN"),
        ("creditorBic", "Creditor BIC"),
        ("user_id", "User ID"),
        ("creditorAccount.iban", "IBAN"),
        ("creditorAccount.instructedAmount", "Instructed amount"),
        ("display_order", "Display order"),
        ("creditorIBAN", "Creditor IBAN"),
        ("HTTPServer", "HTTP server"),
        ("remittanceInformationUnstructured", "Remittance information unstructured"),
        ("address2", "Address 2"),
        ("type", "Type"),
        ("some-key", "Some key"),
        ("a", "A"),
        ("_", "_"),
    ],
)
def test_humanize_key(key, label):
    assert humanize_key(key) == label


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"amount": "123.50", "currency": "EUR"}, True),
        ({"currency": "USD", "amount": 2500}, True),
        ({"amount": 0.5, "currency": "usd"}, True),
        ({"amount": "-1", "currency": "EUR"}, True),
        ({"amount": "abc", "currency": "EUR"}, False),
        ({"amount": "1e5", "currency": "EUR"}, False),
        ({"amount": "", "currency": "EUR"}, False),
        ({"amount": True, "currency": "EUR"}, False),
        ({"amount": None, "currency": "EUR"}, False),
        ({"amount": float("nan"), "currency": "EUR"}, False),
        ({"amount": "1", "currency": "EURO"}, False),
        ({"amount": "1", "currency": "E1R"}, False),
        ({"amount": "1", "currency": 978}, False),
        ({"amount": "1", "currency": "EUR", "note": "x"}, False),
        ({"amount": "1"}, False),
        ("1 EUR", False),
        (["1", "EUR"], False),
    ],
)
def test_is_amount(value, expected):
    assert is_amount(value) is expected


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (2500, "2,500.00"),
        ("2500", "2,500.00"),
        ("2500.5", "2,500.50"),
        (123.5, "123.50"),
        ("123.50", "123.50"),
        ("0.125", "0.125"),
        (0.1, "0.10"),
        (0, "0.00"),
        ("-1234567.891", "-1,234,567.891"),
        ("1000000", "1,000,000.00"),
    ],
)
def test_format_amount(amount, text):
    assert format_amount({"amount": amount, "currency": "USD"}) == f"{text} USD"


def test_format_amount_rejects_non_amounts():
    with pytest.raises(ValueError):
        format_amount({"amount": "x", "currency": "USD"})


def test_present_rfc_payment_initiation():
    rows = present_detail(PAYMENT_INITIATION)
    assert [row.label for row in rows] == [
        "Actions",
        "Locations",
        "Instructed amount",
        "Creditor name",
        "Creditor account",
        "Remittance information unstructured",
    ]
    actions, locations, amount, name, account, remittance = rows
    assert actions == Row(
        "Actions",
        None,
        [Row("", "initiate", [], False), Row("", "status", [], False), Row("", "cancel", [], False)],
        True,
    )
    assert locations.is_list and [child.value for child in locations.children] == [
        "https://example.com/payments"
    ]
    assert amount == Row("Instructed amount", "123.50 EUR", [], False)
    assert name == Row("Creditor name", "Merchant A", [], False)
    assert account == Row("Creditor account", None, [Row("IBAN", "DE02100100109307118603", [], False)], False)
    assert remittance.value == "Ref Number Merchant"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "Yes"),
        (False, "No"),
        (None, "—"),
        (12, "12"),
        (1.5, "1.5"),
        ("<b>x</b>", "<b>x</b>"),
        ({}, "—"),
        ([], "—"),
    ],
)
def test_present_scalars(value, text):
    assert present_detail({"type": "t", "v": value}) == [Row("V", text, [], False)]


def test_present_arrays_of_objects_are_numbered():
    rows = present_detail({"type": "t", "accounts": [{"iban": "A", "primary": True}, {"iban": "B"}]})
    assert rows == [
        Row(
            "Accounts",
            None,
            [
                Row("1", None, [Row("IBAN", "A"), Row("Primary", "Yes")]),
                Row("2", None, [Row("IBAN", "B")]),
            ],
            False,
        )
    ]


def test_present_mixed_and_nested_arrays():
    rows = present_detail({"type": "t", "m": ["a", {"b": 1}, [1, 2]]})
    assert rows == [
        Row(
            "M",
            None,
            [
                Row("1", "a"),
                Row("2", None, [Row("B", "1")]),
                Row("3", None, [Row("", "1"), Row("", "2")], True),
            ],
        )
    ]


def test_present_array_of_amounts_is_a_list():
    rows = present_detail(
        {"type": "t", "limits": [{"amount": 10, "currency": "EUR"}, {"amount": "5", "currency": "USD"}]}
    )
    assert rows == [Row("Limits", None, [Row("", "10.00 EUR"), Row("", "5.00 USD")], True)]


def test_present_excludes_type_by_default_and_keeps_order():
    detail = {"type": "t", "b": 1, "a": 2}
    assert [row.label for row in present_detail(detail)] == ["B", "A"]
    assert [row.label for row in present_detail(detail, exclude=())] == ["Type", "B", "A"]
    assert [row.label for row in present_detail(detail, exclude=("type", "b"))] == ["A"]


def test_present_fields_come_first_and_every_other_field_follows():
    """An operator orders fields; no granted value is left out (RFC 9396 §3, RAR-18)."""
    rows = present_detail(PAYMENT_INITIATION, fields=["creditorName", "instructedAmount", "missing"])
    assert rows[:2] == [Row("Creditor name", "Merchant A"), Row("Instructed amount", "123.50 EUR")]
    others = [key for key in PAYMENT_INITIATION if key not in ("type", "creditorName", "instructedAmount")]
    assert [row.label for row in rows[2:]] == [humanize_key(key) for key in others]


def test_present_labels():
    rows = present_detail(
        PAYMENT_INITIATION,
        fields=["instructedAmount", "creditorAccount"],
        labels={"instructedAmount": "Amount to pay", "creditorAccount.iban": "Payee IBAN"},
    )
    assert rows[0].label == "Amount to pay"
    assert rows[1].label == "Creditor account"
    assert rows[1].children == [Row("Payee IBAN", "DE02100100109307118603")]
    rows = present_detail({"type": "t", "a": {"iban": "x"}, "iban": "y"}, labels={"iban": "IBAN"})
    assert rows == [Row("A", None, [Row("IBAN", "x")]), Row("IBAN", "y")]


def test_present_does_not_mutate():
    detail = copy.deepcopy(PAYMENT_INITIATION)
    present_detail(detail)
    assert detail == PAYMENT_INITIATION


@pytest.mark.parametrize(
    "schema, message",
    [
        ({"$ref": "#/$defs/missing"}, "does not resolve"),
        ({"properties": {"a": {"$ref": "https://example.com/s.json"}}}, "only local references"),
        ({"prefixItems": [{"$ref": "other.json#/x"}]}, "only local references"),
    ],
)
def test_schema_references_must_resolve_locally(schema, message):
    with pytest.raises(ValueError, match=message):
        check_schema_is_valid(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"amount": {"type": "number"}}, "properties": {"a": {"$ref": "#/$defs/amount"}}},
        {"$ref": "#"},
        {"definitions": {"a~b": {"type": "string"}}, "properties": {"x": {"$ref": "#/definitions/a~0b"}}},
        {"const": {"$ref": "not-a-reference-just-data"}},
    ],
)
def test_schema_local_references_accepted(schema):
    check_schema_is_valid(schema)
