"""``GET /events``: a session's events as Server-Sent Events (docs/design.md, *HTTP API*).

Each frame has ``event: <type>``, ``id: <n>`` and ``data: <json with "type" inside>``. A client that
reconnects with ``Last-Event-ID`` (header, or ``last_event_id`` query for clients that cannot set
headers) is sent exactly the events it missed while the buffer holds them, otherwise a fresh
snapshot. A ``connected`` event opens every stream; keepalive comments follow every 15 s; the
stream ends after ``completed``.

Without ``session_id`` the stream follows every import instead (wkmp-ui subscribes once): the running
one from its start, then each next one as it starts; it never ends by itself. Each session numbers
its own events, so these frames' ids name the session too: ``<session id>:<n>``. A client that
reconnects with such an id (the header only) gets the rest of that import — what it missed, or the
current picture when the buffer no longer holds it — then each import that started since, in order,
from its start; an id of an import no longer kept counts as none. No event is sent twice.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.errors import Refused
from wkmp_ai.events import utc_now_iso
from wkmp_ai.ingest.manager import SessionManager
from wkmp_ai.ingest.session import ImportSession

router = APIRouter(tags=["events"])
KEEPALIVE_S = 15
NEXT_SESSION_POLL_S = 0.25  # how often the all-imports stream looks for a new session
_EVENT_ID = re.compile(r"[0-9]{1,18}", re.ASCII)  # the ids we send; a longer one is not ours
_ALL_IMPORTS_ID = re.compile(r"([0-9a-f-]{1,64}):([0-9]{1,18})", re.ASCII)  # <session id>:<n>


def _frame(event_type: str, data: dict[str, Any], event_id: int | str | None = None) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data), event=event_type, id=None if event_id is None else str(event_id))


async def _rest_of(
    session: ImportSession, last_seen: int, event_id: Callable[[int], int | str]
) -> AsyncIterator[ServerSentEvent]:
    """``session``'s events after ``last_seen`` as they come, the current picture first when the
    buffer no longer holds all of them; ends after ``completed``."""
    _missed, lost = session.events.since(last_seen)
    if lost:
        yield _frame("progress", _snapshot(session))
    async for event in session.events.follow(last_seen, wait_s=KEEPALIVE_S):
        if event is not None:
            yield _frame(event.type.value, event.as_dict(), event_id(event.id))


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
    async for frame in _rest_of(session, last_seen, lambda n: n):
        yield frame


def _all_imports_id(session: ImportSession) -> Callable[[int], str]:
    return lambda n: f"{session.id}:{n}"


async def _follow_all(sessions: SessionManager, resume: tuple[str, int] | None) -> AsyncIterator[ServerSentEvent]:
    kept = sessions.kept()
    resumed = sessions.get(resume[0]) if resume is not None else None
    # A new subscriber gets the running import from its start, else waits for the next one; one that
    # comes back gets the rest of the import it left, then each import that started since, in order.
    if resumed is not None:
        done = {s.id for s in kept[: kept.index(resumed) + 1]}
    else:
        done = {s.id for s in kept if s.state.finished}
    active = sessions.active
    yield _frame(
        "connected",
        {"type": "connected", "session_id": active.id if active else None, "timestamp": utc_now_iso()},
    )
    if resume is not None and resumed is not None:
        async for frame in _rest_of(resumed, resume[1], _all_imports_id(resumed)):
            yield frame
    while True:
        session = next((s for s in sessions.kept() if s.id not in done), None)
        if session is None:
            await asyncio.sleep(NEXT_SESSION_POLL_S)
            continue
        done.add(session.id)
        async for frame in _rest_of(session, 0, _all_imports_id(session)):
            yield frame


def _snapshot(session: ImportSession) -> dict[str, Any]:
    return {
        "type": "progress",
        "session_id": session.id,
        "operation": session.operation,
        "state": session.state.value,
        "snapshot": True,
        **session.progress(),
    }


@router.get("/events", response_model=None)
async def events(
    services: Annotated[Services, Depends(get_services)],
    session_id: Annotated[str | None, Query()] = None,
    last_event_id_query: Annotated[int | None, Query(alias="last_event_id", ge=0, lt=10**18)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """One import's events (``session_id``), or every import's, as they happen (without it)."""
    session = services.sessions.get(session_id) if session_id else None
    if session_id and session is None:
        raise Refused(f"no import session {session_id}", error="Not Found", status=404)
    last_seen = last_event_id_query or 0
    resume: tuple[str, int] | None = None
    given = (last_event_id or "").strip()  # an empty id is the spec's way of saying none
    if given and session is not None:
        if not _EVENT_ID.fullmatch(given):
            raise Refused("Last-Event-ID must be an event number this service sent")
        last_seen = int(given)
    elif given:  # the all-imports stream's <session id>:<n>; a bare number (a session stream's) counts as none
        if (match := _ALL_IMPORTS_ID.fullmatch(given)) is not None:
            resume = (match.group(1), int(match.group(2)))
        elif not _EVENT_ID.fullmatch(given):
            raise Refused("Last-Event-ID must be an event id this service sent (<session id>:<number>)")
    stream = _stream(session, last_seen) if session is not None else _follow_all(services.sessions, resume)
    return EventSourceResponse(stream, ping=KEEPALIVE_S, headers={"Cache-Control": "no-store"})
