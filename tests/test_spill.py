"""The thread's spill (hmtui.cache.spill): what is written comes back by time, find searches it,
hostile text stays data, and closing deletes the file."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hmtui.api.models import Message
from hmtui.cache.spill import CHUNK, UNDATED, Spill

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def msg(n: int, text: str | None = None, *, dated: bool = True) -> Message:
    raw = {"id": n, "text": text if text is not None else f"message {n}", "type": "text"}
    if dated:
        raw["date"] = (START + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
    message = Message.from_raw(raw)
    assert message is not None
    return message


def test_pages_come_back_by_time_across_rows(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    try:
        messages = [msg(n) for n in range(CHUNK * 3 + 7)]
        spill.put(messages[:CHUNK + 5])  # rows of different sizes, written in two calls
        spill.put(messages[CHUNK + 5:])
        lo, hi = messages[90].timestamp, messages[250].timestamp
        back = spill.read_now(lo, hi)
        assert [m.id for m in back] == list(range(90, 251))
        assert back[0].raw == messages[90].raw and back[0].text == "message 90"
        assert asyncio.run(spill.read(hi, hi))[0].id == 250
    finally:
        spill.close()


def test_undated_messages_are_the_oldest(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    try:
        spill.put([msg(1), msg(2, dated=False)])
        assert [m.id for m in spill.read_now(UNDATED, UNDATED)] == [2]
        assert [m.id for m in spill.read_now(UNDATED, float("inf"))] == [2, 1]
    finally:
        spill.close()


def test_find_matches_every_term_in_one_message_case_insensitively(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    try:
        spill.put([msg(1, "Invoice sent"), msg(2, "invoice PAID"), msg(3, "paid"), msg(4, "[b]markup[/b] \x1b[31m")])
        assert [i for _, i in spill.matches(["INVOICE"])] == [1, 2]
        assert [i for _, i in spill.matches(["invoice", "paid"])] == [2]
        assert [i for _, i in spill.matches(["[b]markup"])] == [4]
        assert spill.matches([]) == []
        spill.clear()
        assert spill.matches(["paid"]) == [] and spill.read_now(UNDATED, float("inf")) == []
    finally:
        spill.close()


def test_a_body_holding_the_separator_or_folding_wider_keeps_find_to_its_own_message(tmp_path: Path) -> None:
    """The bodies of a row are joined by NUL and casefolded together; a body that holds a NUL
    itself (server data) or folds to more characters ("ß" is "ss") still matches alone."""
    spill = Spill(tmp_path)
    try:
        spill.put([msg(1, "Straße\x00gate"), msg(2, "gate"), msg(3, "STRASSE"), msg(4, "")])
        assert [i for _, i in spill.matches(["strasse"])] == [1, 3]
        assert [i for _, i in spill.matches(["gate"])] == [1, 2]
        assert [i for _, i in spill.matches(["strasse", "gate"])] == [1]
    finally:
        spill.close()


def test_close_deletes_the_file_and_later_calls_fail_cleanly(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    spill.put([msg(1)])
    spill.wait(5)
    assert list(tmp_path.glob("hmtui-spill-*/thread.sqlite3"))
    spill.close()
    assert not list(tmp_path.iterdir())
    spill.put([msg(2)])  # nothing happens, nothing raises
    spill.close()
