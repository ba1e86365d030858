"""A big fake team, for the refresh budget: more inboxes, and many open conversations in each.

`grow_team(data, inboxes=12, big=10, open_per_inbox=300)` adds inboxes to a `FakeData` until it has
`inboxes`, and open conversations to the first `big` of them until each has `open_per_inbox`.
The added conversations have no messages (a badge count never reads a thread); one in ten is
unread. Deterministic: the same arguments give the same team.
"""

from __future__ import annotations

from typing import Any

from hmtui.fake.data import FakeData
from hmtui.fake.generate import Thread, make_conversation

FIRST_INBOX_ID = 601
UNREAD_EVERY = 10


def grow_team(data: FakeData, *, inboxes: int = 12, big: int = 10, open_per_inbox: int = 300) -> FakeData:
    with data.lock:
        members = [m["id"] for m in data.team["members"]]
        next_id = max(i["id"] for i in data.inboxes) + 1
        next_id = max(next_id, FIRST_INBOX_ID)
        while len(data.inboxes) < inboxes:
            n = len(data.inboxes)
            inbox = {
                "id": next_id, "name": f"Region {n + 1}", "phone": f"1999555{next_id:04d}",
                "phones": [f"1999555{next_id:04d}"], "members": members[: 3 + n % 3],
                "team": data.team["id"], "rev": 1, "op": members[0], "allowed_domains": [],
                "auto_assignable": False, "bco_chats": False, "forward_number": "", "invited": [],
                "widget_code": f"hmw_{next_id:012x}", "widget_settings": {"enabled": False},
            }
            data.inboxes.append(inbox)
            data._inbox_by_id[inbox["id"]] = inbox  # noqa: SLF001 (the fake's own package)
            next_id += 1
        conv_id = max(data._by_id) + 1  # noqa: SLF001
        for n, inbox in enumerate(data.inboxes[:big]):
            have = sum(1 for c in data.conversations if c["inbox"] == inbox["id"] and c["status"] != "closed")
            for k in range(max(0, open_per_inbox - have)):
                _add(data, inbox, conv_id, f"1888{n:02d}{k:05d}", unread=k % UNREAD_EVERY == 0,
                     updated=data.anchor_epoch - 7 * 86400 - k * 97 - n)
                conv_id += 1
        data._index = None  # noqa: SLF001
    return data


def _add(data: FakeData, inbox: dict[str, Any], conv_id: int, target: str, *, unread: bool, updated: int) -> None:
    read = 0 if unread else updated
    conv = make_conversation(conv_id, inbox["id"], target, f"Customer {conv_id}", "open", None, updated - 3600,
                             None, updated, read, updated, False, [], unread, "")
    data._extra_refs[conv_id] = {"id": conv_id, "inbox": inbox["id"], "target": target, "name": conv["name"]}  # noqa: SLF001
    data._threads[conv_id] = Thread([], [])  # noqa: SLF001
    data._updated[conv_id] = updated  # noqa: SLF001
    data._by_id[conv_id] = conv  # noqa: SLF001
    data._by_key[(inbox["id"], target)] = conv  # noqa: SLF001
    data.conversations.append(conv)
