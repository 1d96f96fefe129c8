"""How GraphQL answers are written (orjson, service.app.GraphQLApp.encode_json): what orjson cannot
write still goes out as the json module writes it, and answers are text, as WebSocket frames must be."""

from __future__ import annotations

import json

from service.api.schema import build_schema
from service.app import GraphQLApp
from service.limits import ApiLimits

APP = GraphQLApp(build_schema(ApiLimits()), default_query="")


def test_an_answer_is_compact_text_with_utf8_characters_and_the_same_values() -> None:
    answer = {"data": {"name": "Zoë 😀 \u2028", "total": 1100000.0, "small": 1e-7, "n": [1, None, True, -0.0]}}
    encoded = APP.encode_json(answer)
    # A float stays a float (1100000.0, not 1100000); an exponent loses json's leading zero (1e-07).
    assert encoded == '{"data":{"name":"Zoë 😀 \u2028","total":1100000.0,"small":1e-7,"n":[1,null,true,-0.0]}}'
    assert json.loads(encoded) == answer


def test_what_orjson_refuses_is_written_by_the_json_module() -> None:
    big = {"data": {"n": 2**70}, 1: "a key that is not text"}
    expected = '{"data":{"n":1180591620717411303424},"1":"a key that is not text"}'
    assert APP.encode_json(big) == json.dumps(big, separators=(",", ":")) == expected
