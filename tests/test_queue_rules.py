"""Unit tests of the queue's pure rules: waiting for a reply (every shape of `last_inbound` and
`replied`), the owner of a conversation, the acting member, the cycle, the sort's tie-breaks,
the longest-waiting choice, and "waiting 2h 14m"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hmtui.api.models import Conversation
from hmtui.api.semantics import Owner, acting_member, owner_of, waiting_since
from hmtui.workspace.queue import (
    OWNER_CYCLE,
    longest_waiting,
    next_owner,
    notify_allowed,
    owner_predicate,
    owner_label,
    owner_matches,
    sort_by_waiting,
    waiting_label,
    waiting_text,
)

T = 1_795_000_000  # 2026-11-18T11:06:40Z
T_RFC = "2026-11-18T11:06:40Z"
ZERO = "0001-01-01T00:00:00Z"


def conv(id_: object, **raw: object) -> Conversation:
    parsed = Conversation.from_raw({"id": id_, "inbox": 501, "status": "open", **raw})
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("last_inbound", "replied", "updated", "expected"),
    [
        (T, False, None, T),  # tidy: Unix seconds, a bool
        (str(T), None, None, T),  # a numeric string; replied null
        (T_RFC, "false", None, T),  # RFC 3339; replied as text
        (T, 0, None, T),  # replied as a 0 flag
        (T, "0", None, T),
        (T, "missing", None, T),  # replied left out (Go's omitempty of false)
        (T, True, T + 60, None),  # answered after the customer wrote
        (T, 1, T + 60, None),
        (T, "true", T + 60, None),
        (T, True, T_RFC, T),  # replied true, but the customer wrote last: the flag was not reset
        (T, True, ZERO, None),  # ... an unset `updated` tells nothing: trust the flag
        (T, T + 30, None, None),  # replied as a time after the inbound
        (T, T - 30, None, T),  # ... before it: the customer wrote again
        (0, False, None, None),  # never wrote
        (None, False, None, None),
        ("missing", "missing", None, None),
        (ZERO, False, None, None),  # the zero time is unset
        ("0", False, None, None),
        (1, False, None, None),  # a 0/1 flag is no time
        ("soon", False, None, None),  # unreadable: nobody is known to wait
        (float("nan"), False, None, None),
    ],
)
def test_waiting_since_reads_every_shape(last_inbound, replied, updated, expected) -> None:
    raw: dict[str, object] = {"status": "open"}
    if last_inbound != "missing":
        raw["last_inbound"] = last_inbound
    if replied != "missing":
        raw["replied"] = replied
    if updated is not None:
        raw["updated"] = updated
    assert waiting_since(raw) == expected


@pytest.mark.parametrize(("status", "waits"), [("open", True), ("pending", True), ("on_hold", True),
                                                (None, True), ("closed", False), ("CLOSED ", False)])
def test_a_closed_conversation_waits_for_nobody(status, waits) -> None:
    assert (waiting_since({"status": status, "last_inbound": T, "replied": False}) is not None) is waits


def test_the_model_gives_an_aware_time() -> None:
    assert conv(1, last_inbound=T_RFC).waiting_since == datetime(2026, 11, 18, 11, 6, 40, tzinfo=timezone.utc)
    assert conv(1, last_inbound=T, replied=True, updated=T + 5).waiting_since is None


@pytest.mark.parametrize(
    ("assigned", "me", "owner"),
    [
        (105, 105, Owner.MINE),
        ("105", 105, Owner.MINE),  # ids come as ints or strings
        (105, "105", Owner.MINE),
        (106, 105, Owner.ALL),  # someone else's
        (None, 105, Owner.UNASSIGNED),
        (0, 105, Owner.UNASSIGNED),  # the unset id
        ("0", 105, Owner.UNASSIGNED),
        (105, None, Owner.ALL),  # no acting member: nothing is mine
        (0, 0, Owner.UNASSIGNED),
    ],
)
def test_owner_of(assigned, me, owner) -> None:
    assert owner_of(assigned, me) is owner


def test_the_model_reads_a_live_unassigned_zero() -> None:
    assert conv(1, assigned=0).owner(105) is Owner.UNASSIGNED
    assert conv(1, assigned="105").owner(105) is Owner.MINE


@pytest.mark.parametrize(
    ("configured", "members", "me"),
    [
        (103, [101, 103], 103),  # configured and a member
        (109, [101, 103], 101),  # configured but not a member: the first member
        (None, [101, 103], 101),
        (109, [], 109),  # no members listed: the configured one
        (None, [], None),
        (None, None, None),
    ],
)
def test_acting_member_is_triages_rule(configured, members, me) -> None:
    assert acting_member(configured, members) == me


def test_the_owner_filter_predicate() -> None:
    mine, theirs, nobody = conv(1, assigned=105), conv(2, assigned=106), conv(3)
    assert [owner_matches(c, Owner.MINE, 105) for c in (mine, theirs, nobody)] == [True, False, False]
    assert [owner_matches(c, Owner.UNASSIGNED, 105) for c in (mine, theirs, nobody)] == [False, False, True]
    assert [owner_matches(c, Owner.ALL, 105) for c in (mine, theirs, nobody)] == [True, True, True]
    # n/N and the notifications use the same choice.
    assert [owner_predicate(Owner.MINE, 105)(c) for c in (mine, theirs, nobody)] == [True, False, False]
    assert [notify_allowed(c, Owner.UNASSIGNED, 105) for c in (mine, theirs, nobody, None)] == [
        False, False, True, True]


def test_the_cycle_order_and_labels() -> None:
    assert OWNER_CYCLE == (Owner.MINE, Owner.UNASSIGNED, Owner.ALL)
    assert [next_owner(o) for o in OWNER_CYCLE] == [Owner.UNASSIGNED, Owner.ALL, Owner.MINE]
    assert [next_owner(o, -1) for o in OWNER_CYCLE] == [Owner.ALL, Owner.MINE, Owner.UNASSIGNED]
    assert [owner_label(o) for o in OWNER_CYCLE] == ["Mine", "Unassigned", "All"]


def test_the_waiting_sort_oldest_first_ties_by_id_rest_in_order() -> None:
    rows = [
        conv(10, last_inbound=T, replied=True, updated=T + 9),  # answered
        conv(7, last_inbound=T + 100),
        conv("x9", last_inbound=T),  # a string id, tied with 3 and 4
        conv(4, last_inbound=T),
        conv(11),  # never wrote
        conv(3, last_inbound=str(T)),
        conv(2, last_inbound=T - 50, status="closed"),
    ]
    assert [c.id for c in sort_by_waiting(rows)] == [3, 4, "x9", 7, 10, 11, 2]
    assert [c.id for c in sort_by_waiting(reversed(rows))][:4] == [3, 4, "x9", 7]  # input order aside


def test_longest_waiting_across_inboxes_and_what_to_fetch() -> None:
    lists = {
        501: [conv(1, last_inbound=T + 10), conv(2, last_inbound=T + 5)],
        502: [conv(8, inbox=502, last_inbound=T), conv(5, inbox=502, last_inbound=T)],
        503: [conv(9, inbox=503, last_inbound=T)],
    }
    result = longest_waiting(lists, complete=[501, 502, 503])
    assert result.complete and result.best is not None
    # A tie between inboxes: the one listed first; in an inbox: the lower id.
    assert (result.best.inbox_id, result.best.conversation.id) == (502, 5)
    partial = longest_waiting(lists, complete=[502])
    assert not partial.complete and partial.fetch.inbox_ids == (501, 503)
    assert partial.best is not None and partial.best.conversation.id == 5
    only_501 = longest_waiting(lists, complete=lists, accept=lambda inbox, c: inbox == 501)
    assert only_501.best is not None and only_501.best.conversation.id == 2
    nobody = longest_waiting({501: [conv(1)]}, complete=[501])
    assert nobody.complete and nobody.best is None


NOW = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=0), "waiting <1m"),
        (timedelta(seconds=59), "waiting <1m"),
        (timedelta(minutes=1), "waiting 1m"),
        (timedelta(minutes=59, seconds=59), "waiting 59m"),
        (timedelta(hours=1), "waiting 1h 0m"),
        (timedelta(hours=2, minutes=14, seconds=30), "waiting 2h 14m"),
        (timedelta(hours=23, minutes=59), "waiting 23h 59m"),
        (timedelta(days=1), "waiting 1d 0h"),
        (timedelta(days=3, hours=4, minutes=59), "waiting 3d 4h"),
        (timedelta(days=400), "waiting 400d 0h"),
        (timedelta(minutes=-5), "waiting <1m"),  # a server clock ahead of ours
    ],
)
def test_waiting_text(ago, text) -> None:
    assert waiting_text(NOW - ago, NOW) == text


def test_waiting_text_takes_naive_times_as_utc_and_the_label_is_none_for_nobody() -> None:
    assert waiting_text(datetime(2026, 11, 20, 12, 46), NOW) == "waiting 2h 14m"
    assert waiting_label(conv(1, last_inbound=int((NOW - timedelta(hours=2, minutes=14)).timestamp())), NOW) == "waiting 2h 14m"
    assert waiting_label(conv(1), NOW) is None
