"""``GET /events``: a session's events as Server-Sent Events (docs/design.md, *HTTP API*).

Each frame has ``event: <type>``, ``id: <n>`` and ``data: <json with "type" inside>``. A client that
reconnects with ``Last-Event-ID`` (header, or ``last_event_id`` query for clients that cannot set
headers) is sent exactly the events it missed while the buffer holds them, otherwise a fresh
snapshot. A ``connected`` event opens every stream; keepalive comments follow every 15 s; the
stream ends after ``completed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.errors import Refused
from wkmp_ai.events import utc_now_iso
from wkmp_ai.ingest.session import ImportSession

router = APIRouter(tags=["events"])
KEEPALIVE_S = 15
_EVENT_ID = re.compile(r"[0-9]{1,18}", re.ASCII)  # the ids we send; a longer one is not ours


def _frame(event_type: str, data: dict[str, Any], event_id: int | None = None) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data), event=event_type, id=None if event_id is None else str(event_id))


async def _stream(session: ImportSession, last_seen: int) -> AsyncIterator[ServerSentEvent]:
    yield _frame(
        "connected",
        {
            "type": "connected",
            "session_id": session.id,
            "state": session.state.value,
            "last_event_id": session.events.last_id,
            "timestamp": utc_now_iso(),
        },
    )
    _missed, lost = session.events.since(last_seen)
    if lost:  # the buffer no longer holds everything missed: send the current picture first
        snapshot = {
            "type": "progress",
            "session_id": session.id,
            "operation": session.operation,
            "state": session.state.value,
            "snapshot": True,
            **session.progress(),
        }
        yield _frame("progress", snapshot)
    async for event in session.events.follow(last_seen, wait_s=KEEPALIVE_S):
        if event is not None:
            yield _frame(event.type.value, event.as_dict(), event.id)


@router.get("/events", response_model=None)
async def events(
    services: Annotated[Services, Depends(get_services)],
    session_id: Annotated[str | None, Query()] = None,
    last_event_id_query: Annotated[int | None, Query(alias="last_event_id", ge=0, lt=10**18)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    session = services.sessions.get(session_id) if session_id else services.sessions.latest()
    if session is None:
        message = f"no import session {session_id}" if session_id else "no import session has run"
        raise Refused(message, error="Not Found", status=404)
    last_seen = last_event_id_query or 0
    if last_event_id and last_event_id.strip():  # an empty id is the spec's way of saying none
        if not _EVENT_ID.fullmatch(last_event_id.strip()):
            raise Refused("Last-Event-ID must be an event number this service sent")
        last_seen = int(last_event_id.strip())
    return EventSourceResponse(_stream(session, last_seen), ping=KEEPALIVE_S, headers={"Cache-Control": "no-store"})
