"""VirtualList, ConversationList and InboxSidebar, driven through Textual's Pilot."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime, timezone
from typing import Any

import pytest
from rich.cells import cell_len
from textual import on
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from hmtui.api.models import Conversation, Inbox
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar, format_phone
from hmtui.ui.widgets.virtual_list import VirtualList, fit_cells

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


def conv(id_: int, **fields: Any) -> Conversation:
    raw = {"id": id_, "name": f"Contact {id_}", "target": f"1415555{id_:04d}",
           "updated": "2026-11-20T14:00:00Z", **fields}
    made = Conversation.from_raw(raw)
    assert made is not None
    return made


def convs(n: int, start: int = 1) -> list[Conversation]:
    return [conv(i) for i in range(start, start + n)]


def many_convs(n: int) -> list[Conversation]:
    """Cheap copies of one parsed conversation (parsing 100,000 would dominate the test)."""
    proto = conv(1, last_msg="hello")
    return [dataclasses.replace(proto, id=i, name=f"Contact {i}") for i in range(n)]


def inbox(id_: int, name: str, phone: str | None = "14155550100", **fields: Any) -> Inbox:
    made = Inbox.from_raw({"id": id_, "name": name, "phone": phone, **fields})
    assert made is not None
    return made


class Host(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.events: list[tuple[str, Any, Any]] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    @on(VirtualList.Highlighted)
    def _highlighted(self, event: VirtualList.Highlighted) -> None:
        self.events.append(("highlighted", event.index, event.item))

    @on(VirtualList.Selected)
    def _selected(self, event: VirtualList.Selected) -> None:
        self.events.append(("selected", event.index, event.item))

    @on(VirtualList.NearEnd)
    def _near_end(self, event: VirtualList.NearEnd) -> None:
        self.events.append(("near_end", None, None))

    def kinds(self, kind: str) -> list[tuple[str, Any, Any]]:
        return [e for e in self.events if e[0] == kind]


def lines(widget: VirtualList) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


def strips(widget: VirtualList) -> list[Strip]:
    return [widget.render_line(y) for y in range(widget.size.height)]


def first_bg(widget: VirtualList, y: int) -> Any:
    segment = next(iter(widget.render_line(y)))
    assert segment.style is not None
    return segment.style.bgcolor


def cursor_visible(widget: VirtualList) -> bool:
    assert widget.cursor is not None
    top = widget.scroll_offset.y
    row_top = widget.cursor * widget.ROW_HEIGHT
    return top <= row_top and row_top + widget.ROW_HEIGHT <= top + widget.scrollable_content_region.height


# -- rendering ---------------------------------------------------------------------------------


async def test_conversation_row_shows_name_badges_time_and_snippet() -> None:
    items = [
        conv(1, name="Bob Smith", unread=True, assigned=5, updated="2026-11-20T14:55:00Z",
             last_msg={"text": "See you\nat noon"}),
        conv(2, name="Carol", status="closed", updated="2026-11-19T14:00:00Z"),
        conv(3, name="", target="14155550123", updated="2026-03-02T10:00:00Z"),
    ]
    widget = ConversationList(clock=clock, member_names={5: "Alice"})
    app = Host(widget)
    async with app.run_test(size=(60, 10)) as pilot:
        widget.set_items(items)
        await pilot.pause()
        text = lines(widget)
        assert "Bob Smith ● @Alice" in text[0] and text[0].rstrip().endswith("5m")
        assert "See you at noon" in text[1]
        assert "Carol closed" in text[2] and text[2].rstrip().endswith("1d")
        assert "@" not in text[2] and "●" not in text[2]
        assert "+1 415 555 0002" in text[3]  # no snippet: the number
        assert text[4].startswith(" +1 415 555 0123") and text[4].rstrip().endswith("2 Mar")
        assert all(s.cell_length == widget.scrollable_content_region.width for s in strips(widget))
        # Unread names are bold, read ones are not.
        bob = next(seg for seg in widget.render_line(0) if seg.text == "Bob Smith")
        carol = next(seg for seg in widget.render_line(2) if seg.text == "Carol")
        assert bob.style.bold and not carol.style.bold
        # Member names arriving later re-render the badge.
        widget.set_member_names({5: "Zed"})
        await pilot.pause()
        assert "@Zed" in widget.render_line(0).text


async def test_cursor_row_is_highlighted_and_stronger_when_focused() -> None:
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(60, 10)) as pilot:
        widget.set_items(convs(3))
        await pilot.pause()
        assert widget.has_focus
        focused_bg = first_bg(widget, 0)
        plain_bg = first_bg(widget, 2)
        assert widget.render_line(0).text.startswith("▌") and not widget.render_line(2).text.startswith("▌")
        assert focused_bg != plain_bg
        widget.blur()
        await pilot.pause()
        assert first_bg(widget, 0) not in (focused_bg, plain_bg, None)


async def test_empty_text_is_centred() -> None:
    widget = ConversationList(clock=clock, empty_text="Loading…")
    app = Host(widget)
    async with app.run_test(size=(40, 9)) as pilot:
        await pilot.pause()
        text = lines(widget)
        assert text[4].strip() == "Loading…" and text[4].index("L") > 10
        widget.set_empty_text("[b]No matches[/b]")
        await pilot.pause()
        assert "[b]No matches[/b]" in lines(widget)[4]
        widget.set_items(convs(1))
        await pilot.pause()
        assert "Contact 1" in lines(widget)[0] and not any("No matches" in t for t in lines(widget))


# -- keys, clicks and messages -----------------------------------------------------------------


async def test_keys_move_the_cursor_and_keep_it_visible() -> None:
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 10)) as pilot:  # 5 rows visible
        widget.set_items(convs(40))
        await pilot.pause()
        assert widget.cursor == 0
        await pilot.press("j", "down", "j")
        assert widget.cursor == 3
        await pilot.press("k", "up")
        assert widget.cursor == 1
        await pilot.press("G")
        assert widget.cursor == 39 and cursor_visible(widget)
        await pilot.press("g")
        assert widget.cursor == 0 and widget.scroll_offset.y == 0
        await pilot.press("end")
        assert widget.cursor == 39
        await pilot.press("home")
        assert widget.cursor == 0
        await pilot.press("pagedown")
        page = widget.cursor
        assert page is not None and 2 <= page <= 5 and cursor_visible(widget)
        await pilot.press("pagedown", "pagedown")
        assert widget.cursor == 3 * page and cursor_visible(widget)
        await pilot.press("pageup")
        assert widget.cursor == 2 * page and cursor_visible(widget)
        for _ in range(12):
            await pilot.press("j")
            assert cursor_visible(widget)
        await pilot.pause()
        assert f"Contact {widget.cursor + 1}" in "".join(lines(widget))
        await pilot.press("g", "k", "up")  # at the top already
        assert widget.cursor == 0 and widget.scroll_offset.y == 0
        await pilot.press("G", "j", "down", "pagedown")  # at the bottom already
        assert widget.cursor == 39 and cursor_visible(widget)


async def test_highlighted_and_selected_messages() -> None:
    items = convs(5)
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(items)
        await pilot.pause()
        app.events.clear()
        await pilot.press("j")
        await pilot.pause()
        assert app.kinds("highlighted") == [("highlighted", 1, items[1])]
        await pilot.press("g")
        await pilot.press("k")  # already at the top: no message
        await pilot.pause()
        assert app.kinds("highlighted")[-1] == ("highlighted", 0, items[0])
        assert len(app.kinds("highlighted")) == 2
        await pilot.press("enter")
        await pilot.pause()
        assert app.kinds("selected") == [("selected", 0, items[0])]
        # Subclass messages get their own handler names.
        assert ConversationList.Selected.handler_name == "on_conversation_list_selected"
        assert InboxSidebar.Selected.handler_name == "on_inbox_sidebar_selected"


async def test_click_moves_cursor_and_selects() -> None:
    items = convs(10)
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(items)
        await pilot.pause()
        app.events.clear()
        assert await pilot.click(widget, offset=(5, 7))  # line 7 = second line of row 3
        await pilot.pause()
        assert widget.cursor == 3
        assert app.kinds("selected") == [("selected", 3, items[3])]
        assert ("highlighted", 3, items[3]) in app.events
        assert await pilot.click(widget, offset=(5, 11))  # below? row 5, still an item
        await pilot.pause()
        assert widget.cursor == 5


async def test_near_end_once_per_extend() -> None:
    widget = ConversationList(clock=clock, near_end_rows=3)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(convs(10))
        await pilot.pause()
        await pilot.press(*["j"] * 6)
        await pilot.pause()
        assert app.kinds("near_end") == []
        await pilot.press("j")  # index 7: within 3 of the end (10)
        await pilot.pause()
        assert len(app.kinds("near_end")) == 1
        await pilot.press("j", "j", "k", "j")
        await pilot.pause()
        assert len(app.kinds("near_end")) == 1
        widget.extend(convs(10, start=11))
        await pilot.pause()
        assert widget.cursor == 9 and len(widget.items) == 20
        assert len(app.kinds("near_end")) == 1  # extending does not move the cursor
        await pilot.press(*["j"] * 7)
        await pilot.pause()
        assert len(app.kinds("near_end")) == 1
        await pilot.press("j")  # index 17
        await pilot.pause()
        assert len(app.kinds("near_end")) == 2
        await pilot.press("G", "g", "G")
        await pilot.pause()
        assert len(app.kinds("near_end")) == 2
        widget.set_items(convs(5))
        await pilot.pause()
        await pilot.press("g", "j")
        await pilot.pause()
        assert len(app.kinds("near_end")) == 2
        await pilot.press("j")  # index 2 of 5
        await pilot.pause()
        assert len(app.kinds("near_end")) == 3


# -- changing the items ------------------------------------------------------------------------


async def test_set_items_keeps_cursor_on_key_or_clamps() -> None:
    items = convs(10)
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(items)
        widget.move_cursor(4)
        await pilot.pause()
        assert widget.highlighted is items[4]
        widget.set_items(list(reversed(items)), keep=items[4].id)
        await pilot.pause()
        assert widget.cursor == 5 and widget.highlighted is items[4]
        assert widget.index_of(items[4].id) == 5 and widget.index_of(12345) is None
        widget.set_items(convs(3, start=100), keep=items[4].id)  # gone: the index clamps
        await pilot.pause()
        assert widget.cursor == 2
        assert app.kinds("highlighted")[-1][1] == 2
        assert "Contact 100" in lines(widget)[0]
        widget.set_items([])
        await pilot.pause()
        assert widget.cursor is None and widget.highlighted is None
        assert app.kinds("highlighted")[-1] == ("highlighted", None, None)
        with pytest.raises(TypeError):
            widget.items[0] = items[0]  # type: ignore[index]


async def test_extend_appends_without_moving_and_skips_duplicates() -> None:
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(convs(3))
        widget.move_cursor(1)
        widget.extend(convs(3, start=4) + [conv(2, name="Renamed")])
        await pilot.pause()
        assert [c.id for c in widget.items] == [1, 2, 3, 4, 5, 6]
        assert widget.cursor == 1 and widget.highlighted is not None
        assert widget.highlighted.name == "Renamed"
        assert "Renamed" in lines(widget)[2]
        empty = ConversationList(clock=clock)
        await app.mount(empty)
        empty.extend(convs(2))
        assert empty.cursor == 0


class CountingList(ConversationList):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.rendered: list[object] = []

    def render_row(self, item: Conversation, width: int, selected: bool, focused: bool) -> list[Strip]:
        self.rendered.append(item.id)
        return super().render_row(item, width, selected, focused)


async def test_update_item_rerenders_only_that_row() -> None:
    widget = CountingList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(convs(5))
        await pilot.pause()
        assert "Contact 3" in lines(widget)[4]
        widget.rendered.clear()
        lines(widget)
        assert widget.rendered == []  # cached
        widget.update_item(conv(3, name="Dana", unread=True))
        await pilot.pause()
        assert set(widget.rendered) == {3}
        widget.rendered.clear()
        text = lines(widget)
        assert widget.rendered == []
        assert "Dana ●" in text[4] and "Contact 3" not in "".join(text)
        widget.update_item(conv(999, name="Nobody"))  # not loaded: ignored
        await pilot.pause()
        assert len(widget.items) == 5 and "Nobody" not in "".join(lines(widget))


async def test_remove_key_moves_cursor_sensibly() -> None:
    items = convs(5)
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(items)
        widget.move_cursor(2)
        widget.remove_key(3)  # under the cursor: the next one takes its place
        await pilot.pause()
        assert [c.id for c in widget.items] == [1, 2, 4, 5]
        assert widget.cursor == 2 and widget.highlighted is items[3]
        assert widget.index_of(5) == 3 and widget.index_of(3) is None
        assert app.kinds("highlighted")[-1] == ("highlighted", 2, items[3])
        widget.remove_key(1)  # above the cursor: it stays on the same conversation
        assert widget.cursor == 1 and widget.highlighted is items[3]
        widget.move_cursor(2)
        widget.remove_key(5)  # the last one: the cursor goes up
        assert widget.cursor == 1 and widget.highlighted is items[3]
        widget.remove_key(42)  # unknown: nothing happens
        widget.remove_key(2)
        widget.remove_key(4)
        await pilot.pause()
        assert widget.cursor is None and list(widget.items) == []
        assert app.kinds("highlighted")[-1] == ("highlighted", None, None)
        assert "No conversations" in "".join(lines(widget))


async def test_filter_by_name_number_and_snippet_keeps_cursor() -> None:
    items = [
        conv(1, name="Alice Jones", last_msg="invoice attached"),
        conv(2, name="Bob", target="14155550199"),
        conv(3, name="ALICE two"),
        conv(4, name="Carol", last_msg="About the INVOICE"),
    ]
    widget = ConversationList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(50, 12)) as pilot:
        widget.set_items(items)
        widget.move_cursor(2)
        widget.set_filter("alice")
        await pilot.pause()
        assert widget.filter_text == "alice"
        assert [c.id for c in widget.items] == [1, 3] and widget.total_count == 4
        assert widget.highlighted is items[2] and widget.cursor == 1
        assert "Bob" not in "".join(lines(widget))
        widget.set_filter("Invoice")
        assert [c.id for c in widget.items] == [1, 4]
        widget.set_filter("415 555-0199")  # formatting does not matter for numbers
        assert [c.id for c in widget.items] == [2]
        widget.set_filter("zzz")
        await pilot.pause()
        assert widget.cursor is None and list(widget.items) == []
        widget.set_filter("o")
        widget.move_cursor(1)
        assert widget.highlighted is items[1]
        # Changes keep working with a filter on.
        widget.extend([conv(5, name="Oscar"), conv(6, name="Zed")])
        assert [c.id for c in widget.items] == [1, 2, 3, 4, 5] and widget.total_count == 6
        widget.update_item(conv(6, name="Zoe"))
        assert [c.id for c in widget.items] == [1, 2, 3, 4, 5, 6]
        widget.update_item(conv(1, name="Zack", last_msg="yes"))
        assert [c.id for c in widget.items] == [2, 3, 4, 5, 6]
        assert widget.highlighted is items[1]
        widget.remove_key(3)
        assert [c.id for c in widget.items] == [2, 4, 5, 6] and widget.total_count == 5
        widget.set_filter("")
        await pilot.pause()
        assert [c.id for c in widget.items] == [1, 2, 4, 5, 6]
        assert widget.highlighted is items[1] and "Zack" in lines(widget)[0]


# -- inbox sidebar -----------------------------------------------------------------------------


def test_format_phone() -> None:
    assert format_phone("14155550100") == "+1 415 555 0100"
    assert format_phone("+1 (415) 555-0100") == "+1 415 555 0100"
    assert format_phone("442012345678") == "+442012345678"
    assert format_phone("4155550100") == "+4155550100"
    assert format_phone(None) == ""
    assert format_phone("") == ""
    assert format_phone("HEYMKT") == "HEYMKT"
    assert format_phone("1415\x1b[31m5550100") == "1415␛[31m5550100"


async def test_inbox_sidebar_rows_and_counts() -> None:
    widget = InboxSidebar()
    app = Host(widget)
    async with app.run_test(size=(30, 10)) as pilot:
        widget.set_items([
            inbox(1, "Sales"),
            inbox(2, "Support", phone=None, phones=["442012345678", "14155550111"]),
            inbox(3, "Quiet", phone=None),
        ])
        await pilot.pause()
        text = lines(widget)
        assert "Sales" in text[0] and "open" not in text[0] and "●" not in text[0]
        assert "+1 415 555 0100" in text[1]
        assert "+442012345678 +1" in text[3]
        assert "no number" in text[5]
        assert widget.counts(1) == (None, None)
        widget.set_counts(1, open=12, unread=3)
        widget.set_counts(2, open=100, unread=100, more=True)
        widget.set_counts(3, open=0, unread=0)
        await pilot.pause()
        text = lines(widget)
        assert text[0].rstrip().endswith("●3 12 open") and text[0].startswith("▌Sales")
        assert "●100+ 100+ open" in text[2]
        assert "0 open" in text[4] and "●" not in text[4]
        assert widget.counts(1) == (12, 3) and widget.counts(2) == (100, 100)
        widget.set_counts(1, open=None, unread=None)
        await pilot.pause()
        assert "open" not in lines(widget)[0]
        name = next(seg for seg in widget.render_line(0) if seg.text == "Sales")
        assert name.style.bold
        await pilot.press("j")
        assert widget.highlighted is not None and widget.highlighted.id == 2
        await pilot.press("enter")
        await pilot.pause()
        assert app.kinds("selected")[-1][2].id == 2


def test_binding_ids_are_prefixed() -> None:
    def ids(cls: type[VirtualList]) -> set[str]:
        return {b.id for bs in cls._merged_bindings.key_to_bindings.values() for b in bs if b.id}  # type: ignore[union-attr]

    assert {"list.down", "list.up", "list.first", "list.last", "list.open"} <= ids(VirtualList)
    assert {"conversations.down", "conversations.open", "conversations.page_down"} <= ids(ConversationList)
    assert {"inboxes.down", "inboxes.open"} <= ids(InboxSidebar)
    assert not any(i.startswith("list.") for i in ids(ConversationList))


# -- hostile text and wide characters ----------------------------------------------------------

HOSTILE = [
    "[@click=app.quit]x[/]",
    "[bold red]not bold[/] \x1b[31mMallory\x1b[0m \u202eevil\u202c",
    "bell\x07 nul\x00 cr\rdel\x7f \x9b31m",
    "title: \x1b]0;pwned\x07 :smile:",
]


def _no_controls(strip: Strip) -> bool:
    return not any(
        unicodedata.category(ch) == "Cc" or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        for seg in strip for ch in seg.text
    )


async def test_hostile_text_is_literal_and_inert() -> None:
    items = [
        conv(i, name=name, target=name, last_msg=name, assigned=7, unread=True)
        for i, name in enumerate(HOSTILE, 1)
    ]
    widget = ConversationList(clock=clock, member_names={7: "[@click=app.quit]M\x1b[2J"})
    sidebar = InboxSidebar()
    app = Host(widget)
    async with app.run_test(size=(100, 20)) as pilot:
        await app.mount(sidebar, before=widget)
        widget.set_items(items)
        sidebar.set_items([inbox(i, name, phone=name) for i, name in enumerate(HOSTILE, 1)])
        await pilot.pause()
        rendered = strips(widget) + strips(sidebar)
        assert all(_no_controls(s) for s in rendered)
        assert all(not seg.style or (not seg.style.meta and not seg.style.link) for s in rendered for seg in s)
        text = lines(widget)
        assert "[@click=app.quit]x[/]" in text[0] and "[@click=app.quit]x[/]" in text[1]
        assert "@[@click=app.qu…" in text[0]
        assert "[bold red]not bold[/] ␛[31mMallory␛[0m" in text[2]
        assert "bell␇ nul␀ cr␍del␡" in text[5] and ":smile:" in text[7]
        assert "[@click=app.quit]x[/]" in lines(sidebar)[0]
        await pilot.click(widget, offset=(3, 0))
        await pilot.click(widget, offset=(10, 1))
        await pilot.click(sidebar, offset=(3, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert app.kinds("selected")[0][2] is items[0]


@pytest.mark.parametrize("width", [12, 23, 40, 61, 80])
async def test_wide_characters_fill_exactly_width_cells(width: int) -> None:
    wide = "全角ＡＢＣ漢字 👩\u200d👩\u200d👧 🇯🇵 e\u0301 "
    items = [
        conv(1, name=wide * 3, last_msg=wide * 5, unread=True, assigned=2, status="closed"),
        conv(2, name="ab" + "界" * 30, last_msg="x" + "😀" * 40),
        conv(3, name="😀", last_msg=None, target=None),
    ]
    widget = ConversationList(clock=clock, member_names={2: "名前" * 10})
    sidebar = InboxSidebar()
    app = Host(widget)
    async with app.run_test(size=(width + 1, 12)) as pilot:
        widget.set_items(items)
        await pilot.pause()
        for selected in (False, True):
            for item in items:
                for strip in widget.render_row(item, width, selected, True):
                    assert strip.cell_length == width
                    assert sum(cell_len(seg.text) for seg in strip) == width
        for strip in strips(widget):
            assert sum(cell_len(seg.text) for seg in strip) == widget.scrollable_content_region.width
        assert "全角" in lines(widget)[0] or width < 15
        await app.mount(sidebar)
        sidebar.set_items([inbox(1, wide * 4, phone="14155550100")])
        sidebar.set_counts(1, open=5, unread=2)
        for strip in sidebar.render_row(sidebar.items[0], width, True, True):
            assert sum(cell_len(seg.text) for seg in strip) == width


def test_fit_cells() -> None:
    assert fit_cells("hello", 10) == "hello"
    assert fit_cells("hello world", 6) == "hello…"
    assert cell_len(fit_cells("全角全角", 4)) == 4  # 全 + space + …
    assert fit_cells("abc", 0) == ""


# -- performance -------------------------------------------------------------------------------


class WorkCountingList(CountingList):
    """Counts the work a list does: rows rendered, lines drawn, item keys computed."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.lines_drawn = 0
        self.keys = 0

    def item_key(self, item: Conversation) -> Any:
        self.keys += 1
        return super().item_key(item)

    def render_line(self, y: int) -> Strip:
        self.lines_drawn += 1
        return super().render_line(y)


PRESSES = 50


async def _count_presses(count: int) -> dict[str, int]:
    """The work of set_items(count items), then of PRESSES presses of j: counted, not timed (the
    timing is python -m hmtui.bench's), so it is the same on a loaded machine."""
    items = many_convs(count)
    widget = WorkCountingList(clock=clock)
    app = Host(widget)
    async with app.run_test(size=(80, 30)) as pilot:
        widget.set_items(items)
        keys_to_set = widget.keys
        await pilot.pause()
        start = count // 2 if count > 100 else 0
        widget.move_cursor(start)
        await pilot.pause()
        height = widget.size.height
        widget.rendered.clear()
        widget.lines_drawn = widget.keys = 0
        for _ in range(PRESSES):
            await pilot.press("j")
        await pilot.pause()
        assert widget.cursor == min(count - 1, start + PRESSES)
        assert cursor_visible(widget)
        return {"keys to set": keys_to_set, "rows rendered": len(widget.rendered), "lines drawn": widget.lines_drawn,
                "keys": widget.keys, "height": height}


async def test_scrolling_100k_is_as_fast_as_10() -> None:
    for count in (10, 100_000):
        work = await _count_presses(count)
        # Setting the items reads each once; it renders nothing by itself.
        assert count <= work["keys to set"] <= count + 5, work
        # Each press renders a few rows (old cursor, new cursor, the one scrolled in), never all;
        # draws at most a screen; and looks at a few items: the same bounds for 10 as for 100,000.
        assert work["rows rendered"] <= 4 * PRESSES, (count, work)
        assert work["lines drawn"] <= (PRESSES + 2) * work["height"], (count, work)
        assert work["keys"] <= work["lines drawn"] + 10 * PRESSES, (count, work)  # one per line drawn
