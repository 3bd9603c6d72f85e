"""Parameter parsing and validation against ParameterSpecs (flowc.parameter_values)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowc.ir import ParameterSpec
from flowc.parameter_values import ParameterError, parse_value, resolve_parameters, trigger_values

INT = ParameterSpec("n", type="int")
FLOAT = ParameterSpec("x", type="float")
BOOL = ParameterSpec("flag", type="bool")
TEXT = ParameterSpec("s", type="str")
JSON = ParameterSpec("cfg", type="json")


@pytest.mark.parametrize(
    ("spec", "given", "expected"),
    [
        (INT, "42", 42), (INT, " -3 ", -3), (INT, 7, 7), (INT, 7.0, 7),
        (FLOAT, "0.5", 0.5), (FLOAT, 2, 2.0), (FLOAT, "1e3", 1000.0),
        (BOOL, "True", True), (BOOL, "false", False), (BOOL, "TRUE", True), (BOOL, "1", True),
        (BOOL, "0", False), (BOOL, "yes", True), (BOOL, "No", False), (BOOL, True, True), (BOOL, 0, False),
        (TEXT, "$(rm -rf /) 'q' \"d\"\n✓", "$(rm -rf /) 'q' \"d\"\n✓"),
        (JSON, '{"a": [1, 2]}', {"a": [1, 2]}), (JSON, {"a": [1]}, {"a": [1]}), (JSON, "3", 3),
        (JSON, [1, "x"], [1, "x"]),
    ],
)
def test_values_are_parsed_by_type(spec, given, expected):
    value = parse_value(spec, given)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("spec", "given", "expected_type"),
    [
        (INT, "4.5", "int"), (INT, "abc", "int"), (INT, True, "int"), (INT, [1], "int"),
        (FLOAT, "nan-ish", "float"), (FLOAT, False, "float"),
        (BOOL, "maybe", "bool"), (BOOL, 2, "bool"),
        (TEXT, 5, "str"), (JSON, "{bad", "json"), (JSON, {1, 2}, "json"),
    ],
)
def test_bad_values_name_parameter_value_and_type(spec, given, expected_type):
    with pytest.raises(ParameterError) as info:
        parse_value(spec, given)
    message = str(info.value)
    assert repr(spec.name) in message and repr(given) in message and expected_type in message


def test_resolve_applies_defaults_and_checks_required_and_unknown():
    specs = [
        ParameterSpec("text", required=True),
        ParameterSpec("count", type="int", default=2, has_default=True),
        ParameterSpec("config", type="json", default='{"k": [1, 2]}', has_default=True),
        ParameterSpec("frozen", type="json", default=(1, (2, 3)), has_default=True),
        ParameterSpec("nothing"),
    ]
    values = resolve_parameters(specs, {"text": "t"})
    expected = {"text": "t", "count": 2, "config": {"k": [1, 2]}, "frozen": [1, [2, 3]], "nothing": None}
    assert values == expected
    assert list(values) == ["text", "count", "config", "frozen", "nothing"]
    with pytest.raises(ParameterError, match="'text' is required"):
        resolve_parameters(specs, {})
    with pytest.raises(ParameterError, match="unknown parameter 'txt'"):
        resolve_parameters(specs, {"text": "t", "txt": "x"})


@given(st.integers())
def test_any_integer_text_parses(number):
    assert parse_value(INT, str(number)) == number


@given(st.floats(allow_nan=False))
def test_any_float_text_parses(number):
    assert parse_value(FLOAT, repr(number)) == number


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
)


@pytest.mark.slow
@given(JSON_VALUES)
def test_any_json_text_parses_to_its_value(value):
    assert parse_value(JSON, json.dumps(value)) == value


def test_trigger_values_read_include_files_and_check_like_the_start_task(tmp_path) -> None:
    """What flowc trigger sends on every target: a run starts where this machine's files are not."""
    specs = [
        ParameterSpec("data", is_file=True, required=True),
        ParameterSpec("count", type="int", default=2, has_default=True),
    ]
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2 é\n", encoding="utf-8")
    sent = trigger_values(specs, {"data": str(source), "count": "3"})
    assert sent == {"data": "a,b\n1,2 é\n", "count": "3"}
    for values, message in [
        ({"data": str(tmp_path / "missing.csv")}, "'data': cannot read"),
        ({"count": "3"}, "'data' is required"),
        ({"data": str(source), "count": "three"}, "'count'"),
        ({"data": str(source), "cont": "3"}, "unknown parameter 'cont'"),
    ]:
        with pytest.raises(ParameterError, match=message):
            trigger_values(specs, values)
