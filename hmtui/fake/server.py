"""The fake Heymarket HTTP server: real loopback HTTP, seeded data, injectable faults.

Behaviour the real API leaves open is a runtime option (``FakeOptions``), so the
client can be tested against each possibility: page sizes, whether the ``date`` /
``timestamp`` bound is exclusive or inclusive, and the order of items in a page.

Decisions beyond the public reference:

* Request bodies and query values are strictly typed: ids must be JSON integers
  (a numeric string is a 400), ``target`` a string; 400 bodies are
  ``{"error": "Bad Request", "message": ..., "field": <the field>}``.
* ``filters.closed``: true = closed only, false = open only, absent/null = both;
  ``filters.unread`` likewise. Unknown inbox ids just match nothing.
* ``phoneNumber`` must match the stored target exactly (E.164 without '+').
* ``transfer`` to an inbox where the target already has a conversation is a 400.
* A "401" fault answers 401 whatever the token; faults are checked before auth.
* ``rate_limit``: at most that many requests are served in any rolling 60 s of the server's
  ``clock`` (Heymarket's documented 500 a minute by default; 0 = no limit). The next one gets a
  429 with ``Retry-After`` (whole seconds until the oldest served request leaves the window) and
  ``{"error": "Too Many Requests", "message": ...}``. A refused request does not use a slot (so a
  client that waits as told gets through), is counted in ``counts``, and is checked before faults
  (it consumes none).
* ``FakeOptions.profile``: "tidy" sends every key (null when empty) and an ``unread`` bool;
  "live" sends the same world in the shapes seen from the real backend (``hmtui.fake.live``).
  Triage accepts ``chat_id`` for open/close and ``targets`` (a group's numbers) wherever it
  accepts ``target``; in the live profile a group without a ``target`` has no history by
  ``phoneNumber`` (an empty page).
* ``POST /v1/message/send``: see ``hmtui.fake.sending`` (validation, ``local_id`` dedupe, the
  two answer shapes, the compliance hold). ``POST /v1/templates``: ``hmtui.fake.templates``.
  The customer's answers to replies: ``hmtui.fake.customer`` (off unless
  ``FakeOptions.customer_replies``).
* A ``drop`` fault closes the connection without an answer; with ``after`` the request is
  processed first (a send is made, then its answer is lost).
"""

from __future__ import annotations

import bisect
import collections
import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from random import Random
from typing import Any, Callable, Literal
from urllib.parse import parse_qs, urlsplit

from hmtui.fake.auth import DEMO_SECRET_ID, DEMO_SECRET_KEY, AuthError, check_authorization
from hmtui.fake import live
from hmtui.fake.customer import CustomerReplies
from hmtui.fake.data import FakeData
from hmtui.fake.sending import Sender, SendRejected
from hmtui.fake.templates import TemplateBook

MAX_BODY = 1 << 20
MALFORMED_BODY = b'[{"id": 1, "text": "trunc'
HTML_500 = (
    b"<html><head><title>500 Internal Server Error</title></head><body>"
    b"<h1>500 Internal Server Error</h1><p>The server encountered an internal error.</p>"
    b"<hr><center>nginx</center></body></html>"
)
TRIAGE = ("open", "close", "read", "unread", "reassign", "transfer")
_NAMED = TRIAGE + ("count",)  # /v1/conversations/<these> are not conversation ids
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)
_INT = re.compile(r"-?\d{1,18}")


@dataclass
class FakeOptions:
    """Runtime switches for what the real API leaves undocumented; tests may
    change them on a running server."""

    conversation_page_size: int = 25
    message_page_size: int = 50
    cursor: Literal["exclusive", "inclusive"] = "exclusive"
    order: Literal["newest", "oldest", "shuffled"] = "newest"
    latency: float = 0.0
    # POST /v1/conversations/count: honour `filters`, or answer the team-wide total whatever
    # they say (as the live server is suspected to); and the answer's shape. None: the profile
    # decides (tidy: filters honoured, a number; live: filters ignored, a bare string).
    count_filters: bool | None = None
    count_shape: Literal["number", "string", "object"] | None = None
    # POST /v1/messages/all: "before" = only messages created before `created_at`; "after" =
    # on and after it; "ignored" (tests only) = the cursor changes nothing.
    feed_cursor: Literal["before", "after", "ignored"] = "before"
    # Requests served per rolling minute before a 429 (0 = no limit); see the module docstring.
    rate_limit: int = 500
    # "tidy": every key, nulls, `unread` bools; "live": the shapes of the real backend.
    profile: Literal["tidy", "live"] = "tidy"
    # POST /v1/message/send answers a repeated `local_id` with the first answer, creating
    # nothing; False: it ignores `local_id` (what the docs leave possible for SMS).
    send_dedupe: bool = True
    # Seconds after a reply before the fake customer answers it (None: never; see
    # hmtui.fake.customer). `hmtui demo` sets it; tests only when they ask.
    customer_replies: float | None = None


PROFILES = ("tidy", "live")


@dataclass
class Fault:
    """A failure to inject. Faults are matched in injection order, before auth;
    a request gets at most one. With `after`, the request is processed first
    (state changes) and the fault replaces the answer; an `after` stall
    processes, sleeps, then answers normally."""

    kind: Literal["429", "500", "stall", "malformed", "401", "badgzip", "deepjson", "drop"]
    times: int = 1
    every: int | None = None
    path: str | None = None
    method: str | None = None
    retry_after: float | None = None
    stall: float = 5.0
    after: bool = False


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


# Enough to inspect a test's or a demo's recent traffic; a demo left open all day must not grow.
REQUEST_LOG_LIMIT = 2000


class RequestLog(collections.deque):  # type: ignore[type-arg]
    """The last REQUEST_LOG_LIMIT requests (`counts` stays exact for all of them). Iterating
    reads a snapshot, so a test may walk it while requests arrive."""

    def __init__(self, maxlen: int = REQUEST_LOG_LIMIT) -> None:
        super().__init__(maxlen=maxlen)

    def __iter__(self) -> Any:
        return iter(list(super().__iter__()))  # list() of a deque iterator runs without a switch


@dataclass
class _FaultState:
    fault: Fault
    seen: int = 0
    fired: int = 0


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class _HTTPError(Exception):
    def __init__(self, status: int, error: str, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.field_name = status, error, message, field_name


def _bad(field_name: str, message: str) -> _HTTPError:
    return _HTTPError(400, "Bad Request", message, field_name)


def _not_found(message: str = "Not Found") -> _HTTPError:
    return _HTTPError(404, "Not Found", message)


def _dumps(obj: Any) -> bytes:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in the data: JSON can carry it only \u-escaped
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def _json(status: int, obj: Any) -> _Response:
    return _Response(status, _dumps(obj))


def _error_response(err: _HTTPError) -> _Response:
    body: dict[str, Any] = {"error": err.error, "message": err.message}
    if err.field_name is not None:
        body["field"] = err.field_name
    return _json(err.status, body)


def parse_rfc3339(value: str) -> float | None:
    """Unix seconds (with fraction) of an RFC 3339 timestamp, or None if it is not one."""
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    day, clock, frac, offset = m.groups()
    try:
        stamp = datetime.fromisoformat(f"{day}T{clock}{'+00:00' if offset in 'Zz' else offset}")
    except ValueError:
        return None
    return stamp.timestamp() + (float(f"0.{frac}") if frac else 0.0)


def _endpoint(method: str, path: str) -> str:
    # Conversation ids are folded so tests can count "GET /v1/conversations/{id}".
    parts = path.split("/")
    if len(parts) == 4 and parts[:3] == ["", "v1", "conversations"] and parts[3] and not (
        method == "POST" and parts[3] in _NAMED
    ):
        return f"{method} /v1/conversations/{{id}}"
    return f"{method} {path}"


def _int_field(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if type(value) is not int:
        raise _bad(key, f"'{key}' is required and must be an integer")
    return value


def _str_field(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(key, f"'{key}' is required and must be a non-empty string")
    return value


def _date_field(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    stamp = parse_rfc3339(value) if isinstance(value, str) else None
    if stamp is None:
        raise _bad(key, f"'{key}' must be an RFC 3339 timestamp")
    return stamp


def _bool_filter(filters: dict[str, Any], key: str) -> bool | None:
    value = filters.get(key)
    if value is not None and not isinstance(value, bool):
        raise _bad(f"filters.{key}", f"'filters.{key}' must be a boolean")
    return value


class FakeHeymarket:
    """A Heymarket look-alike on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        *,
        seed: int = 7,
        anchor: datetime | None = None,
        options: FakeOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        secrets: dict[str, str] | None = None,
    ) -> None:
        if anchor is None:
            anchor = datetime.fromtimestamp(int(clock()) // 60 * 60, timezone.utc)
        self.clock = clock
        self.data = FakeData(seed, anchor)
        self.options = options if options is not None else FakeOptions()
        self.host = host
        self.port = port
        self.secrets: dict[str, str] = dict(secrets) if secrets else {DEMO_SECRET_ID: DEMO_SECRET_KEY}
        self.secret_id, self.secret_key = next(iter(self.secrets.items()))
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests: RequestLog = RequestLog()
        self._faults: list[_FaultState] = []
        self._lock = threading.Lock()
        self._request_number = 0
        self._served: collections.deque[float] = collections.deque()  # clock() of each, last 60 s
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.templates = TemplateBook(self.data.anchor_epoch)
        self.sender = Sender(self)
        self.customer = CustomerReplies(self)
        self.sender.listeners.append(self.customer.on_sent)

    # ---------------------------------------------------------------- control

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FakeHeymarket":
        handler = type("FakeHeymarketHandler", (_Handler,), {"fake": self})
        httpd = _Server((self.host, self.port), handler)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        # A short poll interval keeps stop() (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-heymarket", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.customer.stop()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        # Keep-alive connections would otherwise linger in their handler threads.
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeHeymarket":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests.clear()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(_FaultState(fault))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def add_message(
        self, inbox_id: int, target: str, text: str, *, inbound: bool = True, date: datetime | None = None
    ) -> dict[str, Any]:
        return self.data.add_message(inbox_id, target, text, inbound=inbound, date=date, now=self.clock())

    # ------------------------------------------------------------ serialization
    # Every object leaves through these, so the profile decides its shape in one place.

    @property
    def live(self) -> bool:
        return self.options.profile == "live"

    def shape_conversation(self, conv: dict[str, Any]) -> dict[str, Any]:
        return live.shape_conversation(self.data.live, conv) if self.live else conv

    def shape_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.live:
            return messages
        data, last_ids = self.data, {}
        out = []
        for msg in messages:
            ref = msg.get("conversation") or {}
            conv_id = ref.get("id")
            if conv_id not in last_ids:
                conv = data.conversation_by_id(conv_id) if isinstance(conv_id, int) else None
                last_ids[conv_id] = data.last_message_id(conv) if conv is not None else None
            out.append(live.shape_message(data.live, msg, last_ids[conv_id]))
        return out

    def shape_inboxes(self, inboxes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [live.shape_inbox(i) for i in inboxes] if self.live else inboxes

    # -------------------------------------------------------------- internals

    def _begin(self, method: str, path: str) -> tuple[int, Fault | _Response | None]:
        """Number the request, count it, and pick the 429 or the fault (if any) it gets."""
        with self._lock:
            self._request_number += 1
            self.counts[_endpoint(method, path)] += 1
            limited = self._admit()
            if limited is not None:
                return self._request_number, limited
            for state in self._faults:
                fault = state.fault
                if fault.path is not None and not path.startswith(fault.path):
                    continue
                if fault.method is not None and fault.method.upper() != method:
                    continue
                state.seen += 1
                if fault.every is not None:
                    if fault.every > 0 and state.seen % fault.every == 0:
                        return self._request_number, fault
                    continue
                if state.fired < fault.times:
                    state.fired += 1
                    return self._request_number, fault
            return self._request_number, None

    def _admit(self) -> _Response | None:
        """Take a slot in the rolling minute, or the 429 to answer (the caller holds the lock)."""
        limit = self.options.rate_limit
        if limit <= 0:
            return None
        now = self.clock()
        served = self._served
        while served and served[0] <= now - 60.0:
            served.popleft()
        if len(served) < limit:
            served.append(now)
            return None
        wait = max(1, math.ceil(served[0] + 60.0 - now))
        body = {"error": "Too Many Requests",
                "message": f"rate limit of {limit} requests per minute exceeded; retry in {wait} s"}
        return _Response(429, _dumps(body), headers={"Retry-After": str(wait)})

    def _record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def handle(self, method: str, path: str, query: dict[str, str], raw: bytes, auth: str | None, number: int) -> _Response:
        """Authenticate and route one request (faults aside)."""
        try:
            check_authorization(auth, self.secrets, self.clock)
        except AuthError as exc:
            return _json(401, {"error": "Unauthorized", "message": str(exc)})
        try:
            return self._route(method, path, query, raw, number)
        except _HTTPError as err:
            return _error_response(err)

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes, number: int) -> _Response:
        data = self.data
        if method == "GET":
            if path == "/v1/inboxes":
                with data.lock:
                    return _Response(200, _dumps(self.shape_inboxes(data.inboxes)))
            if path == "/v1/team":
                with data.lock:
                    return _Response(200, _dumps(data.team))
            if path == "/v1/messages":
                return self._messages(query, number)
            if path.startswith("/v1/conversations/"):
                ident = path[len("/v1/conversations/") :]
                conv = data.conversation_by_id(int(ident)) if _INT.fullmatch(ident) else None
                if conv is None:
                    raise _not_found("conversation not found")
                with data.lock:
                    return _Response(200, _dumps(self.shape_conversation(conv)))
        elif method == "POST":
            if path == "/v1/conversations":
                return self._conversations(_json_body(raw), number)
            if path == "/v1/conversations/count":
                return self._count(_json_body(raw, empty={}))
            if path == "/v1/messages/all":
                return self._messages_all(_json_body(raw, empty={}))
            if path == "/v1/message/send":
                return self._send(_json_body(raw))
            if path == "/v1/templates":
                return self._templates(_json_body(raw, empty={}))
            if path.startswith("/v1/conversations/") and path.rsplit("/", 1)[1] in TRIAGE and path.count("/") == 3:
                self._triage(path.rsplit("/", 1)[1], _json_body(raw))
                return _Response(200, b"ok", "text/plain; charset=utf-8")
        raise _not_found()

    def _send(self, body: Any) -> _Response:
        try:
            return _json(200, self.sender.handle(body))
        except SendRejected as exc:
            error = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}.get(exc.status, "Error")
            out: dict[str, Any] = {"error": error, "message": exc.message, **exc.extra}
            if exc.field_name is not None:
                out["field"] = exc.field_name
            return _json(exc.status, out)

    def _templates(self, body: Any) -> _Response:
        """POST /v1/templates: `{date?}`, 30 a page, newest `updated` first."""
        if not isinstance(body, dict):
            raise _bad("body", "body must be a JSON object")
        before = _date_field(body, "date")
        page = self.templates.page(before, inclusive=self.options.cursor == "inclusive")
        if self.live:
            page = [live._omit_empty(dict(t)) for t in page]
        return _json(200, page)

    def _arrange(self, items: list[Any], oldest_first: bool, number: int) -> list[Any]:
        order = self.options.order
        if order == "shuffled":
            items = list(items)
            Random(number).shuffle(items)
            return items
        if (order == "oldest") == oldest_first:
            return list(items)
        return items[::-1]

    def _conversations(self, body: Any, number: int) -> _Response:
        data = self.data
        if not isinstance(body, dict):
            raise _bad("body", "body must be a JSON object")
        if not data.is_member(body.get("id")):
            raise _bad("id", "'id' is required and must be the id of a team member")
        filters = body.get("filters")
        if not isinstance(filters, dict):
            raise _bad("filters", "'filters' is required and must be an object")
        inboxes = filters.get("inboxes")
        if not isinstance(inboxes, list) or not inboxes or any(type(i) is not int for i in inboxes):
            raise _bad("filters.inboxes", "'filters.inboxes' must be a non-empty array of inbox ids")
        closed = _bool_filter(filters, "closed")
        unread = _bool_filter(filters, "unread")
        date = body.get("date")
        before: float | None = None
        if date is not None:
            before = parse_rfc3339(date) if isinstance(date, str) else None
            if before is None:
                raise _bad("date", "'date' must be an RFC 3339 timestamp")
        with data.lock:
            page = data.conversation_page(
                inboxes,
                before=before,
                inclusive=self.options.cursor == "inclusive",
                closed=closed,
                unread=unread,
                limit=max(0, self.options.conversation_page_size),
            )
            page = [self.shape_conversation(c) for c in page]
            return _Response(200, _dumps(self._arrange(page, False, number)))

    def _messages(self, query: dict[str, str], number: int) -> _Response:
        data = self.data
        phone = query.get("phoneNumber")
        if not phone:
            raise _bad("phoneNumber", "'phoneNumber' is required")
        inbox = query.get("inboxID")
        if inbox is None or not _INT.fullmatch(inbox):
            raise _bad("inboxID", "'inboxID' is required and must be an integer")
        stamp = query.get("timestamp")
        if stamp is not None and not _INT.fullmatch(stamp):
            raise _bad("timestamp", "'timestamp' must be an integer (Unix seconds)")
        conv = data.find_conversation(int(inbox), phone)
        if conv is None or (self.live and conv["id"] in data.live.headless):
            # A group without a `target` has no history by one phone number.
            return _Response(200, b"[]")
        with data.lock:
            page = data.message_page(
                conv,
                before=None if stamp is None else int(stamp),
                inclusive=self.options.cursor == "inclusive",
                limit=max(0, self.options.message_page_size),
            )
            page = self.shape_messages(page)
            return _Response(200, _dumps(self._arrange(page, True, number)))

    def _count(self, body: Any) -> _Response:
        """POST /v1/conversations/count: `{date?, filters?{inboxes?, closed?, unread?}}`."""
        data = self.data
        if not isinstance(body, dict):
            raise _bad("body", "body must be a JSON object")
        before = _date_field(body, "date")
        filters = body.get("filters")
        if filters is None:
            filters = {}
        if not isinstance(filters, dict):
            raise _bad("filters", "'filters' must be an object")
        inboxes = filters.get("inboxes")
        if inboxes is not None and (not isinstance(inboxes, list) or any(type(i) is not int for i in inboxes)):
            raise _bad("filters.inboxes", "'filters.inboxes' must be an array of inbox ids")
        closed = _bool_filter(filters, "closed")
        unread = _bool_filter(filters, "unread")
        honoured = self.options.count_filters
        if not (honoured if honoured is not None else not self.live):
            inboxes, closed, unread = None, None, None
        with data.lock:
            scope = inboxes if inboxes else [i["id"] for i in data.inboxes]
            n = len(data.conversation_page(
                scope, before=before, inclusive=self.options.cursor == "inclusive",
                closed=closed, unread=unread, limit=len(data.conversations),
            ))
        shape = self.options.count_shape or ("string" if self.live else "number")
        return _json(200, str(n) if shape == "string" else {"count": n} if shape == "object" else n)

    def _messages_all(self, body: Any) -> _Response:
        """POST /v1/messages/all: `{created_at? (or date), order?, ascending?, limit?}`.

        Like a SQL query: keep what the cursor allows (`feed_cursor`), sort by `order` (ties by
        id) in the `ascending` direction (default newest first), take `limit`. So an empty body
        is the newest 30, and "after" with `ascending: false` is the newest 30 after the cursor,
        not the 30 nearest it."""
        if not isinstance(body, dict):
            raise _bad("body", "body must be a JSON object")
        key = "created_at" if body.get("created_at") is not None else "date"
        cursor = _date_field(body, key)
        order = body.get("order", "created_at")
        if order not in ("created_at", "updated_at"):
            raise _bad("order", "'order' must be \"created_at\" or \"updated_at\"")
        ascending = body.get("ascending", False)
        if not isinstance(ascending, bool):
            raise _bad("ascending", "'ascending' must be a boolean")
        limit = body.get("limit", 30)
        if type(limit) is not int or limit < 1:
            raise _bad("limit", "'limit' must be a positive integer")
        with self.data.lock:
            rows = self.data.team_messages(order)
            # The cursor bounds `date` (created) whichever order is asked for.
            lo, hi = 0, len(rows)
            if cursor is not None and self.options.feed_cursor != "ignored":
                after = self.options.feed_cursor == "after"
                if order == "created_at":
                    cut = bisect.bisect_left(self.data.team_message_keys(order), cursor)
                    lo, hi = (cut, hi) if after else (lo, cut)
                else:
                    rows = [r for r in rows if (r[3] >= cursor) == after]
                    hi = len(rows)
            page = rows[lo : min(hi, lo + limit)] if ascending else rows[max(lo, hi - limit) : hi][::-1]
            return _json(200, self.shape_messages([r[2] for r in page]))

    def _triage(self, action: str, body: Any) -> None:
        data = self.data
        if not isinstance(body, dict):
            raise _bad("body", "body must be a JSON object")
        if action == "transfer":
            conv_id = _int_field(body, "conversation_id")
            inbox_id = _int_field(body, "transfer_inbox_id")
            if data.inbox_by_id(inbox_id) is None:
                raise _bad("transfer_inbox_id", "no such inbox")
            conv = data.conversation_by_id(conv_id)
            if conv is None:
                raise _not_found("conversation not found")
            try:
                data.transfer(conv, inbox_id)
            except ValueError as exc:
                raise _bad("transfer_inbox_id", str(exc)) from None
            return
        inbox_id = _int_field(body, "inbox_id")
        user_id = _int_field(body, "user_id")
        if not data.is_member(user_id):
            raise _bad("user_id", "'user_id' is not a team member")
        reassign_id = _int_field(body, "reassign_id") if action == "reassign" else None
        if reassign_id is not None and not data.is_member(reassign_id):
            raise _bad("reassign_id", "'reassign_id' is not a team member")
        if action in ("open", "close") and "target" not in body and "chat_id" in body:
            conv = data.conversation_by_id(_int_field(body, "chat_id"))
            if conv is not None and conv["inbox"] != inbox_id:
                conv = None
        elif "target" not in body and "targets" in body:
            targets = body["targets"]
            if not isinstance(targets, list) or not targets or any(not isinstance(t, str) or not t for t in targets):
                raise _bad("targets", "'targets' must be a non-empty array of numbers")
            conv = data.find_group(inbox_id, targets)
        else:
            conv = data.find_conversation(inbox_id, _str_field(body, "target"))
        if conv is None:
            raise _not_found("conversation not found")
        if action == "open":
            data.set_status(conv, "open")
        elif action == "close":
            data.set_status(conv, "closed")
        elif action == "read":
            data.mark_read(conv, int(self.clock()))
        elif action == "unread":
            data.mark_unread(conv)
        else:
            assert reassign_id is not None
            data.reassign(conv, reassign_id)


def _json_body(raw: bytes, empty: Any = None) -> Any:
    if empty is not None and not raw.strip():
        return empty
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad("body", "body must be valid JSON") from None


def _fault_response(fault: Fault) -> _Response:
    if fault.kind == "429":
        headers = {}
        if fault.retry_after is not None:
            value = float(fault.retry_after)
            headers["Retry-After"] = str(int(value)) if value.is_integer() else str(value)
        return _Response(429, _dumps({"error": "Too Many Requests"}), headers=headers)
    if fault.kind == "500":
        return _Response(500, HTML_500, "text/html; charset=utf-8")
    if fault.kind == "malformed":
        return _Response(200, MALFORMED_BODY)
    if fault.kind == "badgzip":  # says gzip, is not: the client's decoder fails
        return _Response(200, b"\x1f\x8b\x08\x00 this is not a gzip stream", headers={"Content-Encoding": "gzip"})
    if fault.kind == "deepjson":  # valid JSON, nested far past Python's recursion limit
        return _Response(200, b"[" * 100_000 + b"]" * 100_000)
    return _json(401, {"error": "Unauthorized", "message": "injected fault"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected here, not news.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHeymarket/1.0"
    # Headers and body go out as two writes; without TCP_NODELAY, Nagle plus
    # delayed ACK adds ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    fake: FakeHeymarket

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own rejections (bad request line, oversized headers) get
        # the same JSON and X-Request-Id as everything else.
        fake = self.fake
        with fake._lock:
            fake._request_number += 1
            number = fake._request_number
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        body = _dumps({"error": phrase, "message": message or phrase})
        self.close_connection = True
        # Unparsable request lines count as HTTP/0.9, which would drop the headers.
        self.request_version = self.protocol_version
        try:
            self.send_response(code, phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Id", f"fake-{number}")
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        # Every method (PUT, DELETE, BREW...) goes through one dispatcher, so
        # unknown ones get the same 404 JSON rather than http.server's 501 page.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size_text = line.split(b";", 1)[0].strip()
                if not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
                    return None
                size = int(size_text, 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit() or int(length) > MAX_BODY:
            return None
        return self.rfile.read(int(length))

    def _dispatch(self) -> None:
        fake = self.fake
        method = self.command.upper()
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        raw = self._read_body()
        number, fault = fake._begin(method, path)
        if raw is None:
            # The stream position is unknown now, so this connection cannot be reused.
            self.close_connection = True
            response = _error_response(_bad("body", "unreadable request body"))
            self._finish(method, path, query, b"", number, response)
            return
        response: _Response | None = None
        if isinstance(fault, _Response):  # rate limited: nothing else happens
            self._finish(method, path, query, raw, number, fault)
            return
        if fault is not None and not fault.after:
            if fault.kind == "stall":
                time.sleep(fault.stall)
            elif fault.kind == "drop":
                self._drop(method, path, query, raw, number)
                return
            else:
                response = _fault_response(fault)
        if response is None:
            try:
                response = fake.handle(method, path, query, raw, self.headers.get("Authorization"), number)
            except Exception as exc:  # the server must answer, never crash
                response = _json(500, {"error": "Internal Server Error", "message": repr(exc)})
            if fault is not None and fault.after:
                if fault.kind == "stall":
                    time.sleep(fault.stall)
                elif fault.kind == "drop":
                    self._drop(method, path, query, raw, number)
                    return
                else:
                    response = _fault_response(fault)
        self._finish(method, path, query, raw, number, response)

    def _drop(self, method: str, path: str, query: dict[str, str], raw: bytes, number: int) -> None:
        """Hang up without a word: the client sees the connection close before any answer."""
        try:
            body: Any = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        self.fake._record(RecordedRequest(method, path, query, body, 0))
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _finish(
        self, method: str, path: str, query: dict[str, str], raw: bytes, number: int, response: _Response
    ) -> None:
        fake = self.fake
        if fake.options.latency > 0:
            time.sleep(fake.options.latency)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = raw.decode("utf-8", "replace")
        fake._record(RecordedRequest(method, path, query, body, response.status))
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("X-Request-Id", f"fake-{number}")
            for key, value in response.headers.items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(response.body)
        except OSError:
            self.close_connection = True
