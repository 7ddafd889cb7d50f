"""Schemathesis against the API's own OpenAPI document (issue 12): whatever the document lets a
client send, in-process against the real app on SQLite, as a manager of the hall. No answer is a
5xx, each status code, content type and body is one the document declares.

In the suite each operation gets a few examples (HALLQ_SCHEMATHESIS_EXAMPLES, default 8); the
campaign's large run is in docs/testing.md:

    HALLQ_SCHEMATHESIS_EXAMPLES=2000 .venv/bin/python -m pytest tests/web/test_api_schemathesis.py
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from hallq.web.api.openapi import openapi_document

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("HALLQ_SCHEMATHESIS_EXAMPLES", "8"))
OPERATIONS = [result.ok() for result in schemathesis.openapi.from_dict(openapi_document()).get_all_operations()]
# What the document cannot say, and the API answers 400 or 422 for, as the document declares: a
# statistics range that mixes its parameters, runs backwards or is longer than a year.
SEMANTIC_422 = {f"GET /api/v1/halls/{{hall}}/{path}" for path in ("stats", "stats.xlsx", "ratings", "ratings.csv", "ratings.xlsx")}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_the_api_answers_as_its_document_says(app, users_tokens, operation):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def exchange(case):
        from schemathesis.specs.openapi.checks import positive_data_acceptance

        excluded = [positive_data_acceptance] if operation.label in SEMANTIC_422 else None
        case.call_and_validate(app=app, headers=users_tokens, excluded_checks=excluded)

    exchange()
