"""``canonical``: JSON text byte-identical to JavaScript's ``JSON.stringify`` (ECMA-262)."""

from __future__ import annotations

import json

import pytest

from tests.location.factories import load_fixture
from vouch_server.location import canonical


class TestJsNumber:
    # Expected strings are what Node's String(x) / JSON.stringify(x) print.
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, "0"),
            (-0.0, "0"),
            (5, "5"),
            (5.0, "5"),
            (-73.9857, "-73.9857"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e16, "15000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (0.00001234, "0.00001234"),
            (2.5e-5, "0.000025"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (2**53 - 1, "9007199254740991"),
            (2**53 + 1, "9007199254740992"),
            (10**25, "1e+25"),
        ],
    )
    def test_prints_as_javascript(self, value: float, expected: str) -> None:
        assert canonical.js_number(value) == expected

    def test_non_finite_numbers_print_as_null(self) -> None:
        assert canonical.js_number(float("inf")) == "null"
        assert canonical.js_number(float("nan")) == "null"


class TestStringify:
    def test_is_compact_and_keeps_insertion_order(self) -> None:
        assert canonical.stringify({"b": 1, "a": [1.0, True, None, "x"]}) == (
            '{"b":1,"a":[1,true,null,"x"]}'
        )

    def test_sort_keys_sorts_every_object(self) -> None:
        value = {"z": {"d": 1, "c": 2}, "a": 0}
        assert canonical.stringify(value, sort_keys=True) == '{"a":0,"z":{"c":2,"d":1}}'

    def test_array_index_keys_come_first_in_numeric_order_as_in_javascript(self) -> None:
        # JSON.stringify({b: 1, 10: 2, 9: 3, a: 4}) === '{"9":3,"10":2,"b":1,"a":4}'
        value = {"b": 1, "10": 2, "9": 3, "a": 4, "01": 5}
        assert canonical.stringify(value) == '{"9":3,"10":2,"b":1,"a":4,"01":5}'
        assert canonical.stringify(value, sort_keys=True) == '{"9":3,"10":2,"01":5,"a":4,"b":1}'

    def test_keys_sort_by_utf16_code_units(self) -> None:
        # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF61 in UTF-16.
        value = {"\uff61": 1, "\U0001f600": 2}
        assert canonical.stringify(value, sort_keys=True) == '{"\U0001f600":2,"\uff61":1}'

    def test_strings_escape_as_javascript(self) -> None:
        text = 'q"\\\n\t\x01é/\ud800'
        assert canonical.stringify(text) == '"q\\"\\\\\\n\\t\\u0001é/\\ud800"'

    def test_fixture_unsigned_text_is_what_astral_signed(self) -> None:
        stamp = load_fixture("gpsd")
        del stamp["signatures"]
        assert canonical.stringify(stamp, sort_keys=True) == (
            '{"location":{"coordinates":[-73.9857,40.7484],"type":"Point"},"locationType":'
            '"geojson-point","lpVersion":"0.2","plugin":"gpsd","pluginVersion":"0.1.0",'
            '"signals":{"accuracyMeters":5,"mode":3,"source":"gpsd"},"srs":"EPSG:4326",'
            '"temporalFootprint":{"end":4102444860,"start":4102444800}}'
        )


class TestParse:
    def test_rejects_nan_and_infinity(self) -> None:
        with pytest.raises(ValueError):
            canonical.parse(b'{"x": NaN}')
        with pytest.raises(ValueError):
            canonical.parse(b'{"x": Infinity}')

    def test_rejects_deep_nesting(self) -> None:
        with pytest.raises(canonical.JsonTooDeep):
            canonical.parse(b"[" * 70 + b"]" * 70)

    def test_round_trips_ordinary_json(self) -> None:
        text = '{"a":[1,2.5,"x"],"b":{"c":null}}'
        assert canonical.stringify(canonical.parse(text)) == text
        assert canonical.parse(text) == json.loads(text)
