"""The client's reading of live payload shapes, on payloads written from the API notes
("What real payloads look like"). One test per rule; each fails without its rule."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hmtui.api.models import Conversation, Message, parse_datetime, parse_id
from hmtui.api.paging import Pager
from hmtui.api.semantics import (
    MessageKind,
    classify_message,
    conversation_closed,
    conversation_unread,
    failure_reason,
    triage_keys,
)

ZERO = "0001-01-01T00:00:00Z"

# A conversation as the Go backend sends it: empty fields omitted, `read` a flag, no `unread`.
LIVE_CONVERSATION = {
    "id": 2710042, "inbox": 501, "target": "14155550123", "status": "open", "assigned": 0,
    "channel": "sms", "created": "2026-11-01T10:00:00Z", "creator": 0, "updated": "2026-11-20T14:00:00Z",
    "read": 1, "last_inbound": 1795183200, "snooze_till": ZERO, "type": "individual",
}
# A message the team sent from a broadcast: `user` 0, a `broadcast_id`, no author.
BROADCAST = {
    "id": 9001, "date": "2026-11-20T12:00:00Z", "updated": ZERO, "text": "Spring sale! Reply STOP to opt out",
    "user": 0, "phone": "16285550111", "target": "14155550123", "type": "text", "broadcast_id": 3301,
    "channel": "sms",
}
INBOUND = {
    "id": 9002, "date": "2026-11-20T12:05:00Z", "updated": ZERO, "text": "is this still on?",
    "author": "Ana", "user": 0, "phone": "16285550111", "target": "14155550123", "type": "text",
    "broadcast_id": 0, "channel": "sms",
}


# -- unread -------------------------------------------------------------------------------------


def test_read_flag_0_is_unread_and_1_is_read_when_unread_is_absent() -> None:
    # 1795183200 (last_inbound) > 1 would make every conversation "unread" if `read` were a time.
    assert not conversation_unread(LIVE_CONVERSATION)
    assert conversation_unread({**LIVE_CONVERSATION, "read": 0})
    assert Conversation.from_raw({**LIVE_CONVERSATION, "read": 0}).unread  # type: ignore[union-attr]
    assert not Conversation.from_raw(LIVE_CONVERSATION).unread  # type: ignore[union-attr]


def test_the_unread_bool_wins_over_read() -> None:
    assert conversation_unread({**LIVE_CONVERSATION, "read": 1, "unread": True})
    assert not conversation_unread({**LIVE_CONVERSATION, "read": 0, "unread": False})


def test_only_a_time_like_read_is_compared_with_last_inbound() -> None:
    assert conversation_unread({"read": 1795180000, "last_inbound": 1795183200})
    assert not conversation_unread({"read": 1795189999, "last_inbound": 1795183200})
    assert conversation_unread({"read": "2026-11-20T10:00:00Z", "last_inbound": 1795183200})
    # No inbound time to compare with: nothing is waiting.
    assert not conversation_unread({"read": 1795180000})


# -- direction ----------------------------------------------------------------------------------


def test_a_broadcast_with_user_0_is_the_teams() -> None:
    assert classify_message(BROADCAST) is MessageKind.OUTBOUND
    message = Message.from_raw(BROADCAST)
    assert message is not None and message.kind is MessageKind.OUTBOUND
    assert message.automated and message.broadcast_id == 3301


def test_a_members_user_id_is_the_teams_and_user_0_alone_is_the_customers() -> None:
    assert classify_message({**INBOUND, "user": 104}) is MessageKind.OUTBOUND
    # `broadcast_id` 0 is "no broadcast", not a broadcast.
    assert classify_message(INBOUND) is MessageKind.INBOUND


def test_type_text_is_a_content_kind_not_a_direction() -> None:
    assert classify_message({"id": 1, "type": "text", "user": 0, "status": "received"}) is MessageKind.INBOUND
    assert classify_message({"id": 1, "type": "text", "user": 101}) is MessageKind.OUTBOUND


def test_when_in_doubt_a_sent_message_is_not_shown_as_the_customers() -> None:
    # No member and no broadcast id, but a delivery status or a local_id only a send has.
    automated = {"id": 5, "date": "2026-11-20T12:00:00Z", "text": "Your code is 1234", "user": 0, "type": "text"}
    assert classify_message({**automated, "status": "delivered"}) is MessageKind.OUTBOUND
    assert classify_message({**automated, "status": "failed"}) is MessageKind.OUTBOUND
    assert classify_message({**automated, "local_id": "wf-77"}) is MessageKind.OUTBOUND


# -- hidden, failures -----------------------------------------------------------------------------


def test_hidden_is_read_from_the_message() -> None:
    assert Message.from_raw({**INBOUND, "hidden": True}).hidden  # type: ignore[union-attr]
    assert not Message.from_raw(INBOUND).hidden  # type: ignore[union-attr]


def test_a_failed_delivery_carries_the_carriers_reason() -> None:
    failed = {**BROADCAST, "user": 103, "broadcast_id": 0, "status": "failed",
              "raw_error": "30007: Message filtered by the carrier"}
    message = Message.from_raw(failed)
    assert message is not None and message.failed
    assert message.failure == "30007: Message filtered by the carrier"


def test_target_errors_keyed_by_phone_are_part_of_the_reason() -> None:
    group_send = {**BROADCAST, "user": 103, "broadcast_id": 0, "status": "sent",
                  "targets": ["14155550123", "15035557001"],
                  "target_errors": {"15035557001": "Unreachable destination handset"}}
    message = Message.from_raw(group_send)
    assert message is not None and message.failed
    assert message.failure == "15035557001: Unreachable destination handset"
    assert failure_reason({"raw_error": {"code": 30003, "message": "Unreachable"}}) == "30003 Unreachable"
    assert failure_reason({"status": "delivered"}) is None
    # The same reason in both fields is said once; a group names the numbers it failed for.
    same = {"raw_error": "30003: Unreachable destination handset",
            "target_errors": {"14155550123": "Unreachable destination handset"}}
    assert failure_reason(same) == "30003: Unreachable destination handset"
    group = {**same, "target_errors": {"15035557001": "Unreachable destination handset",
                                       "15035557002": "Unreachable destination handset"}}
    assert failure_reason(group) == "30003: Unreachable destination handset; failed for 15035557001, 15035557002"


# -- zero times and ids -----------------------------------------------------------------------------


def test_the_zero_time_and_a_0_id_are_absent() -> None:
    assert parse_datetime(ZERO) is None and parse_datetime("0001-01-01T00:00:00.000+00:00") is None
    assert parse_id(0) is None and parse_id("0") is None
    conversation = Conversation.from_raw({**LIVE_CONVERSATION, "updated": ZERO})
    assert conversation is not None and conversation.updated is None and conversation.assigned is None
    message = Message.from_raw(INBOUND)
    assert message is not None and message.updated is None and message.user is None
    assert message.broadcast_id is None


async def test_a_pager_never_takes_a_zero_time_as_a_cursor() -> None:
    # Page one holds a conversation with the zero time as `updated`; page two must still come.
    first = [Conversation.from_raw({"id": i, "updated": f"2026-11-20T14:{59 - i:02d}:00Z"}) for i in range(1, 4)]
    zero = Conversation.from_raw({"id": 99, "updated": ZERO})
    second = [Conversation.from_raw({"id": 10 + i, "updated": f"2026-11-19T10:{59 - i:02d}:00Z"}) for i in range(3)]
    bounds: list[int | None] = []

    async def fetch(bound: int | None) -> list:
        bounds.append(bound)
        if bound is None:
            return [*first, zero]
        cut = datetime.fromtimestamp(bound, timezone.utc)
        return [c for c in second if c.updated < cut]

    pager = Pager(fetch, item_id=lambda c: c.id, item_time=lambda c: c.updated)
    got = [c.id async for c in pager]
    assert sorted(got) == [1, 2, 3, 10, 11, 12, 99]
    assert all(b is None or b > 0 for b in bounds)


# -- groups, email, statuses ---------------------------------------------------------------------------


def test_a_group_lists_all_its_numbers_and_triages_by_chat_id_or_targets() -> None:
    raw = {**LIVE_CONVERSATION, "targets": ["14155550123", "15035557001", "15035557002"], "type": "group"}
    raw.pop("target")
    group = Conversation.from_raw(raw)
    assert group is not None and group.is_group and group.target is None
    assert group.numbers == ["14155550123", "15035557001", "15035557002"]
    assert "15035557002" in group.display_name
    refs = group.triage_refs()
    assert triage_keys(refs["chat_id"], group.target, refs["targets"], "close") == {"chat_id": 2710042}
    assert triage_keys(refs["chat_id"], group.target, refs["targets"], "read") == {"targets": group.numbers}
    assert group.history_unavailable is not None and "Group of 3" in group.history_unavailable
    single = Conversation.from_raw(LIVE_CONVERSATION)
    assert single is not None and single.history_unavailable is None
    assert triage_keys(None, "14155550123", None, "open") == {"target": "14155550123"}


def test_an_email_conversation_keeps_its_address() -> None:
    email = Conversation.from_raw({**LIVE_CONVERSATION, "channel": "email", "target": "jo@example.com"})
    assert email is not None and email.channel == "email" and email.numbers == ["jo@example.com"]
    assert email.display_name == "jo@example.com"


@pytest.mark.parametrize("status", ["pending", "on_hold", "Snoozed", "", None])
def test_pending_and_unknown_statuses_show_as_they_are_and_count_as_open(status) -> None:
    conversation = Conversation.from_raw({**LIVE_CONVERSATION, "status": status})
    assert conversation is not None and not conversation.closed and not conversation_closed(status)
    assert conversation.status_label == (status or "open")
    assert Conversation.from_raw({**LIVE_CONVERSATION, "status": "closed"}).closed  # type: ignore[union-attr]
