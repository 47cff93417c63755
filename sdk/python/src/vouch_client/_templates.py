"""``client.templates``: the project's message templates (``/api/v1/templates``).

List (with the catalogue of channels, message types and variables), the built-in defaults, one
template, set, reset to the default, preview a draft, render what would be sent. Every call takes
an optional ``profile_id`` (a sub-profile's templates). Not paged: a project has one template per
channel and message type. The request builders are shared by :class:`Templates` and
:class:`AsyncTemplates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._client import _Call, _compact, _query, _segment
from ._paging import AsyncResource, SyncResource
from ._types import (
    Template,
    TemplateDeleted,
    TemplateList,
    TemplatePreview,
    TemplateRendering,
)

__all__ = ["AsyncTemplates", "Templates"]

_BASE = "/api/v1/templates"


def _profile(profile_id: str | None) -> dict[str, str]:
    return _query({"profile_id": profile_id})


def _one(channel: str, message_type: str) -> str:
    return f"{_BASE}/{_segment(channel)}/{_segment(message_type)}"


def _list(profile_id: str | None) -> _Call:
    return _Call("GET", _BASE, params=_profile(profile_id))


def _get(channel: str, message_type: str, profile_id: str | None) -> _Call:
    return _Call("GET", _one(channel, message_type), params=_profile(profile_id))


def _put(
    channel: str,
    message_type: str,
    body: str,
    subject: str | None,
    button_text: str | None,
    button_url_template: str | None,
    is_active: bool | None,
    profile_id: str | None,
) -> _Call:
    content = _compact(
        {
            "body": body,
            "subject": subject,
            "button_text": button_text,
            "button_url_template": button_url_template,
            "is_active": is_active,
        }
    )
    return _Call("PUT", _one(channel, message_type), params=_profile(profile_id), body=content)


def _delete(channel: str, message_type: str, profile_id: str | None) -> _Call:
    return _Call("DELETE", _one(channel, message_type), params=_profile(profile_id))


def _preview(
    channel: str,
    message_type: str,
    body: str | None,
    subject: str | None,
    button_text: str | None,
    button_url_template: str | None,
    variables: Mapping[str, Any] | None,
    profile_id: str | None,
) -> _Call:
    content = _compact(
        {
            "channel": channel,
            "message_type": message_type,
            "body": body,
            "subject": subject,
            "button_text": button_text,
            "button_url_template": button_url_template,
            "variables": dict(variables) if variables is not None else None,
        }
    )
    return _Call("POST", f"{_BASE}/preview", params=_profile(profile_id), body=content)


def _render(
    channel: str, message_type: str, variables: Mapping[str, Any] | None, profile_id: str | None
) -> _Call:
    content = _compact(
        {
            "channel": channel,
            "message_type": message_type,
            "variables": dict(variables) if variables is not None else None,
        }
    )
    return _Call("POST", f"{_BASE}/render", params=_profile(profile_id), body=content)


_DEFAULTS = _Call("GET", f"{_BASE}/defaults")


class Templates(SyncResource):
    """``client.templates``."""

    def list(self, *, profile_id: str | None = None) -> TemplateList:
        """The project's own templates, and the catalogue (``channels``, ``message_types``,
        ``variables``)."""
        return cast(TemplateList, self._send(_list(profile_id)))

    def defaults(self) -> TemplateList:
        """The built-in text of every channel and message type."""
        return cast(TemplateList, self._send(_DEFAULTS))

    def get(self, channel: str, message_type: str, *, profile_id: str | None = None) -> Template:
        """The template in force (the project's, else the default: see ``is_default``)."""
        return cast(Template, self._send(_get(channel, message_type, profile_id)))

    def put(
        self,
        channel: str,
        message_type: str,
        body: str,
        *,
        subject: str | None = None,
        button_text: str | None = None,
        button_url_template: str | None = None,
        is_active: bool | None = None,
        profile_id: str | None = None,
    ) -> Template:
        """Set the template; ``body`` uses ``{{variable}}`` placeholders."""
        call = _put(
            channel,
            message_type,
            body,
            subject,
            button_text,
            button_url_template,
            is_active,
            profile_id,
        )
        return cast(Template, self._send(call))

    def delete(
        self, channel: str, message_type: str, *, profile_id: str | None = None
    ) -> TemplateDeleted:
        """Back to the default."""
        return cast(TemplateDeleted, self._send(_delete(channel, message_type, profile_id)))

    def preview(
        self,
        channel: str,
        message_type: str,
        *,
        body: str | None = None,
        subject: str | None = None,
        button_text: str | None = None,
        button_url_template: str | None = None,
        variables: Mapping[str, Any] | None = None,
        profile_id: str | None = None,
    ) -> TemplatePreview:
        """A draft (or the template in force, without ``body``) filled with ``variables``."""
        call = _preview(
            channel,
            message_type,
            body,
            subject,
            button_text,
            button_url_template,
            variables,
            profile_id,
        )
        return cast(TemplatePreview, self._send(call))

    def render(
        self,
        channel: str,
        message_type: str,
        *,
        variables: Mapping[str, Any] | None = None,
        profile_id: str | None = None,
    ) -> TemplateRendering:
        """The message the template in force would send."""
        call = _render(channel, message_type, variables, profile_id)
        return cast(TemplateRendering, self._send(call))


class AsyncTemplates(AsyncResource):
    """``async_client.templates``: the asynchronous twin of :class:`Templates`."""

    async def list(self, *, profile_id: str | None = None) -> TemplateList:
        return cast(TemplateList, await self._send(_list(profile_id)))

    async def defaults(self) -> TemplateList:
        return cast(TemplateList, await self._send(_DEFAULTS))

    async def get(
        self, channel: str, message_type: str, *, profile_id: str | None = None
    ) -> Template:
        return cast(Template, await self._send(_get(channel, message_type, profile_id)))

    async def put(
        self,
        channel: str,
        message_type: str,
        body: str,
        *,
        subject: str | None = None,
        button_text: str | None = None,
        button_url_template: str | None = None,
        is_active: bool | None = None,
        profile_id: str | None = None,
    ) -> Template:
        call = _put(
            channel,
            message_type,
            body,
            subject,
            button_text,
            button_url_template,
            is_active,
            profile_id,
        )
        return cast(Template, await self._send(call))

    async def delete(
        self, channel: str, message_type: str, *, profile_id: str | None = None
    ) -> TemplateDeleted:
        call = _delete(channel, message_type, profile_id)
        return cast(TemplateDeleted, await self._send(call))

    async def preview(
        self,
        channel: str,
        message_type: str,
        *,
        body: str | None = None,
        subject: str | None = None,
        button_text: str | None = None,
        button_url_template: str | None = None,
        variables: Mapping[str, Any] | None = None,
        profile_id: str | None = None,
    ) -> TemplatePreview:
        call = _preview(
            channel,
            message_type,
            body,
            subject,
            button_text,
            button_url_template,
            variables,
            profile_id,
        )
        return cast(TemplatePreview, await self._send(call))

    async def render(
        self,
        channel: str,
        message_type: str,
        *,
        variables: Mapping[str, Any] | None = None,
        profile_id: str | None = None,
    ) -> TemplateRendering:
        call = _render(channel, message_type, variables, profile_id)
        return cast(TemplateRendering, await self._send(call))
