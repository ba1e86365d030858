"""The queue's answer key, and the live shapes of `last_inbound` and `replied`.

The seeded world already has customers waiting for a reply in every inbox, assigned to several
members and unassigned, with known times (the generator's plan of each thread's last messages).
`waiting_answer` reads that truth from the threads themselves (who wrote the last message that
is not a private note), never from the `last_inbound` / `replied` fields the client reads, so a
test can hold the client's reading of those fields against it.

`shape_queue_fields` is the live profile's part: the undocumented fields in the shapes the notes
report (Unix seconds, a numeric string, an RFC 3339 string, the zero time, left out, `replied`
false left out as Go's `omitempty` does), chosen by conversation id so every run is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hmtui.fake.data import FakeData

ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class Waiter:
    conversation_id: int
    inbox_id: int
    assigned: int | None
    since: int  # Unix seconds of the customer's latest message


def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def _truth(data: FakeData, conv: dict[str, Any]) -> int | None:
    """Since when the customer has waited, from the thread (built or planned), or None."""
    thread = data._threads.get(conv["id"])
    if thread is not None:  # built (read, or appended to): the messages are the truth
        spoken = [(e, m) for e, m in zip(thread.epochs, thread.messages) if m["type"] != "comment"]
        if not spoken or spoken[-1][1]["user"] is not None:
            return None
        return max(e for e, m in spoken if m["user"] is None)
    plan = data._plans[conv["id"]]
    spoken_roles = [(e, role) for e, role, _ in plan.tail if role != "note"]
    if not spoken_roles or spoken_roles[-1][1] != "inbound":
        return None
    return max(e for e, role in spoken_roles if role == "inbound")


def waiting_answer(data: FakeData) -> list[Waiter]:
    """Every customer waiting for a reply (open, pending or unknown status: not closed), the
    longest waiting first; ties by inbox then conversation id."""
    with data.lock:
        waiters = []
        for conv in data.conversations:
            if conv["status"] == "closed":
                continue
            since = _truth(data, conv)
            if since is not None:
                waiters.append(Waiter(conv["id"], conv["inbox"], conv["assigned"], since))
    return sorted(waiters, key=lambda w: (w.since, w.inbox_id, w.conversation_id))


def shape_queue_fields(out: dict[str, Any]) -> dict[str, Any]:
    """The live profile's `last_inbound` and `replied` (on a conversation already shaped)."""
    conv_id = out.get("id")
    pick = conv_id % 4 if isinstance(conv_id, int) else 0
    last_inbound = out.get("last_inbound")
    if isinstance(last_inbound, int) and last_inbound > 0:
        if pick == 1:
            out["last_inbound"] = str(last_inbound)
        elif pick == 2:
            out["last_inbound"] = datetime.fromtimestamp(last_inbound, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif pick == 3:
        out["last_inbound"] = ZERO_TIME  # never wrote: the zero time (others leave it out)
    else:
        out.pop("last_inbound", None)
    if out.get("replied") is False:
        out.pop("replied")
    return out
