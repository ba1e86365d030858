"""The async Heymarket client: one httpx.AsyncClient, JWT auth, bounded retries, typed results."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from hmtui import __version__
from hmtui.api.auth import Credentials, TokenSigner
from hmtui.api.counts import parse_count
from hmtui.api.errors import (
    ApiError,
    ApiTimeoutError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ResponseTooLargeError,
    ServerError,
)
from hmtui.api.limiter import RequestLimiter
from hmtui.api.models import (
    Conversation,
    Id,
    Inbox,
    Message,
    Team,
    format_datetime,
    parse_items,
)
from hmtui.api.paging import Pager
from hmtui.api.semantics import triage_keys
from hmtui.api.send import EXACTLY_ONCE_PATHS, SendRequest, SendResult, new_local_id, send_exactly_once
from hmtui.api.templates import Template
from hmtui.api.retry import RetryEvent, RetryPolicy, parse_retry_after
from hmtui.safe_text import one_line

DEFAULT_BASE_URL = "https://api.heymarket.com"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=6.0)
# The most a response body may hold, decoded. Generous (a page of the API is a few hundred KB),
# and far below what a decompression bomb or a runaway server would make us hold in memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024

log = logging.getLogger("hmtui.api")
T = TypeVar("T")

# Keys under which an API might wrap a list; the docs show bare arrays.
_LIST_WRAPPERS = ("data", "items", "results", "inboxes", "conversations", "messages")


def validate_base_url(base_url: str) -> str:
    """The base URL, normalized, without any `user:password@`: httpx would send those as Basic
    auth in place of our bearer token, and they must never be printed or logged."""
    text = base_url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"invalid base URL {one_line(redact_url(base_url), 80)!r}: expected http(s)://host")
    if url_has_credentials(text):
        text = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return text.rstrip("/")


def url_has_credentials(url: str) -> bool:
    return redact_url(url) != url


def redact_url(url: str) -> str:
    """`url` fit to show or log: a `user:password@` in it becomes `[redacted]@`. Works on text
    that is not a valid URL too (it is what an error message echoes)."""
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    end = len(url)
    for mark in "/?#":
        found = url.find(mark, start)
        if found >= 0:
            end = min(end, found)
    at = url.rfind("@", start, end)
    if at < 0:
        return url
    return f"{url[:start]}[redacted]{url[at:]}"


_backend_imported = False


def _import_network_modules() -> None:
    """What the first request would import otherwise: h11, httpcore's anyio backend, anyio."""
    import h11  # noqa: F401
    import httpcore  # noqa: F401

    try:
        import anyio._backends._asyncio  # noqa: F401  # private paths: their absence only costs time
        import httpcore._backends.anyio  # noqa: F401
    except ImportError:
        pass


async def _import_network_backend() -> None:
    """httpcore imports its async networking (anyio and anyio's asyncio layer) at the first
    connection: ~50 ms on a quiet machine, over half a second on a busy one. Done once, before
    the first attempt's deadline starts, so a short timeout is not spent on imports and the
    first try of every process is a real one. (After a warm-up thread, already done there.)"""
    global _backend_imported
    if _backend_imported:
        return
    _backend_imported = True
    try:
        _import_network_modules()
    except Exception:  # the first attempt pays the import, as before
        pass


def _attempt_deadline(timeout: httpx.Timeout | float) -> float | None:
    """One bound on a whole attempt (connect, send, headers, body): the configured timeout.
    httpx's own timeouts bound each read, so a body trickling a byte at a time never trips them."""
    if isinstance(timeout, httpx.Timeout):
        values = [v for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v is not None]
        return max(values) if values else None
    return float(timeout) if timeout is not None else None


class HeymarketClient:
    """Every call the app and the CLI make to Heymarket.

    Reads retry on 429 (honouring Retry-After), 5xx, malformed JSON, connect errors and timeouts,
    up to `retry.attempts` tries. A 401 re-signs the token and retries once; a second 401 is an
    AuthError. Use as `async with HeymarketClient(...) as client:`.

    `limiter` paces every attempt (retries included) through a `RequestLimiter`; without one the
    client sends as fast as it is asked. The CLI builds the TUI's client with one from the config
    (`max_requests_per_minute`); tests and tools that build clients directly get none, so they
    never wait on a real clock.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        clock: Callable[[], float] = time.time,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_retry: Callable[[RetryEvent], None] | None = None,
        deadline: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        limiter: RequestLimiter | None = None,
    ) -> None:
        self.base_url = validate_base_url(base_url)
        # Seconds one attempt may take in all (None: no bound beyond httpx's own timeouts).
        self.deadline = deadline if deadline is not None else _attempt_deadline(timeout)
        self.max_response_bytes = max_response_bytes
        self.signer = TokenSigner(credentials, clock=clock)
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.limiter = limiter
        self._clock = clock
        self._sleep = sleep
        # Building the httpx client loads the CA bundle (tens of ms): `warm_up()` does it on a
        # thread so it can overlap other start-up work; otherwise the first request does it.
        self._http_client: httpx.AsyncClient | None = None
        self._http_error: BaseException | None = None
        self._http_args = (timeout, transport)
        self._http_thread: threading.Thread | None = None
        self.requests: Counter[str] = Counter()  # by "METHOD /path"
        self.skipped: Counter[str] = Counter()  # unusable items dropped, by kind

    def warm_up(self) -> None:
        """Start building the HTTP client on a thread now (idempotent)."""
        if self._http_thread is None and self._http_client is None:
            self._http_thread = threading.Thread(target=self._build_http, name="hmtui-http-init", daemon=True)
            self._http_thread.start()

    def _build_http(self) -> None:
        timeout, transport = self._http_args
        try:
            client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=timeout,
                transport=transport,
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
                headers={"User-Agent": f"hmtui/{__version__}", "Accept": "application/json"},
                follow_redirects=False,
            )
            _import_network_modules()
        except BaseException as exc:  # raised on first use, in the caller's thread
            self._http_error = exc
        else:
            self._http_client = client

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._http_client is None:
            thread, self._http_thread = self._http_thread, None
            if thread is not None:
                thread.join()
            if self._http_client is None:
                # What failed on the warm-up thread may be that thread's alone: an import racing
                # one on the main thread can end in importlib's "deadlock detected". Kept, it would
                # fail every request of the session; built again here, it is the caller's error.
                self._http_error = None
                self._build_http()
            if self._http_client is None:
                error, self._http_error = self._http_error, None
                raise error or RuntimeError("the HTTP client could not be created")
        return self._http_client

    async def __aenter__(self) -> HeymarketClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        # A client never used has nothing to close: building one here (the CA bundle) only slows quitting.
        thread, self._http_thread = self._http_thread, None
        if thread is not None:
            thread.join()
        if self._http_client is not None:
            await self._http_client.aclose()

    # -- reads ---------------------------------------------------------------------------------

    async def inboxes(self) -> list[Inbox]:
        data = await self._json("GET", "/v1/inboxes")
        return self._items(data, Inbox.from_raw, "inbox", "GET", "/v1/inboxes")

    async def team(self) -> Team:
        data = await self._json("GET", "/v1/team")
        if not isinstance(data, Mapping):
            raise MalformedResponseError("expected a team object", method="GET", path="/v1/team")
        team = Team.from_raw(data)
        self._count_skipped("team member", team.skipped_members)
        return team

    async def conversations(
        self,
        inbox_id: Id,
        member_id: Id,
        *,
        closed: bool | None = None,
        unread: bool | None = None,
        before: datetime | None = None,
    ) -> list[Conversation]:
        """One page of an inbox's conversations, updated before `before` (newest if None)."""
        filters: dict[str, Any] = {"inboxes": [inbox_id]}
        if closed is not None:
            filters["closed"] = closed
        if unread is not None:
            filters["unread"] = unread
        body: dict[str, Any] = {"id": member_id, "filters": filters}
        if before is not None:
            body["date"] = format_datetime(before)
        data = await self._json("POST", "/v1/conversations", body=body)
        return self._items(data, Conversation.from_raw, "conversation", "POST", "/v1/conversations")

    async def conversation(self, conversation_id: Id) -> Conversation:
        path = f"/v1/conversations/{conversation_id}"
        data = await self._json("GET", path, label="/v1/conversations/{id}")
        item = Conversation.from_raw(data) if isinstance(data, Mapping) else None
        if item is None:
            raise MalformedResponseError("expected a conversation object", method="GET", path=path)
        return item

    async def messages(self, inbox_id: Id, phone: str, *, before: int | None = None) -> list[Message]:
        """One page of a thread, older than `before` (Unix seconds; newest if None)."""
        params: dict[str, Any] = {"phoneNumber": normalize_phone(phone), "inboxID": inbox_id}
        if before is not None:
            params["timestamp"] = int(before)
        data = await self._json("GET", "/v1/messages", params=params)
        return self._items(data, Message.from_raw, "message", "GET", "/v1/messages")

    # -- team-wide reads: the count and the feed (see api/counts.py and api/feed.py) -----------

    async def count_conversations(
        self,
        *,
        inbox_id: Id | None = None,
        closed: bool | None = None,
        unread: bool | None = None,
        before: datetime | None = None,
    ) -> int:
        """`POST /v1/conversations/count`, read from a bare number, a numeric string or an object.

        The filters are sent as asked, but the server may ignore them and answer the team-wide
        total: feed the answers to a `CountTrust` before letting a badge use one."""
        body: dict[str, Any] = {}
        if before is not None:
            body["date"] = format_datetime(before)
        filters: dict[str, Any] = {}
        if inbox_id is not None:
            filters["inboxes"] = [inbox_id]
        if closed is not None:
            filters["closed"] = closed
        if unread is not None:
            filters["unread"] = unread
        if filters:
            body["filters"] = filters
        path = "/v1/conversations/count"
        count = parse_count(await self._json("POST", path, body=body))
        if count is None:
            raise MalformedResponseError("expected a conversation count", method="POST", path=path)
        return count

    async def all_messages(
        self,
        *,
        created_at: datetime | None = None,
        order: str = "created_at",
        ascending: bool | None = None,
        limit: int | None = None,
    ) -> list[Message]:
        """One page of `POST /v1/messages/all`, the team-wide feed, as the server answers it.

        Which side of `created_at` comes back is not agreed on (before it, or on and after it):
        `TeamFeed` in api/feed.py tells from the answer. Without `created_at`, the newest."""
        body: dict[str, Any] = {"order": order}
        if created_at is not None:
            body["created_at"] = format_datetime(created_at)
        if ascending is not None:
            body["ascending"] = ascending
        if limit is not None:
            body["limit"] = limit
        data = await self._json("POST", "/v1/messages/all", body=body)
        return self._items(data, Message.from_raw, "message", "POST", "/v1/messages/all")

    # -- paging --------------------------------------------------------------------------------

    def conversation_pager(
        self, inbox_id: Id, member_id: Id, *, closed: bool | None = None, unread: bool | None = None
    ) -> Pager[Conversation]:
        async def fetch(bound: int | None) -> list[Conversation]:
            before = None if bound is None else datetime.fromtimestamp(bound, timezone.utc)
            return await self.conversations(inbox_id, member_id, closed=closed, unread=unread, before=before)

        return Pager(fetch, item_id=lambda c: c.id, item_time=lambda c: c.updated)

    def message_pager(self, inbox_id: Id, phone: str) -> Pager[Message]:
        async def fetch(bound: int | None) -> list[Message]:
            return await self.messages(inbox_id, phone, before=bound)

        return Pager(fetch, item_id=lambda m: m.id, item_time=lambda m: m.date)

    def iter_conversations(
        self, inbox_id: Id, member_id: Id, *, closed: bool | None = None, unread: bool | None = None
    ) -> AsyncIterator[Conversation]:
        """Every conversation of an inbox, newest `updated` first, each once."""
        return aiter(self.conversation_pager(inbox_id, member_id, closed=closed, unread=unread))

    def iter_messages(self, inbox_id: Id, phone: str) -> AsyncIterator[Message]:
        """A whole thread, newest first, each message once."""
        return aiter(self.message_pager(inbox_id, phone))

    # -- triage --------------------------------------------------------------------------------
    # open/close/read/unread set a state, so repeating one is harmless and they retry like reads.
    # reassign names the current owner and transfer moves the conversation: after a success that
    # lost its answer, a repeat would fail or act twice, so they retry only when the request
    # surely never took effect (no connection made, or 429).

    # A conversation is named by `chat_id` (its id) for open/close when the id is known, by
    # `targets` when it is a group, else by `target` (see semantics.triage_keys).

    async def open(self, inbox_id: Id, user_id: Id, target: str, *, chat_id: Id | None = None,
                   targets: Sequence[str] | None = None) -> None:
        await self._triage("open", {"inbox_id": inbox_id, "user_id": user_id,
                                    **triage_keys(chat_id, target, targets, "open")})

    async def close(self, inbox_id: Id, user_id: Id, target: str, *, chat_id: Id | None = None,
                    targets: Sequence[str] | None = None) -> None:
        await self._triage("close", {"inbox_id": inbox_id, "user_id": user_id,
                                     **triage_keys(chat_id, target, targets, "close")})

    async def mark_read(self, inbox_id: Id, user_id: Id, target: str, *, chat_id: Id | None = None,
                        targets: Sequence[str] | None = None) -> None:
        await self._triage("read", {"inbox_id": inbox_id, "user_id": user_id,
                                    **triage_keys(chat_id, target, targets, "read")})

    async def mark_unread(self, inbox_id: Id, user_id: Id, target: str, *, chat_id: Id | None = None,
                          targets: Sequence[str] | None = None) -> None:
        await self._triage("unread", {"inbox_id": inbox_id, "user_id": user_id,
                                      **triage_keys(chat_id, target, targets, "unread")})

    async def reassign(self, inbox_id: Id, user_id: Id, reassign_id: Id, target: str, *,
                       chat_id: Id | None = None, targets: Sequence[str] | None = None) -> None:
        body = {"inbox_id": inbox_id, "user_id": user_id, "reassign_id": reassign_id,
                **triage_keys(chat_id, target, targets, "reassign")}
        await self._triage("reassign", body, idempotent=False)

    async def transfer(self, conversation_id: Id, transfer_inbox_id: Id) -> None:
        body = {"conversation_id": conversation_id, "transfer_inbox_id": transfer_inbox_id}
        await self._triage("transfer", body, idempotent=False)

    async def _triage(self, action: str, body: dict[str, Any], *, idempotent: bool = True) -> None:
        # Each answers the string "ok"; any 2xx is success, whatever the body.
        await self._send("POST", f"/v1/conversations/{action}", body=body, idempotent=idempotent)

    # -- sending (see api/send.py: exactly once) -------------------------------------------------

    async def send_message(
        self,
        inbox_id: Id,
        creator_id: Id,
        text: str,
        *,
        phone_number: str | None = None,
        targets: Sequence[str] | None = None,
        local_id: str | None = None,
        private: bool = False,
        media_url: str | None = None,
        template_id: Id | None = None,
        unclear: bool = False,
    ) -> SendResult:
        """Send a reply (or, with `private`, an internal note) exactly once: see api/send.py.

        Pass the `local_id` the message was given when it was created (the outbox does); a new
        one is made only for a message that has none yet. Raises `SendRefused` (final, the
        server's reason) or `SendNotConfirmed` (every attempt spent)."""
        request = SendRequest(
            inbox_id=inbox_id, creator_id=creator_id, text=text, local_id=local_id or new_local_id(),
            phone_number=phone_number, targets=tuple(targets or ()), private=private,
            media_url=media_url, template_id=template_id,
        )
        return await send_exactly_once(self, request, unclear=unclear)

    async def send(self, request: SendRequest, *, unclear: bool = False) -> SendResult:
        """`send_message` for a prepared `SendRequest` (what the outbox keeps)."""
        return await send_exactly_once(self, request, unclear=unclear)

    async def attempt_once(self, method: str, path: str, *, body: Any = None,
                           params: Mapping[str, Any] | None = None) -> tuple[Any, bool, float | None]:
        """One paced, counted attempt with no retry: (the (response, JSON) pair or the ApiError;
        whether the server may have acted; Retry-After). For callers with their own retry rule."""
        if self.limiter is not None:
            await self.limiter.acquire()
        self.requests[f"{method} {path}"] += 1
        return await self._attempt(method, path, params, body, True)

    async def sleep(self, seconds: float) -> None:
        """The client's own sleep (injected in tests), for callers that back off themselves."""
        await self._sleep(seconds)

    # -- templates --------------------------------------------------------------------------------

    async def templates(self, *, before: datetime | None = None) -> list[Template]:
        """One page of the team's templates (`POST /v1/templates`, 30 a page), newest first,
        updated before `before` (the newest if None)."""
        body: dict[str, Any] = {}
        if before is not None:
            body["date"] = format_datetime(before)
        data = await self._json("POST", "/v1/templates", body=body)
        return self._items(data, Template.from_raw, "template", "POST", "/v1/templates")

    def template_pager(self) -> Pager[Template]:
        async def fetch(bound: int | None) -> list[Template]:
            before = None if bound is None else datetime.fromtimestamp(bound, timezone.utc)
            return await self.templates(before=before)

        return Pager(fetch, item_id=lambda t: t.id, item_time=lambda t: t.updated)

    def iter_templates(self) -> AsyncIterator[Template]:
        """Every template of the team, each once."""
        return aiter(self.template_pager())

    # -- plumbing ------------------------------------------------------------------------------

    def _items(self, data: Any, parse: Callable[[Mapping[str, Any]], T | None], kind: str, method: str, path: str) -> list[T]:
        if isinstance(data, Mapping):
            data = next((data[k] for k in _LIST_WRAPPERS if isinstance(data.get(k), list)), data)
        if not isinstance(data, list):
            raise MalformedResponseError(f"expected a list of {kind} objects", method=method, path=path)
        items, skipped = parse_items(data, parse)
        self._count_skipped(kind, skipped)
        return items

    def _count_skipped(self, kind: str, skipped: int) -> None:
        if skipped:
            self.skipped[kind] += skipped
            log.warning("skipped %d unusable %s item(s) from the server", skipped, kind)

    async def _json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                    body: Any = None, label: str | None = None) -> Any:
        _, data = await self._send(method, path, params=params, body=body, decode=True, label=label)
        return data

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool = True,
        decode: bool = False,
        label: str | None = None,
    ) -> tuple[httpx.Response, Any]:
        """Send with auth and retries: the 2xx response, and its decoded JSON if `decode`."""
        if path in EXACTLY_ONCE_PATHS:
            # A repeat of these creates a second message: they go through api/send.py only.
            raise ValueError(f"{path} is sent exactly once through send_message(), never retried blindly")
        label = f"{method} {label or path}"
        retries = 0
        resigned = False
        while True:
            if self.limiter is not None:  # every attempt spends a token, retries included
                await self.limiter.acquire()
            self.requests[label] += 1
            outcome, may_have_acted, retry_after = await self._attempt(method, path, params, body, decode)
            if not isinstance(outcome, ApiError):
                return outcome
            error = outcome
            if isinstance(error, AuthError) and not resigned:
                # The token may have been rejected for its age or a clock skew: sign afresh, once.
                resigned = True
                self.signer.invalidate()
                continue
            retries += 1
            if (
                not error.retryable
                or retries >= self.retry.attempts
                or (not idempotent and may_have_acted)
            ):
                raise error
            delay = self.retry.delay(retries, retry_after)
            log.info("%s failed (%s); retry %d in %.1f s", label, error, retries, delay)
            if self.on_retry is not None:
                self.on_retry(RetryEvent(method, path, retries, delay, error))
            await self._sleep(delay)

    async def _attempt(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any, decode: bool
    ) -> tuple[tuple[httpx.Response, Any] | ApiError, bool, float | None]:
        """One try: (the response, or the error; whether the server may have acted; Retry-After)."""
        where = {"method": method, "path": path}
        headers = {"Authorization": f"Bearer {self.signer.token()}"}
        http = self._http  # first: a warm-up thread's imports end before the main thread's start
        await _import_network_backend()
        started = time.perf_counter()
        deadline = asyncio.timeout(self.deadline)
        try:
            async with deadline:
                request = http.build_request(method, path, params=params, json=body, headers=headers)
                response = await http.send(request, stream=True)
                try:
                    await self._read_body(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            if deadline.expired():
                message = f"{self._host()} did not answer in time (no complete answer within {self.deadline:g} s)"
            else:  # a socket's own timeout that httpx let through
                message = f"{self._host()} did not answer in time"
            return ApiTimeoutError(message, **where), True, None
        except ResponseTooLargeError as error:
            error.method, error.path = method, path
            return error, True, None
        except httpx.DecodingError as exc:
            return MalformedResponseError(f"the server sent a body that cannot be decoded ({_reason(exc)})",
                                          **where), True, None
        except httpx.ConnectTimeout:
            return ApiTimeoutError(f"timed out connecting to {self._host()}", **where), False, None
        except httpx.PoolTimeout:
            return ApiTimeoutError("timed out waiting for a free connection", **where), False, None
        except httpx.TimeoutException:
            return ApiTimeoutError(f"{self._host()} did not answer in time", **where), True, None
        except httpx.ConnectError as exc:
            return NetworkError(f"cannot reach {self._host()} ({_reason(exc)})", **where), False, None
        except (httpx.RequestError, OSError) as exc:
            # Whatever else breaks on the way (a protocol error, a socket error httpx let
            # through): the connection failed, and it is retried as such.
            return NetworkError(f"connection to {self._host()} failed ({_reason(exc)})", **where), True, None
        elapsed = (time.perf_counter() - started) * 1000
        request_id = response.headers.get("x-request-id")
        log.info("%s %s -> %d in %.0f ms (request id %s)", method, path, response.status_code, elapsed, request_id)
        where["request_id"] = request_id  # type: ignore[assignment]
        status = response.status_code
        if 200 <= status < 300:
            data = None
            if decode:
                try:
                    data = json.loads(response.content)
                except (ValueError, UnicodeDecodeError):
                    return MalformedResponseError("the server sent malformed JSON", status=status, **where), True, None
                except RecursionError:
                    return MalformedResponseError("the server sent JSON nested too deeply", status=status,
                                                  **where), True, None
            return (response, data), True, None
        detail = _error_detail(response)
        if status == 401:
            return AuthError(
                "credentials rejected (401): check the secret id and secret key "
                "(HEYMARKET_SECRET_ID / HEYMARKET_SECRET_KEY)", status=status, **where), True, None
        if status == 403:
            return ForbiddenError(f"access denied (403){detail}", status=status, **where), True, None
        if status == 404:
            return NotFoundError(f"not found (404){detail}", status=status, **where), True, None
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._clock())
            # A 429 means the request was turned away before it was processed.
            return RateLimitedError("rate limited by the server (429)", retry_after=retry_after,
                                    status=status, **where), False, retry_after
        if status == 400 or status == 422:
            return BadRequestError(f"the server refused the request ({status}){detail}", status=status, **where), True, None
        if status >= 500:
            return ServerError(f"server error ({status}){detail}", status=status, **where), True, None
        return ApiError(f"unexpected HTTP {status}{detail}", status=status, **where), True, None

    async def _read_body(self, response: httpx.Response) -> bytes:
        """Read (and decode) the body, stopping past `max_response_bytes`."""
        limit = self.max_response_bytes
        too_large = ResponseTooLargeError(f"response too large: over {_size(limit)}", status=response.status_code,
                                          request_id=response.headers.get("x-request-id"))
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        content = b"".join(chunks)
        # What `aread()` keeps: `.content`, `.text` and `.json()` work as on a read response.
        response._content = content
        return content

    def _host(self) -> str:
        # Never the user:password a base URL might have held (validate_base_url drops it too).
        parts = urlsplit(self.base_url)
        return redact_url(parts.netloc)


def normalize_phone(phone: str) -> str:
    """E.164 without the `+`, as /v1/messages wants it: "+1 (415) 555-0100" -> "14155550100"."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits or phone.strip()


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"


def _reason(exc: BaseException) -> str:
    text = one_line(str(exc), 120)
    return text or type(exc).__name__


def _error_detail(response: httpx.Response) -> str:
    """A short, safe ": detail" from an error body of any shape, or "" (an HTML page says nothing useful)."""
    content_type = response.headers.get("content-type", "")
    text = response.text if response.content else ""
    if "html" in content_type or text.lstrip()[:1] == "<":
        return ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return f": {one_line(text, 160)}" if text.strip() else ""
    if isinstance(data, Mapping):
        for key in ("message", "error", "errors", "detail"):
            value = data.get(key)
            if value:
                return f": {one_line(value if isinstance(value, str) else json.dumps(value), 160)}"
    if isinstance(data, str) and data.strip():
        return f": {one_line(data, 160)}"
    return ""
