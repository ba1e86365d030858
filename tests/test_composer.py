"""The composer, mounted alone in a minimal app (no main screen): keys, drafts, the counter,
the editor round trip, templates, hostile names."""

from __future__ import annotations

import os
import stat
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.content import Content

from hmtui.api.templates import Template, contact_tokens
from hmtui.cache.local_tables import Draft, MemoryTables
from hmtui.ui.compose_model import ConversationKey
from hmtui.ui.screens.templates import TemplatePicker
from hmtui.ui.widgets.composer import Composer, ComposerInput

KEY = ConversationKey(501, "14155550142")
ROUNDS = 200  # bounded pilot pauses before a condition that never comes true fails


def template(id_: int, name: str, text: str) -> Template:
    return Template(id=id_, name=name, text=text, created=None, updated=None, raw={"id": id_})


TEMPLATES = [
    template(1, "Order ready", "Hi {{first_name}}, your order is ready."),
    template(2, "Running late", "Running 10 minutes late, sorry!"),
    template(3, "Opening hours", "We are open 9-5, {{first_name}} {{last_name}}."),
]


class ComposerApp(App[None]):
    """Mounts one composer; records what it posts and what it saves."""

    def __init__(self, *, store: MemoryTables | None = None, key: ConversationKey = KEY,
                 name: str | None = "Ada Lovelace", kind: str = "reply", draft_delay: float = 60.0,
                 templates: Any = None, environ: dict[str, str] | None = None, suspendable: bool = False) -> None:
        super().__init__()
        self.store = store or MemoryTables()
        self.saves: list[tuple[Any, ...]] = []
        self.submitted: list[Composer.Submitted] = []
        self.left: list[Composer.Left] = []
        self._args = dict(key=key, name=name, kind=kind, draft_delay=draft_delay, templates=templates,
                          environ=environ)
        self.suspendable = suspendable
        self.suspended = 0

    def save_draft(self, inbox_id: Any, target: str, text: str, **kw: Any) -> None:
        self.saves.append((inbox_id, target, text, kw))
        self.store.put_draft(inbox_id, target, text, **kw)

    def compose(self) -> ComposeResult:
        args = dict(self._args)
        key = args.pop("key")
        yield Composer(key, draft=self.store.draft(key.inbox_id, key.target), save_draft=self.save_draft,
                       tokens=contact_tokens(args["name"], key.target), **args)

    @contextmanager
    def suspend(self):  # type: ignore[override]
        # The headless driver cannot suspend (Textual raises SuspendNotSupported); a test app that
        # says it can stands in for a terminal: the editor still really runs.
        if not self.suspendable:
            with super().suspend():
                yield
            return
        self.suspended += 1
        yield

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        self.submitted.append(event)

    def on_composer_left(self, event: Composer.Left) -> None:
        self.left.append(event)


async def wait_until(pilot, condition, rounds: int = ROUNDS) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition never came true")


def composer(app: App) -> Composer:
    return app.query_one(Composer)


def counter(app: App) -> str:
    return str(app.query_one("#composer-counter").render())


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


# -- sending and newlines ------------------------------------------------------------------------


async def test_enter_posts_submitted_with_kind_and_text() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await type_text(pilot, "hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.submitted)
        event = app.submitted[0]
        assert (event.key, event.kind, event.text, event.template_id, event.close_after) == \
            (KEY, "reply", "hello", None, False)
        assert composer(app).text == ""  # handed over: the outbox has it now
        assert app.store.draft(501, "14155550142") is None


async def test_enter_on_an_empty_draft_sends_nothing() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("space", "enter")
        await pilot.pause()
        assert app.submitted == []


async def test_send_and_close_sets_close_after_and_is_in_the_footer_bindings() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await type_text(pilot, "bye")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.submitted)
        assert app.submitted[0].close_after is True
        ids = {b.id for b in Composer.BINDINGS}
        assert {"composer.send", "composer.newline", "composer.editor", "composer.leave",
                "composer.toggle_kind", "composer.template", "composer.send_and_close"} <= ids
        shown = [b for b in Composer.BINDINGS if b.id == "composer.send_and_close"][0]
        assert shown.show and shown.key == "ctrl+s"


@pytest.mark.parametrize("key", ["alt+enter", "ctrl+j"])
async def test_newline_keys_insert_a_newline_and_do_not_send(key: str) -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await type_text(pilot, "ab")
        await pilot.press(key)
        await type_text(pilot, "cd")
        await pilot.pause()
        assert composer(app).text == "ab\ncd"
        assert app.submitted == []
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.submitted)
        assert app.submitted[0].text == "ab\ncd"


# -- drafts ----------------------------------------------------------------------------------------


async def test_escape_keeps_the_draft_and_reopening_restores_it() -> None:
    store = MemoryTables()
    app = ComposerApp(store=store)  # a 60 s debounce: only leaving can have saved it
    async with app.run_test() as pilot:
        await type_text(pilot, "half a thought")
        await pilot.pause()
        assert app.saves == []  # debounced: not one write per key
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.left)
        assert app.left[0].key == KEY
        assert app.saves[-1][:3] == (501, "14155550142", "half a thought")
    again = ComposerApp(store=store)
    async with again.run_test() as pilot:
        await pilot.pause()
        assert composer(again).text == "half a thought"
        assert again.query_one(ComposerInput).text == "half a thought"


async def test_the_draft_is_saved_while_typing_without_leaving() -> None:
    # (That it is debounced, not written per key, is the 60 s test above.)
    app = ComposerApp(draft_delay=0.05)
    async with app.run_test() as pilot:
        await type_text(pilot, "typing")
        await wait_until(pilot, lambda: app.saves and app.saves[-1][2] == "typing")
        assert app.store.draft(501, "14155550142").text == "typing"


async def test_a_draft_of_another_conversation_is_not_restored() -> None:
    store = MemoryTables()
    store.put_draft(501, "19995550000", "for someone else")
    app = ComposerApp(store=store)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert composer(app).text == ""
    # Handed a wrong draft by mistake, the composer still refuses it.
    model_app = ComposerApp(store=store)
    async with model_app.run_test() as pilot:
        c = Composer(KEY, draft=Draft(501, "19995550000", "for someone else"))
        assert c.text == ""


async def test_a_note_draft_comes_back_as_a_note() -> None:
    store = MemoryTables()
    store.put_draft(501, "14155550142", "VIP", kind="note")
    app = ComposerApp(store=store)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert composer(app).kind == "note" and composer(app).has_class("-note")


# -- reply / note ----------------------------------------------------------------------------------


async def test_ctrl_n_toggles_reply_and_note_and_draws_a_note_distinctly() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        c = composer(app)
        assert c.kind == "reply" and not c.has_class("-note")
        assert str(c.border_title).startswith("✉ Reply to Ada Lovelace")
        await pilot.press("ctrl+n")
        assert c.kind == "note" and c.has_class("-note")
        assert str(c.border_title).startswith("🔒 Private note on Ada Lovelace")
        assert counter(app).startswith("private note")
        await type_text(pilot, "internal")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.submitted)
        assert app.submitted[0].kind == "note"
        await pilot.press("ctrl+n")
        assert c.kind == "reply" and not c.has_class("-note")


async def test_the_title_names_the_conversation_and_cannot_be_retargeted() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        c = composer(app)
        assert "+1 415 555 0142" in str(c.border_title)
        with pytest.raises(AttributeError):
            c.key = ConversationKey(502, "1")  # type: ignore[misc]
        with pytest.raises(Exception):
            c.model.key.target = "1"  # type: ignore[misc]


# -- the counter -----------------------------------------------------------------------------------


async def test_the_counter_counts_gsm7() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await type_text(pilot, "Hi {")  # { is an extension character: two septets
        await pilot.pause()
        line = counter(app)
        assert "4 chars · 1 SMS (GSM-7) · 155 left" in line


async def test_the_counter_counts_ucs2_and_warns_past_five_segments() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await type_text(pilot, "ça")
        await pilot.pause()
        line = counter(app)
        assert "2 chars · 1 SMS (UCS-2) · 68 left" in line and "'ç'" in line
        c = composer(app)
        c.set_text("ç" * (67 * 5 + 1))  # six UCS-2 parts
        await pilot.pause()
        assert "6 SMSs (UCS-2)" in counter(app)
        assert counter(app).startswith("⚠") and "over 5 segments" in counter(app)
        assert app.query_one("#composer-counter").has_class("-warning")
        c.set_text("a" * (153 * 5))  # exactly five GSM-7 parts: no warning
        await pilot.pause()
        assert "5 SMS" in counter(app) and not app.query_one("#composer-counter").has_class("-warning")


# -- the editor ------------------------------------------------------------------------------------


def fake_editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake editor.py"
    script.write_text(
        "import sys\n"
        "path = sys.argv[-1]\n"
        "old = open(path, encoding='utf-8').read()\n"
        f"open(path, 'w', encoding='utf-8').write(old + {body!r} + '\\n')\n"
        "open(path + '.seen', 'w').write(' '.join(sys.argv[1:-1]))\n",
        encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    # A quoted path with a space and an argument: split like a shell would, never run by one.
    return f"'{sys.executable}' '{script}' --flag"


async def test_ctrl_e_round_trips_the_draft_through_the_editor(tmp_path: Path) -> None:
    env = {"EDITOR": fake_editor(tmp_path, " and more")}
    app = ComposerApp(environ=env, suspendable=True)
    async with app.run_test() as pilot:
        await type_text(pilot, "draft")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: composer(app).text == "draft and more")
        assert app.suspended == 1
        assert app.query_one(ComposerInput).text == "draft and more"  # one trailing newline dropped
        assert app.saves[-1][2] == "draft and more"  # kept at once
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.submitted)
        assert app.submitted[0].text == "draft and more"


async def test_visual_wins_over_editor(tmp_path: Path) -> None:
    env = {"VISUAL": fake_editor(tmp_path, "!"), "EDITOR": "/nonexistent/editor"}
    app = ComposerApp(environ=env, suspendable=True)
    async with app.run_test() as pilot:
        await type_text(pilot, "x")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: composer(app).text == "x!")


@pytest.mark.parametrize("env, words", [
    ({}, "No editor: set $VISUAL or $EDITOR"),
    ({"EDITOR": "/nonexistent/hmtui-editor -w"}, "editor not found: /nonexistent/hmtui-editor"),
    ({"EDITOR": "'unbalanced"}, "$EDITOR cannot be read"),
    ({"EDITOR": "false"}, "exited with status 1; the draft is unchanged"),
])
async def test_a_missing_or_failing_editor_is_a_one_line_notice(env: dict[str, str], words: str) -> None:
    app = ComposerApp(environ=env, suspendable=True)
    async with app.run_test() as pilot:
        await type_text(pilot, "keep me")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app._notifications)
        notices = [n.message for n in app._notifications]
        assert any(words in n and "\n" not in n for n in notices), notices
        assert composer(app).text == "keep me"


async def test_headless_suspend_is_a_notice_not_a_crash(tmp_path: Path) -> None:
    # Textual's headless driver cannot suspend: the composer says so and keeps the draft.
    app = ComposerApp(environ={"EDITOR": fake_editor(tmp_path, "x")}, suspendable=False)
    async with app.run_test() as pilot:
        await type_text(pilot, "keep")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app._notifications)
        assert "cannot open here" in list(app._notifications)[0].message
        assert composer(app).text == "keep"


# -- templates -------------------------------------------------------------------------------------


async def pick(pilot, app: ComposerApp, query: str) -> None:
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: isinstance(app.screen, TemplatePicker) and app.screen.shown)
    await type_text(pilot, query)
    await pilot.pause()
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, TemplatePicker))


async def test_an_unedited_template_goes_by_template_id_with_its_tokens() -> None:
    app = ComposerApp(templates=lambda: TEMPLATES)
    async with app.run_test() as pilot:
        await pick(pilot, app, "ordr")
        assert composer(app).text == "Hi {{first_name}}, your order is ready."  # tokens stay tokens
        assert "template: the server fills {{first_name}}" in counter(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.submitted)
        event = app.submitted[0]
        assert event.template_id == 1 and event.text == "Hi {{first_name}}, your order is ready."


async def test_an_edited_template_goes_as_text_with_known_tokens_filled() -> None:
    async def source() -> list[Template]:  # the send helper's pager is async
        return TEMPLATES

    app = ComposerApp(templates=source)
    async with app.run_test() as pilot:
        await pick(pilot, app, "hours")
        await type_text(pilot, " Thanks")
        await pilot.pause()
        line = counter(app)
        assert "edited: sent as text, filled first_name, last_name" in line
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.submitted)
        event = app.submitted[0]
        assert event.template_id is None
        assert event.text == "We are open 9-5, Ada Lovelace. Thanks"


async def test_an_unedited_template_draft_is_kept_with_its_template_id() -> None:
    store = MemoryTables()
    app = ComposerApp(store=store, templates=lambda: TEMPLATES)
    async with app.run_test() as pilot:
        await pick(pilot, app, "order")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.left)
    assert store.draft(501, "14155550142").template_id == 1
    again = ComposerApp(store=store)
    async with again.run_test() as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: again.submitted)
        assert again.submitted[0].template_id == 1


async def test_the_picker_previews_and_cancels() -> None:
    app = ComposerApp(templates=lambda: TEMPLATES)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TemplatePicker) and app.screen.shown)
        preview = str(app.screen.query_one("#templates-preview").render())
        assert "Hi {{first_name}}, your order is ready." in preview
        assert "Edited: sent as text: Hi Ada, your order is ready." in preview
        await pilot.press("down")
        await pilot.pause()
        assert "Running 10 minutes late" in str(app.screen.query_one("#templates-preview").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TemplatePicker))
        assert composer(app).text == ""


async def test_templates_that_cannot_load_are_a_line_in_the_picker() -> None:
    def broken() -> list[Template]:
        raise RuntimeError("server said no")

    app = ComposerApp(templates=broken)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TemplatePicker) and "could not be loaded"
                         in str(app.screen.query_one("#templates-preview").render()))
        await pilot.press("escape")


# -- hostile names -----------------------------------------------------------------------------------


HOSTILE = "[bold red]Mallory[/] \x1b[31m$(rm -rf)"


async def test_hostile_conversation_and_template_names_are_shown_literally() -> None:
    evil = template(9, "[link=http://x]click[/link] \x1b]52;c;AAAA\x07", "[b]hi[/b] {{first_name}}")
    app = ComposerApp(name=HOSTILE, templates=lambda: [evil])
    async with app.run_test() as pilot:
        # Textual keeps a border title as markup, escaped from our Text: what it draws is this.
        title = Content.from_markup(composer(app).border_title).plain
        assert "[bold red]Mallory[/]" in title and "\x1b" not in title
        assert "␛[31m" in title
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TemplatePicker) and app.screen.shown)
        option = app.screen.query_one("#templates-list").get_option_at_index(0)
        assert "[link=http://x]click[/link]" in str(option.prompt) and "\x1b" not in str(option.prompt)
        preview = str(app.screen.query_one("#templates-preview").render())
        assert "[b]hi[/b]" in preview
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, TemplatePicker))
        # The filled name is the contact's, literal, in the counter line.
        assert "[b]hi[/b]" in composer(app).text


async def test_removing_the_composer_keeps_its_draft() -> None:
    # Switching conversations: the screen removes this composer and mounts another one.
    app = ComposerApp()
    async with app.run_test() as pilot:
        await type_text(pilot, "unsent")
        await composer(app).remove()
        await pilot.pause()
        assert app.store.draft(501, "14155550142").text == "unsent"


async def test_a_keymap_can_move_a_composer_key() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.set_keymap({"composer.send": "ctrl+o"})
        await type_text(pilot, "hi")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.submitted)
        assert app.submitted[0].text == "hi"
