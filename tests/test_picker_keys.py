"""Issue 10, item 7: the pickers and the help screen take vim keys; the picker names what it acts
on and tells the caller when the current value was picked again."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList

from hmtui.ui.screens.help import HelpScreen
from hmtui.ui.screens.picker import PickerScreen

CHOICES: list[tuple[Hashable, str]] = [(10, "Priya Raman"), (20, "Dana Whitfield"), (30, "Jordan Brooks"),
                                       (40, "Marcus Oyelaran"), (50, "Tomás Álvarez")]


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[Any] = []


async def pick(keys: list[str], **options: Any) -> list[Any]:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(PickerScreen("Assign to", CHOICES, **options), app.results.append)
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
    return app.results


async def test_j_j_enter_picks_the_third_choice() -> None:
    assert await pick(["j", "j", "enter"]) == [30]


async def test_k_g_and_G() -> None:
    assert await pick(["G", "enter"]) == [50]
    assert await pick(["G", "k", "enter"]) == [40]
    assert await pick(["j", "j", "g", "enter"]) == [10]
    assert await pick(["down", "enter"]) == [20]  # the arrows still work
    assert await pick(["j", "escape"]) == [None]


async def test_the_cursor_starts_on_the_current_value() -> None:
    assert await pick(["j", "enter"], current=20) == [30]


async def test_picking_the_current_value_is_reported_as_unchanged() -> None:
    assert await pick(["j", "k", "enter"], current=20, report_unchanged=True) == [PickerScreen.UNCHANGED]
    assert await pick(["j", "enter"], current=20, report_unchanged=True) == [30]
    # Without asking for it, the current value comes back as it always did.
    assert await pick(["enter"], current=20) == [20]


async def test_the_title_names_the_conversation() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        picker = PickerScreen("Assign to", CHOICES, subject="Margaret [b]Oduya[/b]\x1b[31m")
        await app.push_screen(picker)
        await pilot.pause()
        title = picker.query_one(OptionList).border_title
        plain = Content.from_markup(str(title)).plain  # Textual keeps the title as escaped markup
        assert plain.startswith("Assign to · Margaret [b]Oduya[/b]")  # literal, never markup
        assert "\x1b" not in plain and picker.title_text == plain


def many_bindings() -> list[tuple[str, list[Binding]]]:
    return [(f"Section {s}", [Binding(f"f{i}", f"a{i}", f"Action {i}", id=f"s{s}.a{i}") for i in range(12)])
            for s in range(6)]


async def test_help_scrolls_with_j_k_g_G() -> None:
    app = Host()
    async with app.run_test(size=(100, 24)) as pilot:
        await app.push_screen(HelpScreen(many_bindings(), {}))
        await pilot.pause()
        scroll = app.screen.query_one(VerticalScroll)
        assert scroll.max_scroll_y > 3
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert scroll.scroll_y == 3
        await pilot.press("k")
        await pilot.pause()
        assert scroll.scroll_y == 2
        await pilot.press("G")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert scroll.scroll_y == 0
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


def test_every_new_binding_has_an_id() -> None:
    for screen in (PickerScreen, HelpScreen):
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding) and binding.id, (screen, binding)
