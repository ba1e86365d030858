"""Sending a reply or a private note through `POST /v1/message/send`, exactly once.

A send creates a message the customer reads (and the team pays for), so a repeat is a real harm,
and the public docs promise `local_id` idempotency plainly only for email. The rule here:

- every message gets its `local_id` (a UUID) when it is created, before the first attempt, and
  every retry reuses it (`SendRequest` holds it; the outbox stores it);
- a retry happens only when the server surely did not act (no connection made, a 429, a 401
  answered before any work) or when the read-back below makes a repeat harmless;
- after an *unclear* failure (an answer lost to a timeout, a dropped connection, a 5xx, a 200
  without an id) the thread's newest page is read for a message carrying that `local_id` before
  anything is sent again: found, it is the confirmation;
- 400/403/404/422 are final (`SendRefused`, with the server's reason), and so is a compliance
  hold in a 200 (`SendResult.held`): retrying cannot change them;
- a 401 re-signs the token and tries once more.

The client's generic retry (`HeymarketClient._send`) refuses this path, so no caller can repeat
a send blindly by going around this module.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hmtui.api.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
)
from hmtui.api.models import Id, Message, parse_datetime, parse_id
from hmtui.api.retry import RetryEvent
from hmtui.safe_text import one_line

if TYPE_CHECKING:
    from hmtui.api.client import HeymarketClient

log = logging.getLogger("hmtui.api.send")

SEND_PATH = "/v1/message/send"
# Writes the generic retry must never repeat: they go through this module only.
EXACTLY_ONCE_PATHS = frozenset({SEND_PATH})


def new_local_id() -> str:
    """The idempotency key of one message, made once when the message is created."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class SendRequest:
    """One message to send. `local_id` is part of it: build it once, retry it as it is."""

    inbox_id: Id
    creator_id: Id
    text: str
    local_id: str
    phone_number: str | None = None
    targets: tuple[str, ...] = ()  # a group MMS, instead of one phone number
    private: bool = False  # an internal note: the customer never sees it
    media_url: str | None = None
    # Set only while the text is a template's, unedited (the composer clears it on an edit).
    template_id: Id | None = None

    @property
    def target(self) -> str:
        """The thread the message belongs to (what /v1/messages reads back by)."""
        from hmtui.api.client import normalize_phone

        return normalize_phone(self.phone_number or (self.targets[0] if self.targets else ""))

    def body(self) -> dict[str, Any]:
        from hmtui.api.client import normalize_phone

        body: dict[str, Any] = {"inbox_id": self.inbox_id, "creator_id": self.creator_id,
                                "local_id": self.local_id}
        if len(self.targets) > 1:
            body["targets"] = [normalize_phone(t) for t in self.targets]
        else:
            body["phone_number"] = self.target
        if self.template_id is not None:
            # An unedited template: the server fills its merge tokens. `text` (the template's,
            # tokens and all) is what the thread shows meanwhile; it is not sent.
            body["template_id"] = self.template_id
        else:
            body["text"] = self.text
        if self.media_url:
            body["media_url"] = self.media_url
        if self.private:
            body["private"] = True
        return body


@dataclass(frozen=True)
class SendResult:
    """What the server said of a send, read from either known answer shape: the reference's
    `{id, date, gallery_url}` or the live `{id, convo_id, queued, date, compliance_results}`."""

    id: Id
    local_id: str
    date: datetime | None = None
    conversation_id: Id | None = None
    queued: bool = False  # accepted, not yet delivered
    held: str | None = None  # a compliance hold's reason: the message was not sent
    gallery_url: str | None = None
    recovered: bool = False  # confirmed by reading the thread back, not by the answer
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    message: Message | None = field(default=None, repr=False, compare=False)

    @property
    def sent(self) -> bool:
        return self.held is None


class SendError(ApiError):
    """A send that did not go through; `final` says retrying cannot help."""

    final: bool = False

    def __init__(self, message: str, *, local_id: str, cause: ApiError | None = None, **kw: Any) -> None:
        if cause is not None:
            kw = {"status": cause.status, "request_id": cause.request_id, "method": cause.method,
                  "path": cause.path, **kw}
        super().__init__(message, **kw)
        self.local_id = local_id
        self.cause = cause


class SendRefused(SendError):
    """400/403/404/422 (or a 401 after re-signing): the server will not take this message."""

    final = True

    @property
    def reason(self) -> str:
        return self.message


class SendNotConfirmed(SendError):
    """Every attempt failed without a refusal (unreachable, 429s, 5xx).

    `maybe_sent`: the last failure was unclear and the thread could not be read back, so the
    server may hold the message; sending it again must go through the read-back (the outbox
    does)."""

    def __init__(self, message: str, *, local_id: str, maybe_sent: bool, cause: ApiError | None = None) -> None:
        super().__init__(message, local_id=local_id, cause=cause)
        self.maybe_sent = maybe_sent


def _compliance_reason(value: object) -> str | None:
    """A one-line reason from a non-empty `compliance_results` (its shape is not documented)."""
    if value is None or value == [] or value == {} or value == "":
        return None
    items = value if isinstance(value, list) else [value]
    parts: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            if item.get("passed") is True or item.get("ok") is True:
                continue
            words = [str(item[k]) for k in ("error_code", "code", "type", "rule", "message", "reason", "detail")
                     if isinstance(item.get(k), (str, int)) and not isinstance(item.get(k), bool) and str(item[k]).strip()]
            parts.append(" ".join(dict.fromkeys(words)) or "held for compliance")
        elif isinstance(item, (str, int)) and not isinstance(item, bool) and str(item).strip():
            parts.append(str(item))
        elif item:
            parts.append("held for compliance")
    return one_line("; ".join(parts), 200) if parts else None


def parse_send_answer(data: Any, local_id: str) -> SendResult | None:
    """A `SendResult` from a 2xx body, or None when it holds no usable `id` (not a confirmed
    send: the server may or may not have the message)."""
    if isinstance(data, Mapping):
        inner = data.get("message") if isinstance(data.get("message"), Mapping) else None
        source: Mapping[str, Any] = inner if inner is not None and "id" not in data else data
    else:
        return None
    msg_id = parse_id(source.get("id"))
    if msg_id is None:
        return None
    queued = source.get("queued")
    gallery = source.get("gallery_url")
    return SendResult(
        id=msg_id,
        local_id=local_id,
        date=parse_datetime(source.get("date")),
        conversation_id=parse_id(source.get("convo_id") if "convo_id" in source else source.get("conversation_id")),
        queued=queued is True or (isinstance(queued, str) and queued.strip().lower() in ("true", "1")),
        held=_compliance_reason(source.get("compliance_results")),
        gallery_url=gallery if isinstance(gallery, str) and gallery else None,
        raw=dict(data),
    )


def result_from_message(message: Message, local_id: str) -> SendResult:
    """The confirmation a read-back found: the message in the thread carrying our `local_id`."""
    return SendResult(id=message.id, local_id=local_id, date=message.date,
                      conversation_id=parse_id((message.raw.get("conversation") or {}).get("id")
                                               if isinstance(message.raw.get("conversation"), Mapping) else None),
                      queued=(message.status or "").lower() in ("queued", "sending", "accepted"),
                      recovered=True, raw=dict(message.raw), message=message)


def find_local_id(messages: Sequence[Message], local_id: str) -> Message | None:
    for message in messages:
        value = message.raw.get("local_id")
        if isinstance(value, str) and value.strip() == local_id:
            return message
    return None


def _refusal(error: ApiError, local_id: str) -> SendRefused:
    # The server's own words when it gave any; the client's message already carries them.
    return SendRefused(f"refused: {error.message}", local_id=local_id, cause=error)


async def send_exactly_once(
    client: HeymarketClient,
    request: SendRequest,
    *,
    unclear: bool = False,
    on_attempt: Callable[[int], None] | None = None,
) -> SendResult:
    """Send `request` under the exactly-once rule (module docstring); the result, or raise
    `SendRefused` (final) or `SendNotConfirmed` (every attempt spent).

    `unclear`: an earlier try of this same message (another session's, from the outbox) ended
    unclearly, so the thread is read back before the first attempt too."""
    policy = client.retry
    local_id = request.local_id
    body = request.body()
    retries = 0
    resigned = False
    last: ApiError | None = None
    attempt_number = 0
    while True:
        if unclear:
            try:
                found = find_local_id(await client.messages(request.inbox_id, request.target), local_id)
            except (BadRequestError, ForbiddenError, NotFoundError, AuthError) as exc:
                raise SendNotConfirmed(
                    f"not confirmed: the thread cannot be read back to check ({exc.message})",
                    local_id=local_id, maybe_sent=True, cause=exc) from None
            except ApiError as exc:
                found, last = None, exc
                log.info("read-back of %s failed (%s)", local_id, exc)
            else:
                if found is not None:
                    log.info("send %s: found in the thread as message %s", local_id, found.id)
                    return result_from_message(found, local_id)
                unclear = False  # read back and not there: the server does not have it
        if not unclear:
            attempt_number += 1
            if on_attempt is not None:
                on_attempt(attempt_number)
            outcome, may_have_acted, retry_after = await client.attempt_once("POST", SEND_PATH, body=body)
            if not isinstance(outcome, ApiError):
                _, data = outcome
                result = parse_send_answer(data, local_id)
                if result is not None:
                    return result
                error: ApiError = MalformedResponseError("the server answered without a message id",
                                                         method="POST", path=SEND_PATH)
                unclear = True
            else:
                error = outcome
                if isinstance(error, AuthError):
                    if not resigned:
                        resigned = True  # a 401 is answered before any work: nothing was sent
                        client.signer.invalidate()
                        continue
                    raise SendRefused(f"refused: {error.message}", local_id=local_id, cause=error) from None
                if isinstance(error, (BadRequestError, ForbiddenError, NotFoundError)):
                    raise _refusal(error, local_id) from None
                if not error.retryable:  # too large, an unexpected status: the server may have it
                    raise SendNotConfirmed(f"not confirmed: {error.message}", local_id=local_id,
                                           maybe_sent=may_have_acted, cause=error) from None
                # 429 and connect failures: surely not acted on. The rest: unclear.
                unclear = may_have_acted and not isinstance(error, RateLimitedError)
            last = error
        else:
            retry_after = None
        retries += 1
        if retries >= policy.attempts:
            assert last is not None
            maybe = unclear
            text = ("not confirmed: the server may have the message, and the thread could not be read back"
                    if maybe else "not sent")
            raise SendNotConfirmed(f"{text} ({last.message})", local_id=local_id, maybe_sent=maybe,
                                   cause=last)
        delay = policy.delay(retries, retry_after if isinstance(last, RateLimitedError) else None)
        log.info("send %s failed (%s); retry %d in %.1f s%s", local_id, last, retries, delay,
                 " after reading the thread back" if unclear else "")
        if client.on_retry is not None and last is not None:
            client.on_retry(RetryEvent("POST", SEND_PATH, retries, delay, last))
        await client.sleep(delay)

