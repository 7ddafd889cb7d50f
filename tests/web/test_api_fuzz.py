"""Whatever a client sends, the API answers with JSON and never a 500."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

H = "/api/v1/halls/district"
ENDPOINTS = [
    ("POST", f"{H}/tickets"),
    ("POST", f"{H}/windows/1/open"),
    ("POST", f"{H}/windows/1/call"),
    ("POST", f"{H}/windows/1/transfer"),
    ("POST", f"{H}/windows/1/pause"),
    ("PUT", f"{H}/windows/1/services"),
    ("POST", f"{H}/tickets/A001/move"),
    ("POST", "/api/v1/session"),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
bodies = json_values | st.fixed_dictionaries(
    {},
    optional={
        "service": json_values | st.sampled_from(["SI", "MI", "ZZ", ""]),
        "priority": json_values | st.sampled_from(["normal", "green", "vip"]),
        "ticket": json_values | st.sampled_from(["A001", "B999"]),
        "reason": json_values,
        "services": json_values | st.dictionaries(st.sampled_from(["SI", "MI", "XX"]), json_values, max_size=3),
        "name": json_values,
        "password": json_values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), body=bodies)
def test_random_json_bodies_get_structured_answers(client, users_tokens, endpoint, body):
    method, path = endpoint
    r = client.open(path, method=method, data=json.dumps(body), headers={**users_tokens, "Content-Type": "application/json"})
    assert r.status_code < 500, r.get_data(as_text=True)
    if r.status_code >= 400:
        error = r.get_json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(min_size=1, max_size=30).filter(lambda s: "/" not in s and "?" not in s and "#" not in s))
def test_random_path_segments_are_not_found_or_answered(client, segment):
    from urllib.parse import quote

    for path in (f"/api/v1/halls/{quote(segment)}/queue", f"{H}/tickets/{quote(segment)}", f"{H}/windows/1/{quote(segment)}"):
        r = client.get(path) if "windows" not in path else client.post(path)
        assert r.status_code < 500
        assert "error" in r.get_json() or r.status_code == 200


def test_non_json_content_types_are_refused_plainly(client, users_tokens):
    r = client.post(f"{H}/tickets", data="service=SI", headers={**users_tokens, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"
