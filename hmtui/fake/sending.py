"""`POST /v1/message/send` for the fake server: validation, `local_id` dedupe, the thread.

Decisions beyond the public reference (each a guess the client must survive either way):

* The body is strictly typed like the rest of the fake: `inbox_id` and `creator_id` JSON
  integers, `creator_id` a member of that inbox; exactly one of `phone_number`, `targets`,
  `chat_id` (a `list_id` is refused: broadcasts are not faked); content `text` (at most
  `MAX_TEXT` characters) or `template_id` (its tokens filled from the conversation) or a
  `media_url` (http or https); `private` a bool, and a note needs an existing conversation;
  `local_id` a string. A 400 names the field.
* `local_id` dedupe (`FakeOptions.send_dedupe`, on by default): a second send with the same
  `local_id` in the same inbox creates nothing and answers the first answer again. Turned off,
  the fake behaves like an endpoint that ignores `local_id`, so tests can prove the client's
  read-back alone keeps a send exactly once.
* The answer's shape follows the profile: tidy, the reference's `{id, date, gallery_url}` (every
  key); live, the captured `{id, convo_id, queued: true, date, compliance_results}`.
* A number in `opted_out` is a compliance hold: live answers 200 with a non-empty
  `compliance_results` (the message is kept, status `held`); tidy refuses it with a 400
  `{error_code: "unsubscribed_number", message}`.
* The message joins the thread (history, the feed and refresh return it) as the team's: `user`
  the creator, `author` their name, the `local_id`; a note has `type` "comment" and `private`
  true; a reply's status is "sent" (live: "queued").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from hmtui.fake.templates import fill_template

if TYPE_CHECKING:
    from hmtui.fake.server import FakeHeymarket

MAX_TEXT = 1600
HOLD_REASON = {"error_code": "unsubscribed_number", "message": "the contact has opted out of messages"}


class SendRejected(Exception):
    """A refusal: the status, the field it names (if any), the message, and extra body keys."""

    def __init__(self, status: int, field_name: str | None, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.field_name, self.message, self.extra = status, field_name, message, extra


def _bad(field_name: str, message: str) -> SendRejected:
    return SendRejected(400, field_name, message)


@dataclass
class Sender:
    """The send endpoint's state: answers by local_id, numbers on hold, and who to tell."""

    fake: FakeHeymarket
    opted_out: set[str] = field(default_factory=set)
    # (inbox id, local_id) -> the first answer
    answers: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)  # every message created, in order
    # Called (under no lock) with each message created: the customer's replies listen here.
    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _bad("body", "body must be a JSON object")
        fake = self.fake
        data = fake.data
        inbox_id = body.get("inbox_id")
        if type(inbox_id) is not int:
            raise _bad("inbox_id", "'inbox_id' is required and must be an integer")
        inbox = data.inbox_by_id(inbox_id)
        if inbox is None:
            raise _bad("inbox_id", "no such inbox")
        creator = body.get("creator_id")
        if type(creator) is not int:
            raise _bad("creator_id", "'creator_id' is required and must be an integer (a member id)")
        if creator not in inbox["members"]:
            raise _bad("creator_id", "'creator_id' is not a member of this inbox")
        local_id = body.get("local_id")
        if local_id is not None and (not isinstance(local_id, str) or not local_id.strip()):
            raise _bad("local_id", "'local_id' must be a non-empty string")
        private = body.get("private", False)
        if not isinstance(private, bool):
            raise _bad("private", "'private' must be a boolean")
        named = [k for k in ("phone_number", "targets", "chat_id", "list_id") if body.get(k) is not None]
        if not named:
            raise _bad("phone_number", "a target is required: one of 'phone_number', 'targets', 'chat_id'")
        if len(named) > 1:
            raise _bad(named[1], f"give one target only, not both '{named[0]}' and '{named[1]}'")
        conv, target = self._target(body, named[0], inbox_id)
        text = body.get("text")
        template_id = body.get("template_id")
        media_url = body.get("media_url")
        if text is not None and not isinstance(text, str):
            raise _bad("text", "'text' must be a string")
        if media_url is not None and (not isinstance(media_url, str)
                                      or urlsplit(media_url).scheme not in ("http", "https")
                                      or not urlsplit(media_url).netloc):
            raise _bad("media_url", "'media_url' must be a public http(s) URL")
        if template_id is not None:
            if type(template_id) is not int:
                raise _bad("template_id", "'template_id' must be an integer")
            template = fake.templates.by_id(template_id)
            if template is None:
                raise _bad("template_id", "no such template")
            if not text:
                text = fill_template(template["text"], conv)
        if not (text and text.strip()) and not media_url:
            raise _bad("text", "'text' is required (or 'template_id' or 'media_url')")
        if text and len(text) > MAX_TEXT:
            raise _bad("text", f"'text' is longer than {MAX_TEXT} characters")
        if private and conv is None:
            raise SendRejected(404, None, "a note needs an existing conversation")
        with self._lock:
            key = (inbox_id, local_id) if local_id else None
            if key is not None and fake.options.send_dedupe and key in self.answers:
                return self.answers[key]
            held = target in self.opted_out and not private
            if held and not fake.live:
                raise SendRejected(400, "phone_number", HOLD_REASON["message"],
                                   error_code=HOLD_REASON["error_code"])
            msg = self._create(inbox, target, text or "", creator, local_id, private, media_url, held)
            answer = self._answer(msg, held)
            if key is not None:
                self.answers[key] = answer
            self.sent.append(msg)
        for listener in list(self.listeners):
            listener(msg)
        return answer

    def _target(self, body: dict[str, Any], key: str, inbox_id: int) -> tuple[dict[str, Any] | None, str]:
        data = self.fake.data
        value = body[key]
        if key == "phone_number":
            if not isinstance(value, str) or not value.strip():
                raise _bad("phone_number", "'phone_number' must be a non-empty string")
            digits = "".join(ch for ch in value if ch.isdigit())
            if len(digits) < 7 or len(digits) > 15:
                raise _bad("phone_number", "'phone_number' is not a phone number")
            return data.find_conversation(inbox_id, digits), digits
        if key == "targets":
            if not isinstance(value, list) or not value or any(not isinstance(t, str) or not t for t in value):
                raise _bad("targets", "'targets' must be a non-empty array of numbers")
            conv = data.find_group(inbox_id, value)
            if conv is None:
                raise SendRejected(404, None, "no group conversation with these numbers")
            return conv, conv["target"]
        if key == "chat_id":
            if type(value) is not int:
                raise _bad("chat_id", "'chat_id' must be an integer")
            conv = data.conversation_by_id(value)
            if conv is None or conv["inbox"] != inbox_id:
                raise SendRejected(404, None, "conversation not found")
            return conv, conv["target"]
        raise _bad("list_id", "sending to a list is not supported by the fake server")

    def _create(self, inbox: dict[str, Any], target: str, text: str, creator: int, local_id: str | None,
                private: bool, media_url: str | None, held: bool) -> dict[str, Any]:
        fake = self.fake
        data = fake.data
        with data.lock:
            conv = data.find_conversation(inbox["id"], target)
            replied = conv["replied"] if conv is not None else False
            msg = data.add_message(inbox["id"], target, text, inbound=False, now=fake.clock())
            conv = data.find_conversation(inbox["id"], target)
            # add_message makes an outbound text by the assignee: make it ours.
            msg["user"] = creator
            msg["author"] = data.member_names.get(creator, "")
            msg["local_id"] = local_id
            if media_url:
                msg["media"], msg["type"] = media_url, "media"
            if private:
                msg["type"], msg["status"] = "comment", None
                msg["private"] = True
                if conv is not None:
                    conv["replied"] = replied  # a note answers nobody
            else:
                msg["status"] = "held" if held else ("queued" if fake.live else "sent")
                if held:
                    msg["raw_error"] = HOLD_REASON["message"]
            data.live.sent.add(msg["id"])  # the live profile never marks what a client sent
            return msg

    def _answer(self, msg: dict[str, Any], held: bool) -> dict[str, Any]:
        if not self.fake.live:
            return {"id": msg["id"], "date": msg["date"], "gallery_url": None}
        # A note is never delivered to anyone: nothing to queue.
        queued = not held and msg.get("type") != "comment"
        answer: dict[str, Any] = {"id": msg["id"], "convo_id": msg["conversation"]["id"], "queued": queued,
                                  "date": msg["date"]}
        if held:
            answer["compliance_results"] = [dict(HOLD_REASON, passed=False)]
        return answer
