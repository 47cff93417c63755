"""One look for the small hosted pages that only say something (the email link page, the OAuth
callback): ``templates/message.html`` with the same ``/static/hosted.css`` as the verify page,
so no inline style and a CSP of ``style-src 'self'``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse

from vouch_server.web import endpoints as approve_page

STYLE_SRC = "style-src 'self'"


def message_page(
    status: int,
    title: str,
    message: str,
    *,
    headers: dict[str, str],
    ok: bool = False,
    brand_name: str = "vouch",
    **values: Any,
) -> HTMLResponse:
    html = (
        approve_page._environment()
        .get_template("message.html")
        .render(title=title, message=message, ok=ok, brand_name=brand_name, **values)
    )
    return HTMLResponse(html, status_code=status, headers=headers)
