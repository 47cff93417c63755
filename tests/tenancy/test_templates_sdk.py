"""proof.holdings' own SDK (``proof_sdk``) drives vouch's templates resource unchanged against the
in-process app; what it gets back satisfies the SDK's ``Template`` / ``TemplateVariable``
TypedDicts, and a bad template is refused with the error envelope and nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from tests.fixtures import proof_sdk
from tests.fixtures.tenancy import Keys

BASE = "https://vouch.test"


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return proof_sdk.load(tmp_path_factory.mktemp("proof_sdk_templates"))


@pytest.fixture
async def proof(sdk: Any, app: FastAPI, keys: Keys) -> AsyncIterator[Any]:
    client = sdk.Proof(keys.test, base_url=BASE, max_retries=0)
    client._http._get_client()._transport = httpx.ASGITransport(app=app)
    yield client
    await client.close()


def _check(sdk: Any, name: str, value: Any) -> None:
    types = __import__("proof_sdk.types", fromlist=[name])
    TypeAdapter(getattr(types, name)).validate_python(value, strict=True)


class TestTemplatesThroughTheSdk:
    async def test_defaults_upsert_retrieve_render_delete(self, sdk: Any, proof: Any) -> None:
        defaults = await proof.templates.get_defaults()
        for template in defaults["templates"]:
            if template["message_type"] in sdk.types.MessageType.__args__:
                _check(sdk, "Template", template)
        for variable in defaults["variables"]:
            _check(sdk, "TemplateVariable", variable)
        assert {v["name"] for v in defaults["variables"]} == {
            "business_name",
            "code",
            "expires_in",
            "user_identifier",
            "channel",
            "callback_url",
            "support_email",
        }
        assert set(defaults["message_types"]) == set(sdk.types.MessageType.__args__) - {
            "account_deletion_request",
            "account_deletion_success",
        }

        stored = await proof.templates.upsert(
            "email",
            "confirmation_request",
            {
                "subject": "{{ business_name }} needs you",
                "body": "Please approve, {{ user_identifier }}",
                "button_text": "Open",
                "button_url_template": "{{ callback_url }}",
            },
        )
        _check(sdk, "Template", stored)
        assert stored["version"] == 1 and stored["is_active"] is True
        again = await proof.templates.upsert("email", "confirmation_request", {"body": "v2"})
        assert again["version"] == 2

        retrieved = await proof.templates.retrieve("email", "confirmation_request")
        _check(sdk, "Template", retrieved)
        assert retrieved["body"] == "v2" and retrieved["is_custom"] is True

        listed = await proof.templates.list()
        assert [t["message_type"] for t in listed["templates"]] == ["confirmation_request"]

        rendered = await proof.templates.render(
            channel="sms", message_type="login_request", variables={"code": "ABC123"}
        )
        assert "ABC123" in rendered["rendered"]["body"]
        assert "acme" in rendered["rendered"]["body"] and rendered["is_custom"] is False

        preview = await proof.templates.preview(
            channel="email",
            message_type="verification_request",
            subject="Code for {{ business_name }}",
            body="{{ code }} expires in {{ expires_in }}",
        )
        assert preview["rendered"] == {
            "subject": "Code for acme",
            "body": "X7K2M9 expires in 10 minutes",
        }

        await proof.templates.delete("email", "confirmation_request")
        back = await proof.templates.retrieve("email", "confirmation_request")
        assert back["is_custom"] is False
        with pytest.raises(sdk.ProofError) as missing:
            await proof.templates.delete("email", "confirmation_request")
        assert missing.value.status_code == 404

    async def test_bad_template_is_refused_and_nothing_stored(self, sdk: Any, proof: Any) -> None:
        for content, channel in (
            ({"body": "{{ secret }}"}, "telegram"),
            ({"body": "{{ code.__class__ }}"}, "telegram"),
            ({"body": "{% if %}"}, "telegram"),
            ({"body": "ok", "subject": "subjects are for email"}, "telegram"),
        ):
            with pytest.raises(sdk.ProofError) as refused:
                await proof.templates.upsert(channel, "verification_success", content)
            assert refused.value.status_code == 400
        assert (await proof.templates.list())["templates"] == []
        with pytest.raises(sdk.ProofError) as bad_render:
            await proof.templates.render(
                channel="sms", message_type="login_request", variables={"password": "x"}
            )
        assert bad_render.value.status_code == 400

    async def test_another_projects_id_is_refused(self, sdk: Any, proof: Any) -> None:
        with pytest.raises(sdk.ProofError) as refused:
            await proof.templates.list(profile_id="f" * 24)
        assert refused.value.status_code == 403
