"""SMS (Twilio): form webhooks signed as Twilio signs them — computed here with Twilio's own
library, not ours — the SHA-256 and JSON body-hash modes, sender checks, TwiML replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.channels.conftest import TWILIO_TOKEN
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification

URL = "https://vouch.test/inbound/twilio/sms"


def form(code: str, sender: str = "+37069199199") -> dict[str, str]:
    return {
        "ToCountry": "US",
        "ToState": "IL",
        "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "NumMedia": "0",
        "FromCountry": "LT",
        "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "Body": code,
        "FromCity": "",
        "To": "+13125550100",
        "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "AccountSid": "AC123",
        "From": sender,
        "ApiVersion": "2010-04-01",
        "NumSegments": "1",
    }


async def post(
    cc: httpx.AsyncClient, fields: dict[str, str], signature: str | None
) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await cc.post("/inbound/twilio/sms", content=urlencode(fields), headers=headers)


async def status(cc: httpx.AsyncClient, keys: Keys, id_: str) -> dict[str, Any]:
    return (await cc.get(f"/api/v1/verifications/{id_}", headers=keys.live_headers)).json()  # type: ignore[no-any-return]


class TestSignedSms:
    async def test_signed_message_from_the_number_completes_with_a_twiml_reply(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        assert v["challenge"]["sms_dids"] == {"US": "+13125550100"}
        assert v["challenge"]["deep_link"] == f"sms:+13125550100?body={v['challenge']['code']}"
        fields = form(v["challenge"]["code"])
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(URL, fields)
        response = await post(cc, fields, signature)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        assert "<Message>" in response.text and "Verified" in response.text
        assert (await status(cc, ckeys, v["id"]))["status"] == "verified"

    @pytest.mark.parametrize(
        "signature", [None, "", "AAAA", RequestValidator("other").compute_signature(URL, {})]
    )
    async def test_bad_signature_is_401_and_changes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, signature: str | None
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        response = await post(cc, form(v["challenge"]["code"]), signature)
        assert response.status_code == 401
        assert (await status(cc, ckeys, v["id"]))["status"] == "pending"

    async def test_signature_over_altered_fields_is_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        fields = form(v["challenge"]["code"])
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(URL, fields)
        fields["From"] = "+447700900123"
        assert (await post(cc, fields, signature)).status_code == 401

    async def test_right_code_from_another_number_does_not_complete(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        fields = form(v["challenge"]["code"], sender="+447700900123")
        response = await post(
            cc, fields, RequestValidator(TWILIO_TOKEN).compute_signature(URL, fields)
        )
        assert response.status_code == 200 and "different number" in response.text
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 1

    async def test_sha256_shared_key_mode(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        fields = form(v["challenge"]["code"])
        signed = URL + "".join(k + fields[k] for k in sorted(fields))
        mac = hmac.new(TWILIO_TOKEN.encode(), signed.encode(), hashlib.sha256).digest()
        response = await cc.post(
            "/inbound/twilio/sms",
            content=urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature-256": base64.b64encode(mac).decode(),
            },
        )
        assert response.status_code == 200
        assert (await status(cc, ckeys, v["id"]))["status"] == "verified"

    async def test_json_body_mode_checks_the_body_hash(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        raw = json.dumps({"From": "+37069199199", "Body": v["challenge"]["code"]}).encode()
        url = f"{URL}?bodySHA256={hashlib.sha256(raw).hexdigest()}"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, {})
        tampered = raw.replace(b"+370", b"+371")
        bad = await cc.post(
            url.replace("https://vouch.test", ""),
            content=tampered,
            headers={"Content-Type": "application/json", "X-Twilio-Signature": signature},
        )
        assert bad.status_code == 401
        ok = await cc.post(
            url.replace("https://vouch.test", ""),
            content=raw,
            headers={"Content-Type": "application/json", "X-Twilio-Signature": signature},
        )
        assert ok.status_code == 200
        assert (await status(cc, ckeys, v["id"]))["status"] == "verified"


class TestRulesHoldOnTheChannel:
    async def test_expiry_applies_to_messages(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: Any
    ) -> None:
        # The API backoff does not hold a signed message back (tests/channels/
        # test_no_message_lost.py); the challenge's expiry does.
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import update

        from vouch_server.models import Verification

        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        validator = RequestValidator(TWILIO_TOKEN)
        right = form(v["challenge"]["code"])
        async with capp.state.vouch.db.session() as session:
            await session.execute(
                update(Verification).values(
                    challenge_expires_at=datetime.now(UTC) - timedelta(seconds=1)
                )
            )
        late = await post(cc, right, validator.compute_signature(URL, right))
        assert "expired" in late.text
        assert (await status(cc, ckeys, v["id"]))["status"] == "expired"
