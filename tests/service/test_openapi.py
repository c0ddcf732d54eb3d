"""The generated OpenAPI document, the offline docs page, and Schemathesis against both."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coopclf.service.http import schemas

# Not positive_data_acceptance: schema-valid requests can still be refused on purpose (an unknown
# label, a text over COOPCLF_MAX_CHARS, a wrong admin token).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection]

UNDOCUMENTED = {"/openapi.json", "/docs", "/", "/static/<path:filename>"}  # pages, not API


def test_every_route_is_in_the_document_with_its_methods(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules()
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"} if rule.rule not in UNDOCUMENTED}
    assert documented == routes


def test_schemas_are_generated_from_the_pydantic_models(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    components = spec["components"]["schemas"]
    for model in (schemas.TextRequest, schemas.DocumentResponse, schemas.FeedbackRequest, schemas.ProblemDetails):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        generated.pop("$defs", None)
        assert components[model.__name__] == generated
    classify = spec["paths"]["/v1/classify"]["post"]
    assert classify["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClassifyRequest"}
    assert set(classify["responses"]) >= {"200", "400", "413", "415", "422", "503"}
    assert "application/problem+json" in classify["responses"]["400"]["content"]
    reload = spec["paths"]["/v1/admin/reload"]["post"]
    assert reload["security"] == [{"adminToken": []}]


def test_the_docs_page_lists_every_operation_and_needs_no_network(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    spec = client.get("/openapi.json").get_json()
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in page
    assert "urn:coopclf:problem:text-too-long" in page
    assert not re.search(r"<script|<link|src=|https?://", page)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(app: Flask,
                                                                          mode: GenerationMode) -> None:
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)

    @given(case=api.as_strategy(mode))
    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    check()
