"""The OpenAPI document says what the server does: no 422 (vouch answers 400 with its envelope),
the error statuses declared with the envelope, security on exactly the operations that refuse a
request without a key — checked by sending each one without a key — and a local Swagger UI."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.fixtures.tenancy import Keys
from vouch_server.openapi import bare_responses

ENVELOPE = {"$ref": "#/components/schemas/Error"}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


class TestTheDocument:
    async def test_served_at_both_addresses_alike(self, client: httpx.AsyncClient) -> None:
        other = await client.get("/api/openapi.json")
        assert other.status_code == 200
        assert other.json() == await _spec(client)

    async def test_every_json_answer_has_a_typed_schema(self, client: httpx.AsyncClient) -> None:
        spec = await _spec(client)
        assert bare_responses(spec) == []
        # the check itself can fail: an operation documented as a bare object is found
        spec["paths"]["/health"]["get"]["responses"]["200"]["content"] = {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}}
        }
        assert bare_responses(spec) == [("get", "/health", "200")]

    async def test_no_422_and_no_fastapi_validation_schema(self, client: httpx.AsyncClient) -> None:
        spec = await _spec(client)
        for path, method, op in _operations(spec):
            assert "422" not in op["responses"], (path, method)
        assert "HTTPValidationError" not in spec["components"]["schemas"]
        assert '"422"' not in (await client.get("/openapi.json")).text

    async def test_api_errors_are_declared_with_the_envelope(
        self, client: httpx.AsyncClient
    ) -> None:
        spec = await _spec(client)
        error = spec["components"]["schemas"]["Error"]
        assert error["required"] == ["error"]
        assert set(error["properties"]["error"]["required"]) == {"code", "message"}
        checked = 0
        for path, method, op in _operations(spec):
            if not path.startswith("/api/v1/"):
                continue
            responses = op["responses"]
            if "requestBody" in op:
                for status in ("400", "413"):
                    assert responses[status]["content"]["application/json"]["schema"] == (
                        ENVELOPE
                    ), (path, method, status)
                checked += 1
            if "{" in path:
                assert "404" in responses, (path, method)
            assert "429" in responses, (path, method)
        assert checked >= 20

    async def test_security_schemes_for_both_ways_of_presenting_a_key(
        self, client: httpx.AsyncClient
    ) -> None:
        schemes = (await _spec(client))["components"]["securitySchemes"]
        assert schemes["bearerAuth"] == {
            **schemes["bearerAuth"],
            "type": "http",
            "scheme": "bearer",
        }
        assert (schemes["apiKeyHeader"]["in"], schemes["apiKeyHeader"]["name"]) == (
            "header",
            "X-API-Key",
        )


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


class TestSecurityMatchesBehaviour:
    @pytest.mark.parametrize("prefix", ["/api/v1/", "/v1/", "/v2/"])
    async def test_declared_operations_refuse_a_request_without_a_key(
        self, client: httpx.AsyncClient, prefix: str
    ) -> None:
        spec = await _spec(client)
        keyed = [
            (path, method)
            for path, method, op in _operations(spec)
            if path.startswith(prefix) and "security" in op
        ]
        open_ = [
            (path, method)
            for path, method, op in _operations(spec)
            if path.startswith(prefix) and "security" not in op
        ]
        assert keyed, f"no keyed operation under {prefix}"
        for path, method in keyed:
            response = await client.request(method.upper(), _concrete(path), json={})
            assert response.status_code == 401, (method, path, response.status_code)
            assert "401" in spec["paths"][path][method]["responses"]
        for path, method in open_:
            if path.endswith("/events"):
                continue  # a stream: its key check is the same dependency, tested elsewhere
            response = await client.request(method.upper(), _concrete(path), json={})
            assert response.status_code != 401, (method, path, "open but refused without a key")

    async def test_a_keyed_operation_accepts_the_key_either_way(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        for headers in ({"Authorization": f"Bearer {keys.test}"}, {"X-API-Key": keys.test}):
            assert (await client.get("/api/v1/verifications", headers=headers)).status_code == 200


class TestSwaggerUi:
    async def test_served_locally_without_inline_script(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/docs")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert script_src.split() == ["script-src", "'self'"]
        assert "<script>" not in page.text
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/docs/static/") for s in sources)
        for source in sources:
            assert (await client.get(source)).status_code == 200, source
        init = (await client.get("/docs/static/vouch-init.js")).text
        assert "/openapi.json" in init and "SwaggerUIBundle" in init
