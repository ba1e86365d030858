from datetime import datetime, timedelta, timezone

import pytest

from hmtui.api.models import (
    Conversation,
    Inbox,
    Message,
    Team,
    format_datetime,
    parse_datetime,
    parse_id,
    parse_items,
)
from hmtui.api.semantics import MessageKind, classify_message, conversation_unread, delivery_failed

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-01-10T08:00:00Z", datetime(2024, 1, 10, 8, 0, tzinfo=UTC)),
        ("2024-01-10T08:00:00.5Z", datetime(2024, 1, 10, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2024-01-10T08:00:00.123456789Z", datetime(2024, 1, 10, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-10T10:00:00+02:00", datetime(2024, 1, 10, 8, 0, tzinfo=UTC)),
        ("2024-01-10T03:30:00-0430", datetime(2024, 1, 10, 8, 0, tzinfo=UTC)),
        ("2024-01-10 08:00:00", datetime(2024, 1, 10, 8, 0, tzinfo=UTC)),
        ("2024-01-10t08:00:00z", datetime(2024, 1, 10, 8, 0, tzinfo=UTC)),
        (1704873600, datetime(2024, 1, 10, 8, 0, tzinfo=UTC)),
    ],
)
def test_dates_parse_from_rfc3339_with_or_without_fraction_or_offset(text, expected) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # The API's own form takes a faster parser; what it refuses still takes the general one.
        ("2024-01-10T08:00:59Z", datetime(2024, 1, 10, 8, 0, 59, tzinfo=UTC)),
        ("2024-01-10T08:00:60Z", datetime(2024, 1, 10, 8, 0, 59, tzinfo=UTC)),  # a leap second, clamped
        ("2024-W02-3T08:00:00Z", None),  # an ISO week date: never accepted, fast parser or not
        ("2024-01-10T080000.5Z", None),  # ISO's basic time, 20 characters too
        ("2024-02-30T08:00:00Z", None),
        ("0001-01-01T00:00:00Z", None),  # the backend's zero time
    ],
)
def test_the_api_date_form_parses_as_the_general_rule_says(text, expected) -> None:
    moment = parse_datetime(text)
    assert moment == expected
    if moment is not None:
        assert moment.utcoffset() == timedelta(0)


def test_updated_is_its_own_time_unless_it_is_the_same_text() -> None:
    same = Message.from_raw({"id": 1, "date": "2024-01-10T08:00:00Z", "updated": "2024-01-10T08:00:00Z"})
    edited = Message.from_raw({"id": 2, "date": "2024-01-10T08:00:00Z", "updated": "2024-01-10T09:30:00Z"})
    unset = Message.from_raw({"id": 3, "date": "2024-01-10T08:00:00Z", "updated": None})
    assert same is not None and edited is not None and unset is not None
    assert same.updated == same.date == datetime(2024, 1, 10, 8, 0, tzinfo=UTC)
    assert edited.updated == datetime(2024, 1, 10, 9, 30, tzinfo=UTC)
    assert unset.updated is None and unset.date is not None


@pytest.mark.parametrize("bad", [None, "", "yesterday", "2024-13-40T99:00:00Z", True, [], {}, float("nan"), -5])
def test_bad_dates_are_none(bad) -> None:
    assert parse_datetime(bad) is None


def test_format_datetime_round_trips() -> None:
    moment = datetime(2024, 1, 10, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(moment) == "2024-01-10T06:00:00Z"
    assert parse_datetime(format_datetime(moment)) == moment


def test_ids_accept_ints_and_strings_alike() -> None:
    assert parse_id(5) == parse_id("5") == parse_id(5.0) == 5
    assert parse_id("abc") == "abc"
    assert parse_id(True) is None and parse_id(None) is None and parse_id("  ") is None


def test_unusable_items_are_skipped_and_counted_and_the_rest_kept() -> None:
    raw = [
        {"id": 1, "text": "hi", "date": "2024-01-10T08:00:00Z", "brand_new_field": {"x": 1}},
        "not an object",
        None,
        {"text": "no id"},
        {"id": 2, "text": None, "date": 12, "author": ["wrong"], "user": {"weird": 1}, "flagged": "yes"},
    ]
    items, skipped = parse_items(raw, Message.from_raw)
    assert skipped == 3
    assert [m.id for m in items] == [1, 2]
    assert items[0].raw["brand_new_field"] == {"x": 1}
    odd = items[1]
    assert odd.text is None and odd.date is None and odd.author is None and odd.user is None
    assert odd.flagged is False
    assert parse_items({"not": "a list"}, Message.from_raw) == ([], 0)


def test_wrong_typed_fields_become_none_or_defaults() -> None:
    inbox = Inbox.from_raw({"id": "501", "name": None, "phones": "nope", "members": [1, "2", None, "x"]})
    assert inbox is not None and inbox.id == 501 and inbox.name == "" and inbox.phones == []
    assert inbox.members == [1, 2, "x"]
    conv = Conversation.from_raw({"id": 9, "updated": "garbage", "assigned": 0, "status": 7, "last_msg": {"text": "hey"}})
    assert conv is not None
    assert conv.updated is None and conv.assigned is None and conv.last_message == "hey"
    assert conv.display_name == "conversation 9"
    team = Team.from_raw({"members": [{"id": 1, "name": "A"}, {"name": "no id"}, 3]})
    assert [m.name for m in team.members] == ["A"] and team.skipped_members == 2


def test_display_name_falls_back_to_the_number() -> None:
    conv = Conversation.from_raw({"id": 1, "name": "  ", "target": "14155550100"})
    assert conv is not None and conv.display_name == "14155550100"


@pytest.mark.parametrize(
    "raw, kind",
    [
        ({"type": "comment", "user": 101}, MessageKind.NOTE),
        ({"type": "text", "private": True}, MessageKind.NOTE),
        ({"type": "text", "user": 101}, MessageKind.OUTBOUND),
        ({"type": "text", "user": "101"}, MessageKind.OUTBOUND),
        ({"type": "text", "user": None}, MessageKind.INBOUND),
        ({"type": "text", "user": 0}, MessageKind.INBOUND),
        ({"type": "inbound", "user": 101}, MessageKind.INBOUND),
        ({"type": "outbound"}, MessageKind.OUTBOUND),
        ({}, MessageKind.INBOUND),
    ],
)
def test_message_direction_is_decided_in_one_place(raw, kind) -> None:
    assert classify_message(raw) is kind
    assert Message.from_raw({"id": 1, **raw}).kind is kind


def test_failed_delivery_and_unread() -> None:
    assert delivery_failed("failed") and delivery_failed("Undelivered")
    assert not delivery_failed("delivered") and not delivery_failed(None)
    assert conversation_unread({"unread": True, "read": 10, "last_inbound": 5})
    assert conversation_unread({"read": 5, "last_inbound": 10})
    assert not conversation_unread({"read": 10, "last_inbound": 5})
    assert not conversation_unread({})


def test_media_tolerates_lists_and_objects() -> None:
    assert Message.from_raw({"id": 1, "media": "https://x/y.jpg"}).media == "https://x/y.jpg"
    assert Message.from_raw({"id": 1, "media": ["https://x/a.jpg"]}).media == "https://x/a.jpg"
    assert Message.from_raw({"id": 1, "media": {"url": "https://x/b.jpg"}}).media == "https://x/b.jpg"
    assert Message.from_raw({"id": 1, "media": ""}).media is None


def test_the_parse_of_rare_fields_agrees_with_their_readers() -> None:
    """`Message.from_raw` skips the readers of fields most messages lack; whatever those fields
    hold, what it gives is what the readers say (hmtui.api.semantics)."""
    import itertools

    from hmtui.api import semantics

    values = {
        "hidden": [None, False, True, "true", "no", 1, 0],
        "broadcast_id": [None, 0, 5, "7", "0"],
        "user": [None, 0, 3],
        "raw_error": [None, "", "carrier said no", {"code": 30007}],
        "target_errors": [None, {}, {"15035550100": "blocked"}, ["one"]],
    }
    for combo in itertools.product(*values.values()):
        raw = {"id": 1, "date": "2026-11-20T11:39:35Z", "text": "hi", "type": "text", "status": "failed",
               **dict(zip(values, combo))}
        raw = {k: v for k, v in raw.items() if v is not None or k == "user"}  # absent and null both
        message = Message.from_raw(raw)
        assert message is not None
        assert message.hidden == semantics.message_hidden(raw), raw
        assert message.failure == semantics.failure_reason(raw), raw
        assert message.automated == semantics.automated_send(raw), raw
        assert message.broadcast_id == parse_id(raw.get("broadcast_id")), raw


def test_a_message_copies_its_raw_dict_unless_it_is_handed_over() -> None:
    """`owned=True` (a dict just decoded for the message: the cache's rows, the spill's) keeps the
    dict as it is; anything else is copied, so the caller's dict and the message's never alias."""
    from types import MappingProxyType

    raw = {"id": 5, "date": "2026-11-20T11:39:35Z", "text": "hi"}
    copied, kept = Message.from_raw(raw), Message.from_raw(raw, owned=True)
    assert copied is not None and kept is not None
    assert copied.raw == raw and copied.raw is not raw
    assert kept.raw is raw
    proxied = Message.from_raw(MappingProxyType(raw), owned=True)  # not a dict: still copied
    assert proxied is not None and type(proxied.raw) is dict and proxied.raw == raw
    assert copied == kept and copied.source is None
