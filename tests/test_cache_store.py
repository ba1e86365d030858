"""The local SQLite cache (hmtui.cache): round trips, upserts, ordering, search, isolation between
accounts, file permissions, corruption and schema versions, the null store, the writer thread,
and the performance budget. No network; every store lives in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from hmtui.api.models import Conversation, Inbox, Message, Team
from hmtui.api.paging import Pager
from hmtui.cache import CacheError, NullStore, SearchHit, Store, StoreWriter, ThreadState, store_path
from hmtui.cache import schema as cache_schema
from hmtui.cache import store as store_module

BASE = "https://api.heymarket.com"
SECRET = "secret-id-of-account-a"
T0 = 1_750_000_000.0
INBOX = 11
TARGET = "15550100134"
OTHER_TARGET = "15550109999"


def msg(id_, date=None, text="hello", **extra) -> Message:
    raw = {"id": id_, "text": text, **extra}
    if date is not None:
        raw["date"] = date
    message = Message.from_raw(raw)
    assert message is not None
    return message


def conv(id_, inbox=INBOX, target=TARGET, *, updated=T0, status="open", name="Olivia Bennett", **extra) -> Conversation:
    raw = {"id": id_, "inbox": inbox, "target": target, "name": name, "status": status, "updated": updated, **extra}
    conversation = Conversation.from_raw(raw)
    assert conversation is not None
    return conversation


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(BASE, SECRET, directory=tmp_path / "cache")
    assert s.warnings == [] and s.enabled
    yield s
    s.close()


def ids(messages) -> list:
    return [m.id for m in messages]


# --- round trips ---------------------------------------------------------------------------------


def test_every_model_round_trips_with_its_raw_dict_and_unknown_fields(store: Store) -> None:
    inbox = Inbox.from_raw({"id": 11, "name": "Support", "phones": ["15550001111"], "members": [1, 2],
                            "team": 5, "x_future": {"nested": [1, 2, 3]}})
    team = Team.from_raw({"id": 5, "name": "Acme", "members": [{"id": 1, "name": "Ann", "role": "admin",
                                                                "x_pet": "cat"}, {"no": "id"}], "x_plan": "pro"})
    conversation = conv(900, x_channel_info={"sms": True}, unread=True)
    message = msg(7, "2025-06-01T10:00:00.250Z", "héllo 👋", author="Ann", user=1, phone="15550001111",
                  target=TARGET, x_reactions=["👍"], media=[{"url": "https://m.invalid/a.jpg"}])
    store.put_inboxes([inbox])
    store.put_team(team)
    store.put_conversations([conversation])
    store.put_messages(INBOX, TARGET, [message])

    (inbox_back,) = store.inboxes()
    assert inbox_back == inbox and inbox_back.raw == inbox.raw and inbox_back.raw["x_future"] == {"nested": [1, 2, 3]}
    team_back = store.team()
    assert team_back == team and team_back.raw == team.raw and team_back.skipped_members == 1
    assert team_back.members[0].raw["x_pet"] == "cat"
    (conversation_back,) = store.conversations(INBOX)
    assert conversation_back == conversation and conversation_back.raw == conversation.raw
    assert conversation_back.unread is True
    (message_back,) = store.messages(INBOX, TARGET)
    assert message_back == message and message_back.raw == message.raw
    assert message_back.raw["x_reactions"] == ["👍"] and message_back.media == "https://m.invalid/a.jpg"
    assert message_back.timestamp == message.timestamp


def test_hostile_text_round_trips_exactly(store: Store) -> None:
    text = "\x1b]0;pwned\x07 lone \ud800 surrogate \u202eRTL\u202c nul\x00 [bold]x[/]"
    store.put_messages(INBOX, TARGET, [msg(1, T0, text, author="\ud83d")])
    (back,) = store.messages(INBOX, TARGET)
    assert back.text == text and back.raw["author"] == "\ud83d"
    (hit,) = store.search("surrogate")
    assert "\x1b" not in hit.snippet and "\x07" not in hit.snippet and "\x00" not in hit.snippet


def test_put_inboxes_replaces_the_set_in_order(store: Store) -> None:
    store.put_inboxes([Inbox.from_raw({"id": i, "name": f"n{i}"}) for i in (3, 1, 2)])
    assert [i.id for i in store.inboxes()] == [3, 1, 2]
    store.put_inboxes([Inbox.from_raw({"id": 2, "name": "renamed"})])
    assert [(i.id, i.name) for i in store.inboxes()] == [(2, "renamed")]
    store.put_team(Team.from_raw({"id": 1, "name": "A", "members": [{"id": 1}, {"id": 2}]}))
    store.put_team(Team.from_raw({"id": 1, "name": "B", "members": [{"id": 3}]}))
    team = store.team()
    assert team is not None and team.name == "B" and [m.id for m in team.members] == [3]


# --- upserts ---------------------------------------------------------------------------------------


def test_messages_upsert_on_inbox_target_and_id(store: Store) -> None:
    store.put_messages(INBOX, TARGET, [msg(1, T0, "first version")])
    store.put_messages(INBOX, TARGET, [msg(1, T0, "first version")])
    store.put_messages(str(INBOX), TARGET, [msg("1", T0, "first version")])  # "11"/"1" normalise to ints
    assert store.info().messages == 1
    store.put_messages(INBOX, TARGET, [msg(1, T0, "edited text")])
    (only,) = store.messages(INBOX, TARGET)
    assert only.text == "edited text" and store.info().messages == 1
    # The full-text index follows the update: the old word is gone, the new one is found.
    assert store.search("version") == []
    assert [h.message.id for h in store.search("edited")] == [1]

    store.put_messages(INBOX, OTHER_TARGET, [msg(1, T0, "same id, other thread")])
    store.put_messages(12, TARGET, [msg(1, T0, "same id, other inbox")])
    assert store.info().messages == 3
    assert ids(store.messages(INBOX, OTHER_TARGET)) == [1]
    assert store.messages(INBOX, OTHER_TARGET)[0].text == "same id, other thread"
    assert store.messages(12, TARGET)[0].text == "same id, other inbox"
    assert store.messages(INBOX, TARGET)[0].text == "edited text"


def test_string_and_int_ids_stay_distinct_types(store: Store) -> None:
    store.put_messages(INBOX, TARGET, [msg(5, T0), msg("abc-5", T0 + 1)])
    assert sorted(store.message_ids(INBOX, TARGET), key=str) == [5, "abc-5"]
    assert {type(i) for i in store.message_ids(INBOX, TARGET)} == {int, str}


def test_writes_reject_a_missing_key(store: Store) -> None:
    with pytest.raises(ValueError):
        store.put_messages(None, TARGET, [msg(1, T0)])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.put_messages(INBOX, "", [msg(1, T0)])
    assert store.info().messages == 0


# --- ordering, paging, thread state ----------------------------------------------------------------


def test_messages_are_newest_first_with_undated_last_and_before(store: Store) -> None:
    store.put_messages(INBOX, TARGET, [
        msg(1, T0 + 10), msg(2, T0 + 30), msg(3, None), msg(4, T0 + 20), msg(5, T0 + 40), msg(6, "not a date"),
    ])
    assert ids(store.messages(INBOX, TARGET)) == [5, 2, 4, 1, 6, 3]
    assert ids(store.messages(INBOX, TARGET, limit=2)) == [5, 2]
    assert ids(store.messages(INBOX, TARGET, before=T0 + 30)) == [4, 1, 6, 3]
    assert ids(store.messages(INBOX, TARGET, before=T0 + 30, limit=2)) == [4, 1]
    assert ids(store.messages(INBOX, TARGET, before=T0 + 10.5, limit=2)) == [1, 6]
    assert ids(store.messages(INBOX, TARGET, before=T0)) == [6, 3]  # undated sort oldest
    assert store.messages(INBOX, TARGET, limit=0) == []
    assert store.messages(INBOX, "nobody") == []


def test_paging_with_before_id_does_not_skip_messages_sharing_a_second(store: Store) -> None:
    store.put_messages(INBOX, TARGET, [msg(i, T0 + i // 4) for i in range(1, 21)] + [msg(99, None), msg(98, None)])
    pages, before, before_id = [], None, None
    for _ in range(50):  # 22 messages, 3 a page: a cursor that does not move fails, not hangs
        page = store.messages(INBOX, TARGET, limit=3, before=before, before_id=before_id)
        if not page:
            break
        pages.append(ids(page))
        before, before_id = page[-1].timestamp, page[-1].id
    else:
        raise AssertionError("paging never ended")
    flat = [i for page in pages for i in page]
    assert flat == ids(store.messages(INBOX, TARGET))
    assert sorted(flat) == sorted([*range(1, 21), 98, 99]) and flat[-2:] == [99, 98]


def test_thread_state_counts_and_complete_flag(store: Store) -> None:
    assert store.thread_state(INBOX, TARGET) == ThreadState(count=0, oldest=None, newest=None, complete=False)
    store.put_messages(INBOX, TARGET, [msg(1, T0 + 5), msg(2, T0 + 50), msg(3, None)])
    assert store.thread_state(INBOX, TARGET) == ThreadState(count=3, oldest=T0 + 5, newest=T0 + 50, complete=False)
    store.mark_thread_complete(INBOX, TARGET)
    assert store.thread_state(INBOX, TARGET).complete is True
    assert store.thread_state(INBOX, OTHER_TARGET).complete is False
    store.mark_thread_complete(INBOX, TARGET, complete=False)
    assert store.thread_state(INBOX, TARGET).complete is False


async def test_message_ids_resume_a_pager(store: Store) -> None:
    cached = [msg(i, T0 + i) for i in range(10, 20)]
    store.put_messages(INBOX, TARGET, cached)
    server = [msg(i, T0 + i) for i in range(1, 20)]
    fetched_bounds = []

    async def fetch(bound):
        fetched_bounds.append(bound)
        eligible = [m for m in server if bound is None or m.timestamp < bound]
        return sorted(eligible, key=lambda m: -m.timestamp)[:5]

    state = store.thread_state(INBOX, TARGET)
    pager = Pager(fetch, item_id=lambda m: m.id, item_time=lambda m: m.date)
    pager.resume(store.message_ids(INBOX, TARGET), state.oldest)
    older = await pager.older()
    assert fetched_bounds[0] == int(T0 + 10) + 1  # started from the cache, not the newest page
    assert ids(older) == [9, 8, 7, 6]  # 10 (re-asked, its second) was known


def test_conversations_newest_updated_first_closed_filter_and_limit(store: Store) -> None:
    store.put_conversations([
        conv(1, target="a", updated=T0 + 1), conv(2, target="b", updated=T0 + 3, status="closed"),
        conv(3, target="c", updated=T0 + 2), conv(4, target="d", updated=None), conv(5, inbox=12, target="e"),
    ])
    assert [c.id for c in store.conversations(INBOX)] == [2, 3, 1, 4]
    assert [c.id for c in store.conversations(INBOX, closed=False)] == [3, 1, 4]
    assert [c.id for c in store.conversations(INBOX, closed=True)] == [2]
    assert [c.id for c in store.conversations(INBOX, limit=2)] == [2, 3]
    assert [c.id for c in store.conversations("12")] == [5]
    # An update (here: transferred to inbox 12, reopened) replaces the row.
    store.put_conversations([conv(2, inbox=12, target="b", updated=T0 + 9)])
    assert [c.id for c in store.conversations(INBOX)] == [3, 1, 4]
    assert [c.id for c in store.conversations(12)] == [2, 5]
    assert store.info().conversations == 5


# --- search -----------------------------------------------------------------------------------------


@pytest.fixture
def searchable(store: Store) -> Store:
    store.put_conversations([conv(1, target=TARGET, name="Olivia Bennett"), conv(2, target=OTHER_TARGET, name="")])
    store.put_messages(INBOX, TARGET, [
        msg(1, T0 + 1, "Your refund was approved", author="Ann Agent", phone="15550001111", target=TARGET),
        msg(2, T0 + 2, "Meet me near the AND gate (north side)", author="Olivia", target=TARGET),
        msg(3, T0 + 3, "délivery tomorrow 👍 全角 words", author="Bob", target=TARGET),
        msg(4, T0 + 4, "call me at 555-0134 please", author="Olivia", target=TARGET),
    ])
    store.put_messages(INBOX, OTHER_TARGET, [
        msg(1, T0 + 5, "another refund request", author="Zed", target=OTHER_TARGET),
    ])
    store.put_messages(12, TARGET, [msg(1, T0 + 6, "refund in another inbox", target=TARGET)])
    return store


def hit_keys(hits: list[SearchHit]) -> list[tuple]:
    return [(h.inbox_id, h.target, h.message.id) for h in hits]


def test_search_finds_by_text_author_and_number(searchable: Store) -> None:
    assert searchable.full_text
    assert sorted(hit_keys(searchable.search("refund"))) == sorted([(INBOX, OTHER_TARGET, 1), (INBOX, TARGET, 1), (12, TARGET, 1)])
    assert hit_keys(searchable.search("Ann")) == [(INBOX, TARGET, 1)]  # author
    assert hit_keys(searchable.search("zed")) == [(INBOX, OTHER_TARGET, 1)]
    assert len(searchable.search(OTHER_TARGET)) == 1  # the whole number
    assert len(searchable.search("9999")) == 1  # its last digits
    assert len(searchable.search("(555) 010-9999")) == 1  # as a person would type it
    assert len(searchable.search("+1 555 010 9999")) == 1
    assert len(searchable.search("0134")) == 5  # every message of the threads with TARGET
    assert hit_keys(searchable.search("555-0134", inbox_id=INBOX, target=TARGET))[0] == (INBOX, TARGET, 4)
    assert hit_keys(searchable.search("delivery")) == [(INBOX, TARGET, 3)]  # accents folded
    assert hit_keys(searchable.search("👍")) == [(INBOX, TARGET, 3)]
    assert hit_keys(searchable.search("全角")) == [(INBOX, TARGET, 3)]


def test_search_is_scoped_and_reports_contact_and_snippet(searchable: Store) -> None:
    assert sorted(hit_keys(searchable.search("refund", inbox_id=INBOX))) == sorted([(INBOX, OTHER_TARGET, 1), (INBOX, TARGET, 1)])
    assert hit_keys(searchable.search("refund", inbox_id=INBOX, target=TARGET)) == [(INBOX, TARGET, 1)]
    assert hit_keys(searchable.search("refund", target=TARGET, inbox_id="12")) == [(12, TARGET, 1)]
    assert searchable.search("refund", inbox_id=999) == []
    (hit,) = searchable.search("approved")
    assert hit.contact == "Olivia Bennett" and "approved" in hit.snippet and hit.message.text == "Your refund was approved"
    (other,) = searchable.search("request")
    assert other.contact is None  # the conversation has an empty name
    assert searchable.search("refund", inbox_id=12)[0].contact is None  # no conversation cached


def test_search_syntax_words_phrases_prefix_and_exclusion(searchable: Store) -> None:
    assert hit_keys(searchable.search("AND gate")) == [(INBOX, TARGET, 2)]  # operators are words
    assert hit_keys(searchable.search("near")) == [(INBOX, TARGET, 2)]
    assert hit_keys(searchable.search('"near the"')) == [(INBOX, TARGET, 2)]
    assert searchable.search('"the near"') == []
    assert hit_keys(searchable.search("refund approved")) == [(INBOX, TARGET, 1)]  # both words
    assert hit_keys(searchable.search("tomorr*")) == [(INBOX, TARGET, 3)]
    assert searchable.search("tomorr") == []
    assert sorted(hit_keys(searchable.search("refund -approved"))) == sorted([(INBOX, OTHER_TARGET, 1), (12, TARGET, 1)])
    assert len(searchable.search("refund", limit=2)) == 2
    assert searchable.search("refund", limit=0) == []


@pytest.mark.parametrize("query", [
    "", " ", '"', '""', '"""', "*", "**", "-", "--", "(", ")", "()", "((a", "NEAR", "NEAR(a b)", "NEAR/2",
    "AND", "OR", "NOT", "a AND", "OR b", "NOT NOT", "a:b", "text:refund", "^", "^refund", "{a b}: c", "+", "'",
    "refund\"", "\"refund", "-refund", "- refund", "refund*)", "\x00", "\x1b[31m", "👍", "👩\u200d👩\u200d👧", "🇯🇵",
    "全角ＡＢＣ", "日本語 テスト", "ﷺ", "\ud800", "e\u0301", "%", "_", "\\", "'; DROP TABLE messages; --",
    "a" * 5000, "(555)", "+1", "0", "-0134", "*refund", "re*fund", "a OR b NOT c", "\t\n",
])
def test_hostile_queries_never_raise(searchable: Store, query: str) -> None:
    hits = searchable.search(query)
    assert isinstance(hits, list) and len(hits) <= 200
    assert searchable.warnings == []  # not even a swallowed SQL error
    assert searchable.info().messages == 6


def test_search_ranks_best_match_first_then_newest(store: Store) -> None:
    filler = " ".join(f"filler{i}" for i in range(30))
    store.put_messages(INBOX, TARGET, [
        msg(1, T0 + 1, f"parcel {filler}"),
        msg(2, T0 + 2, "parcel parcel"),
        msg(3, T0 + 3, f"parcel {filler}"),
        msg(4, T0 + 4, "unrelated"),
    ])
    hits = store.search("parcel")
    assert [h.message.id for h in hits] == [2, 3, 1]
    assert hits[0].rank < hits[1].rank == hits[2].rank


def test_search_of_a_very_common_word_returns_the_newest_matches(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "RANK_MAX", 3)
    store.put_messages(INBOX, TARGET, [msg(i, T0 + i, f"common word {'x ' * i}") for i in range(10)])
    assert [h.message.id for h in store.search("common", limit=4)] == [9, 8, 7, 6]
    assert [h.message.id for h in store.search("common", limit=4, inbox_id=INBOX)] == [9, 8, 7, 6]


def test_without_fts5_search_falls_back_to_like_and_upgrades_later(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache_schema, "_fts5_available", False)
    degraded = Store.open(BASE, SECRET, directory=tmp_path)
    assert not degraded.full_text
    assert len(degraded.warnings) == 1 and "FTS5" in degraded.warnings[0]
    degraded.put_messages(INBOX, TARGET, [msg(1, T0, "refund 100%_done", author="Ann"), msg(2, T0 + 1, "other")])
    assert [h.message.id for h in degraded.search("refund")] == [1]
    assert [h.message.id for h in degraded.search("ann")] == [1]
    assert [h.message.id for h in degraded.search("0134")] == [1, 2][::-1]  # number, newest first
    assert degraded.search("%") == [] and degraded.search("_") == []
    assert [h.message.id for h in degraded.search("100%")] == [1]
    degraded.close()

    monkeypatch.setattr(cache_schema, "_fts5_available", True)
    upgraded = Store.open(BASE, SECRET, directory=tmp_path)
    assert upgraded.full_text and upgraded.warnings == []
    assert [h.message.id for h in upgraded.search("refund")] == [1]  # indexed what it never saw
    upgraded.put_messages(INBOX, TARGET, [msg(3, T0 + 2, "fresh refund")])
    assert sorted(h.message.id for h in upgraded.search("refund")) == [1, 3]
    upgraded.close()


# --- accounts, files, permissions ------------------------------------------------------------------


def test_each_account_gets_its_own_file_named_without_the_secret(tmp_path: Path) -> None:
    a = store_path(BASE, SECRET, tmp_path)
    assert a == store_path(BASE + "/", SECRET, tmp_path) == store_path("HTTPS://API.heymarket.com", SECRET, tmp_path)
    b = store_path(BASE, "secret-id-of-account-b", tmp_path)
    c = store_path("https://staging.heymarket.com", SECRET, tmp_path)
    d = store_path("http://127.0.0.1:8001", SECRET, tmp_path)
    e = store_path("http://127.0.0.1:8002", SECRET, tmp_path)
    assert len({a, b, c, d, e}) == 5
    assert a.name.startswith("api.heymarket.com-") and a.name.endswith(".sqlite3")
    assert d.name.startswith("127.0.0.1_8001-")
    for path in (a, b, c, d, e):
        assert "secret" not in path.name and "account" not in path.name


def test_two_accounts_never_see_each_others_data(tmp_path: Path) -> None:
    a = Store.open(BASE, SECRET, directory=tmp_path)
    b = Store.open(BASE, "secret-id-of-account-b", directory=tmp_path)
    c = Store.open("https://eu.heymarket.invalid", SECRET, directory=tmp_path)
    a.put_messages(INBOX, TARGET, [msg(1, T0, "only for account a")])
    a.put_inboxes([Inbox.from_raw({"id": INBOX, "name": "A"})])
    for other in (b, c):
        assert other.path != a.path
        assert other.messages(INBOX, TARGET) == [] and other.search("account") == [] and other.inboxes() == []
    assert len(a.search("account")) == 1
    for s in (a, b, c):
        s.close()
    assert len(list(tmp_path.glob("*.sqlite3"))) == 3


def test_file_is_0600_and_directory_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        directory = tmp_path / "fresh" / "cache"
        s = Store.open(BASE, SECRET, directory=directory)
        s.put_messages(INBOX, TARGET, [msg(1, T0)])
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert s.path is not None and stat.S_IMODE(s.path.stat().st_mode) == 0o600
        sidecars = [s.path.with_name(s.path.name + x) for x in ("-wal", "-shm")]
        assert any(p.exists() for p in sidecars)  # WAL mode, while open
        for sidecar in sidecars:
            if sidecar.exists():
                assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
        s.close()
    finally:
        os.umask(old)


def test_an_existing_loose_file_and_directory_are_tightened(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = store_path(BASE, SECRET, tmp_path)
    Store.open(BASE, SECRET, directory=tmp_path).close()
    path.chmod(0o644)
    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    s.close()


def test_an_unusable_directory_disables_the_cache_without_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    s = Store.open(BASE, SECRET, directory=blocker / "cache")
    assert not s.enabled and len(s.warnings) == 1
    s.put_messages(INBOX, TARGET, [msg(1, T0)])  # ignored, no raise
    assert s.messages(INBOX, TARGET) == [] and s.search("hello") == []


# --- corruption, schema versions, migrations --------------------------------------------------------


def _populated(tmp_path: Path) -> Path:
    s = Store.open(BASE, SECRET, directory=tmp_path)
    for t in range(30):
        s.put_messages(INBOX, f"t{t}", [msg(i, T0 + i, "hello world " * 30) for i in range(100)])
    path = s.path
    s.close()
    assert path is not None
    return path


def _assert_fresh_and_working(s: Store) -> None:
    assert s.enabled and s.info().messages == 0
    s.put_inboxes([Inbox.from_raw({"id": INBOX, "name": "Support"})])
    s.put_messages(INBOX, TARGET, [msg(1, T0, "after the rebuild")])
    assert ids(s.messages(INBOX, TARGET)) == [1]
    assert [h.message.id for h in s.search("rebuild")] == [1]
    assert [i.id for i in s.inboxes()] == [INBOX]


def test_a_garbage_file_is_set_aside_with_one_warning_and_rebuilt(tmp_path: Path) -> None:
    path = store_path(BASE, SECRET, tmp_path)
    path.write_bytes(b"\x00garbage, not sqlite\xff" * 500)
    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert len(s.warnings) == 1 and "set aside" in s.warnings[0]
    (aside,) = tmp_path.glob(path.name + ".corrupt-*")
    assert aside.read_bytes().startswith(b"\x00garbage")
    _assert_fresh_and_working(s)
    assert len(s.warnings) == 1
    s.close()
    again = Store.open(BASE, SECRET, directory=tmp_path)
    assert again.warnings == [] and again.info().messages == 1
    again.close()


def test_a_truncated_file_is_set_aside_and_rebuilt(tmp_path: Path) -> None:
    path = _populated(tmp_path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 3)
    s = Store.open(BASE, SECRET, directory=tmp_path)
    s.messages(INBOX, "t29")
    s.search("hello")
    assert len(s.warnings) == 1 and "set aside" in s.warnings[0]
    assert len(list(tmp_path.glob(path.name + ".corrupt-*"))) == 1
    _assert_fresh_and_working(s)
    s.close()


def test_pages_corrupted_mid_file_are_caught_at_open_or_first_read(tmp_path: Path) -> None:
    path = _populated(tmp_path)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        for offset in range(8192, size, 8192):  # leave page 1 (the schema) alone
            handle.seek(offset)
            handle.write(os.urandom(1024))
    s = Store.open(BASE, SECRET, directory=tmp_path)
    for t in (0, 15, 29):
        assert isinstance(s.messages(INBOX, f"t{t}"), list)
    assert isinstance(s.search("hello"), list)
    s.info()
    assert len(s.warnings) == 1 and "set aside" in s.warnings[0]
    assert len(list(tmp_path.glob(path.name + ".corrupt-*"))) == 1
    _assert_fresh_and_working(s)
    s.close()


def _corrupt_while_open(path: Path) -> None:
    """Overwrite every page past the first few (the schema, the roots the open touched) with
    random bytes, under a store that already has the file open."""
    import random

    noise = random.Random(0)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        for offset in range(4096 * 8, size, 4096):
            handle.seek(offset)
            handle.write(noise.randbytes(4096))


@pytest.mark.parametrize("first_call", ["read", "write", "search"])
def test_corruption_found_mid_session_is_set_aside_and_rebuilt(tmp_path: Path, first_call: str) -> None:
    path = _populated(tmp_path)
    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert s.warnings == []
    _corrupt_while_open(path)
    if first_call == "read":
        assert s.messages(INBOX, "t15") == []
    elif first_call == "search":
        assert s.search("hello") == []
    else:
        s.put_messages(INBOX, "t15", [msg(500, T0, "written as corruption was found")])
    assert len(s.warnings) == 1 and "set aside" in s.warnings[0]
    assert len(list(tmp_path.glob(path.name + ".corrupt-*"))) == 1
    if first_call == "write":  # the write was retried on the new file
        assert ids(s.messages(INBOX, "t15")) == [500]
        assert s.info().messages == 1
    else:
        _assert_fresh_and_working(s)
    assert len(s.warnings) == 1
    s.close()


def test_a_database_that_is_not_a_cache_is_set_aside(tmp_path: Path) -> None:
    path = store_path(BASE, SECRET, tmp_path)
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE something_else (x)")
    other.commit()
    other.close()
    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert len(s.warnings) == 1 and len(list(tmp_path.glob(path.name + ".corrupt-*"))) == 1
    _assert_fresh_and_working(s)
    s.close()


def test_a_cache_with_a_broken_schema_is_set_aside(tmp_path: Path) -> None:
    path = _populated(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE threads")
    conn.commit()
    conn.close()
    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert len(s.warnings) == 1
    _assert_fresh_and_working(s)
    s.close()


def test_a_file_from_a_newer_version_is_set_aside_and_rebuilt(tmp_path: Path) -> None:
    path = _populated(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (cache_schema.SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert len(s.warnings) == 1 and "newer" in s.warnings[0]
    (aside,) = tmp_path.glob(path.name + ".newer-*")
    kept = sqlite3.connect(aside)
    assert kept.execute("SELECT count(*) FROM messages").fetchone() == (3000,)  # intact, for the newer hmtui
    kept.close()
    _assert_fresh_and_working(s)
    s.close()


def test_an_old_file_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    assert len(cache_schema.MIGRATIONS) >= 2
    path = store_path(BASE, SECRET, tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    cache_schema.migrate(conn, cache_schema.MIGRATIONS[:1])
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (1,)
    raw = {"id": 77, "date": T0, "text": "written by version one", "x_old": True}
    conn.execute(
        "INSERT INTO messages (inbox_id, target, id, date, text, author, numbers, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (INBOX, TARGET, 77, T0, raw["text"], None, TARGET, json.dumps(raw)),
    )
    conn.close()

    s = Store.open(BASE, SECRET, directory=tmp_path)
    assert s.warnings == []
    (back,) = s.messages(INBOX, TARGET)
    assert back.id == 77 and back.raw == raw
    assert s.thread_state(INBOX, TARGET) == ThreadState(count=1, oldest=T0, newest=T0, complete=False)
    s.mark_thread_complete(INBOX, TARGET)  # a table version 2 added
    assert s.thread_state(INBOX, TARGET).complete
    assert [h.message.id for h in s.search("version")] == [77]  # indexed on the way up
    s.close()
    check = sqlite3.connect(path)
    assert check.execute("SELECT version FROM schema_version").fetchone() == (cache_schema.SCHEMA_VERSION,)
    check.close()


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    cache_schema.migrate(conn, cache_schema.MIGRATIONS[:1])
    with pytest.raises(sqlite3.Error):
        cache_schema.migrate(conn, [*cache_schema.MIGRATIONS, "CREATE TABLE half (x); CREATE TABLE broken (;"])
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (1,)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "threads" not in names and "half" not in names
    conn.close()


# --- null store, clear, info, close -------------------------------------------------------------------


def test_the_null_store_keeps_nothing_and_touches_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "cache_dir", lambda: tmp_path / "must-not-exist")
    for s in (Store.disabled(), NullStore()):
        assert isinstance(s, Store) and not s.enabled and s.path is None
        s.put_inboxes([Inbox.from_raw({"id": 1})])
        s.put_team(Team.from_raw({"id": 1}))
        s.put_conversations([conv(1)])
        s.put_messages(INBOX, TARGET, [msg(1, T0)])
        s.mark_thread_complete(INBOX, TARGET)
        writer = StoreWriter(s)
        writer.submit("put_messages", INBOX, TARGET, [msg(2, T0)])
        assert writer.flush(timeout=60)
        writer.close()
        assert writer.errors == []
        assert s.inboxes() == [] and s.team() is None and s.conversations(INBOX) == []
        assert s.messages(INBOX, TARGET) == [] and s.message_ids(INBOX, TARGET) == []
        assert s.thread_state(INBOX, TARGET) == ThreadState(0, None, None, False)
        assert s.search("hello") == []
        info = s.info()
        assert (info.path, info.size_bytes, info.messages, info.threads) == (None, 0, 0, 0)
        s.clear()
        s.close()
    assert list(tmp_path.iterdir()) == []


def test_clear_deletes_the_files_and_a_later_open_starts_empty(tmp_path: Path) -> None:
    path = store_path(BASE, SECRET, tmp_path)
    path.write_bytes(b"garbage" * 100)
    s = Store.open(BASE, SECRET, directory=tmp_path)  # leaves a .corrupt-* copy
    s.put_messages(INBOX, TARGET, [msg(1, T0)])
    other = Store.open(BASE, "another account", directory=tmp_path)
    other.put_messages(INBOX, TARGET, [msg(1, T0)])
    s.clear()
    assert not any(p.name.startswith(path.name) for p in tmp_path.iterdir())
    assert s.messages(INBOX, TARGET) == [] and not s.enabled
    s.put_messages(INBOX, TARGET, [msg(2, T0)])  # after clear: ignored, no file comes back
    assert not path.exists()
    assert other.info().messages == 1  # the other account is untouched
    other.close()
    again = Store.open(BASE, SECRET, directory=tmp_path)
    assert again.info().messages == 0 and again.warnings == []
    again.close()


def test_info_counts(store: Store) -> None:
    store.put_inboxes([Inbox.from_raw({"id": 1}), Inbox.from_raw({"id": 2})])
    store.put_conversations([conv(1, target="a"), conv(2, target="b"), conv(3, target="c")])
    store.put_messages(1, "a", [msg(i, T0 + i) for i in range(5)])
    store.put_messages(1, "b", [msg(i, T0 + i) for i in range(2)])
    store.put_messages(2, "a", [msg(1, T0)])
    info = store.info()
    assert (info.inboxes, info.conversations, info.messages, info.threads) == (2, 3, 8, 3)
    assert info.path == store.path and info.size_bytes > 0


def test_a_closed_store_reads_empty_and_ignores_writes(store: Store) -> None:
    store.put_messages(INBOX, TARGET, [msg(1, T0)])
    store.close()
    assert store.messages(INBOX, TARGET) == [] and store.search("hello") == []
    store.put_messages(INBOX, TARGET, [msg(2, T0)])
    reopened = Store.open(BASE, SECRET, directory=store.path.parent)
    assert ids(reopened.messages(INBOX, TARGET)) == [1]
    reopened.close()


def test_a_failed_direct_write_raises_cache_error(store: Store) -> None:
    store._wconn.execute("PRAGMA query_only = 1")  # as if the disk refused writes
    with pytest.raises(CacheError):
        store.put_messages(INBOX, TARGET, [msg(1, T0)])
    store._wconn.execute("PRAGMA query_only = 0")
    store.put_messages(INBOX, TARGET, [msg(1, T0)])
    assert store.info().messages == 1


# --- the writer thread ------------------------------------------------------------------------------


class GatedStore:
    """Wraps a store's apply_batch: records batch sizes; the first batch waits for a gate."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self._real = store.apply_batch
        store.apply_batch = self.apply_batch  # type: ignore[method-assign]

    def apply_batch(self, calls):
        self.entered.set()
        assert self.gate.wait(10)
        self.sizes.append(len(calls))
        return self._real(calls)


def test_writer_batches_what_is_queued_and_flush_waits(store: Store) -> None:
    gated = GatedStore(store)
    writer = StoreWriter(store)
    writer.submit("put_messages", INBOX, TARGET, [msg(0, T0)])
    assert gated.entered.wait(10)  # the writer holds the first call
    for i in range(1, 50):
        writer.submit("put_messages", INBOX, TARGET, [msg(i, T0 + i)])
    writer.submit("mark_thread_complete", INBOX, TARGET)
    assert store.info().messages == 0  # nothing written yet: submit never writes
    assert not writer.flush(timeout=0.05)
    gated.gate.set()
    assert writer.flush(timeout=10)
    assert gated.sizes == [1, 50]  # everything queued meanwhile went in one transaction
    assert store.info().messages == 50 and store.thread_state(INBOX, TARGET).complete
    assert writer.errors == []
    writer.close()


def test_writer_submit_copies_lists_and_rejects_unknown_methods(store: Store) -> None:
    gated = GatedStore(store)
    writer = StoreWriter(store)
    batch = [msg(1, T0)]
    writer.submit("put_messages", INBOX, TARGET, batch)
    batch.append(msg(2, T0))  # the caller keeps using its list
    with pytest.raises(ValueError):
        writer.submit("clear")
    with pytest.raises(ValueError):
        writer.submit("no_such_method")
    gated.gate.set()
    assert writer.flush(10)
    assert ids(store.messages(INBOX, TARGET)) == [1]
    writer.close()


def test_a_failing_write_is_recorded_and_the_writer_keeps_going(store: Store) -> None:
    gated = GatedStore(store)
    writer = StoreWriter(store)
    writer.submit("put_messages", INBOX, TARGET, [msg(1, T0)])
    assert gated.entered.wait(10)
    writer.submit("put_messages", INBOX, None, [msg(2, T0)])  # bad arguments
    writer.submit("put_messages", INBOX, TARGET, [object()])  # not a message
    writer.submit("put_messages", INBOX, TARGET, [msg(3, T0)])
    gated.gate.set()
    assert writer.flush(10)
    assert len(writer.errors) == 2
    assert ids(store.messages(INBOX, TARGET)) == [3, 1]  # the good calls of the batch survived

    store._wconn.execute("PRAGMA query_only = 1")  # the disk refuses writes
    writer.submit("put_messages", INBOX, TARGET, [msg(4, T0)])
    assert writer.flush(10)
    assert len(writer.errors) == 3 and "lost" in writer.errors[-1]
    store._wconn.execute("PRAGMA query_only = 0")
    writer.submit("put_messages", INBOX, TARGET, [msg(5, T0)])
    assert writer.flush(10)
    assert 5 in store.message_ids(INBOX, TARGET) and len(writer.errors) == 3
    writer.close()
    writer.submit("put_messages", INBOX, TARGET, [msg(6, T0)])  # after close: dropped, recorded
    assert 6 not in store.message_ids(INBOX, TARGET) and len(writer.errors) == 4


def test_reads_from_another_thread_while_the_writer_writes(store: Store) -> None:
    """Readers on other threads see whole batches: a snapshot holds every message of a batch or
    none of it, is consistent within a read, and never goes back. The writer waits until a reader
    has seen each batch before it sends the next, so reads and writes really interleave."""
    chunks, size = 20, 50
    writer = StoreWriter(store)
    problems: list[BaseException] = []
    stop = threading.Event()
    seen = threading.Condition()
    observed: list[int] = []  # every count a reader saw

    def check_once(last: int) -> int:
        state = store.thread_state(INBOX, TARGET)
        count = state.count
        assert count % size == 0, f"a torn batch: {count} messages"
        assert count >= last, f"went back from {last} to {count}"
        if count:  # message n is dated T0 + n: one snapshot, so these agree with the count
            assert (state.oldest, state.newest) == (T0, T0 + count - 1), (count, state)
        page = ids(store.messages(INBOX, TARGET, limit=20))
        if page:  # the newest 20 of some whole number of batches, none missing in between
            top = page[0]
            assert (top + 1) % size == 0 and top + 1 >= count, (count, page)
            assert page == list(range(top, top - min(20, top + 1), -1)), page
        hits = store.search("hello", target=TARGET, limit=1000)
        assert len(hits) % size == 0 and len(hits) >= count, len(hits)
        with seen:
            observed.append(count)
            seen.notify_all()
        return count

    def reader() -> None:
        last = 0
        try:
            while not stop.is_set():
                last = check_once(last)
            assert check_once(last) == chunks * size  # one more read once the writer is done
        except BaseException as exc:  # reported below
            with seen:
                problems.append(exc)
                seen.notify_all()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for chunk in range(chunks):
            writer.submit("put_messages", INBOX, TARGET,
                          [msg(chunk * size + i, T0 + chunk * size + i) for i in range(size)])
            with seen:
                assert seen.wait_for(lambda: (chunk + 1) * size in observed or problems, timeout=30), chunk
            assert problems == [], problems
        assert writer.flush(30)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        writer.close()
    assert problems == [] and writer.errors == [] and store.warnings == []
    assert not any(t.is_alive() for t in threads)
    assert set(range(size, chunks * size + 1, size)) <= set(observed)  # every batch was seen
    assert store.thread_state(INBOX, TARGET).count == chunks * size


# --- performance ----------------------------------------------------------------------------------------

VOCABULARY = (
    "hello thanks order delivery refund invoice appointment tomorrow today schedule pickup window price quote "
    "great sorry please confirm address payment card receipt tracking package store hours open closed monday "
    "friday weekend morning afternoon evening call back later soon ready shipped arrived damaged return exchange"
).split()


def sqlite_steps(conn: sqlite3.Connection, fn) -> int:
    """The work `fn` makes SQLite do on `conn`, in units of 10 virtual-machine instructions: the
    same on a fast machine and a loaded one, unlike a stopwatch."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0  # go on

    conn.set_progress_handler(tick, 10)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 10)
    return ticks[0]


def test_performance_with_100k_messages(tmp_path: Path) -> None:
    """The complexity claims behind the cache's speed, counted in SQLite's own work: a page of a
    thread costs the same on 20,000 messages as on 500, a word search reads the index rather than
    the messages, and a write does not grow with the store. The timings are python -m hmtui.bench's."""
    import random

    rng = random.Random(5)
    s = Store.open(BASE, SECRET, directory=tmp_path)
    threads, per_thread = 200, 500
    for t in range(threads):
        target = f"1555{t:07d}"
        batch = []
        for i in range(per_thread):
            n = t * per_thread + i
            words = [rng.choice(VOCABULARY) for _ in range(rng.randint(4, 18))]
            if n % 997 == 0:
                words.append("zanzibar")  # a rare word: ~100 hits
            batch.append(Message.from_raw({"id": n, "date": T0 + n * 3, "text": " ".join(words),
                                            "author": f"Agent {t % 9}", "phone": "15550001111", "target": target}))
        s.put_messages(1 + t % 3, target, batch)
    big = [Message.from_raw({"id": i, "date": T0 + i, "text": f"thread message {i}"}) for i in range(20_000)]
    s.put_messages(1, "1555big", big)
    assert s.info().messages == threads * per_thread + 20_000
    small = "15550000003"  # 500 messages, in inbox 1, ids 1500-1999
    assert s.thread_state(1, small).count == per_thread

    def reads(fn) -> int:
        return sqlite_steps(s._rconn, fn)

    # What a query that cannot use an index costs: every message read once.
    scan = reads(lambda: s._rconn.execute("SELECT count(*) FROM messages WHERE raw LIKE '%zanzibar%'").fetchone())
    figures = {
        "scan of every message": scan,
        "search rare word": reads(lambda: s.search("zanzibar")),
        "search number tail": reads(lambda: s.search("0000042")),
        "search common word": reads(lambda: s.search("refund")),
        "messages(limit=50) on 20k thread": reads(lambda: s.messages(1, "1555big", limit=50)),
        "messages(limit=50) on 500 thread": reads(lambda: s.messages(1, small, limit=50)),
        "messages(limit=50, before) on 20k thread": reads(lambda: s.messages(1, "1555big", limit=50, before=T0 + 500)),
        "messages(limit=50, before) on 500 thread": reads(lambda: s.messages(1, small, limit=50, before=T0 + 5250)),
    }
    counter = iter(range(10**9))

    def put_50(store: Store) -> int:
        batch = [msg(next(counter), T0 + 1, "fresh words here") for _ in range(50)]
        return sqlite_steps(store._wconn, lambda: store.put_messages(1, "1555new", batch))

    empty = Store.open(BASE, "another-account", directory=tmp_path)
    figures["put_messages x50 into an empty store"] = put_50(empty)
    figures["put_messages x50 into 120k"] = put_50(s)
    print("\nSQLite work (x10 instructions):")
    for name, value in figures.items():
        print(f"  {name:45s} {value:7d}")

    assert len(s.search("refund")) == 200 and len(s.search("refund", limit=17)) == 17
    assert len(s.search("zanzibar")) == len(range(0, threads * per_thread, 997))
    assert ids(s.messages(1, "1555big", limit=50, before=T0 + 500)) == list(range(499, 449, -1))
    assert ids(s.messages(1, small, limit=50, before=T0 + 5250)) == list(range(1749, 1699, -1))
    # A page does not grow with the thread: 40 times the messages, about the same work.
    for query in ("messages(limit=50)", "messages(limit=50, before)"):
        on_big, on_small = figures[f"{query} on 20k thread"], figures[f"{query} on 500 thread"]
        assert on_big <= 1.5 * on_small + 5, (query, on_big, on_small)
    # Rare words and number tails are found through the index: a small part of one scan.
    assert figures["search rare word"] * 20 < scan
    assert figures["search number tail"] * 10 < scan
    # A common word ranks its ~8,000 hits, still well under reading every message.
    assert figures["search common word"] < scan
    # A write costs the same into 120,000 messages as into none.
    assert figures["put_messages x50 into 120k"] <= 1.5 * figures["put_messages x50 into an empty store"], figures
    empty.close()
    s.close()


@pytest.mark.parametrize("damage", [None, "not json", '{"id": 7, "text": "a"}, {"id": 8}', "[1, 2]", "{}", '"text"',
                                    '{"id": 9, "text": "}, {"}', "{[}"])
def test_a_page_of_rows_reads_as_row_by_row_whatever_a_row_holds(store: Store, damage: str | None) -> None:
    """A page of cached messages is decoded as one JSON array (one call, not one per row); a row
    that is not exactly one object, however damaged, is skipped or read alone, never shifting
    the others: every message comes back with its own text and the JSON it was stored as."""
    texts = ["plain", 'quote " }, { brace', "emoji 👍", "\\u escape", "ctrl \x1b[31m", "}{"]
    messages = [msg(100 + k, date=T0 + k, text=t) for k, t in enumerate(texts)]
    store.put_messages(INBOX, TARGET, messages)
    if damage is not None:
        conn = sqlite3.connect(store.path)
        with conn:
            conn.execute("UPDATE messages SET raw = ? WHERE id = 102", (damage,))
        conn.close()
    got = store.messages(INBOX, TARGET)
    expected = [m for m in reversed(messages) if damage is None or m.id != 102]
    if damage is not None and (one := store_module._loads(damage)) is not None and Message.from_raw(one):
        expected.insert(len(texts) - 1 - 2, Message.from_raw(one))  # the damaged row, read alone
    assert [(m.id, m.text) for m in got] == [(m.id, m.text) for m in expected]
    for m in got:
        assert m.source is not None and json.loads(m.source) == m.raw


def test_rows_crafted_to_pair_up_do_not_shift_a_page(store: Store) -> None:
    """Two rows that make one object when joined and a row holding two keep the array's length:
    the ids, checked against the rows', show the shift, and the page is read row by row."""
    messages = [msg(100 + k, date=T0 + k, text=f"message {k}") for k in range(6)]
    store.put_messages(INBOX, TARGET, messages)
    conn = sqlite3.connect(store.path)
    with conn:
        # Newest first: 103 and 102 join into one object, 101 holds two.
        for id_, raw in ((103, '{"id": 103, "k": "}'), (102, '{", "text": "joined"}'),
                         (101, '{"id": 101, "text": "x"}, {"id": 77, "text": "extra"}')):
            conn.execute("UPDATE messages SET raw = ? WHERE id = ?", (raw, id_))
    conn.close()
    got = store.messages(INBOX, TARGET)
    assert [(m.id, m.text) for m in got] == [(105, "message 5"), (104, "message 4"), (100, "message 0")]
