"""The composer's logic without Textual (`hmtui.ui.compose_model`, `hmtui.ui.editor`)."""

from __future__ import annotations

import pytest

from hmtui.api.templates import Template, contact_tokens
from hmtui.cache.local_tables import Draft
from hmtui.ui.compose_model import ComposeModel, ConversationKey, rank_templates, title_for
from hmtui.ui.editor import EditorError, edit_text, editor_command

KEY = ConversationKey(501, "14155550142")
TOKENS = contact_tokens("Ada Lovelace", "14155550142")


def template(id_: int, name: str, text: str) -> Template:
    return Template(id=id_, name=name, text=text, created=None, updated=None, raw={})


def test_an_unedited_template_is_sent_by_id_an_edited_one_as_filled_text() -> None:
    model = ComposeModel(KEY, TOKENS)
    model.insert_template(template(1, "Ready", "Hi {{first_name}}, {{coupon}} inside"))
    sub = model.submission()
    assert sub is not None and sub.template_id == 1 and sub.text == "Hi {{first_name}}, {{coupon}} inside"
    model.set_text(model.text + "!")
    sub = model.submission()
    assert sub is not None and sub.template_id is None
    assert sub.text == "Hi Ada, {{coupon}} inside!" and sub.tokens_left == ("coupon",)
    assert "edited: sent as text, filled first_name, unknown {{coupon}}" in model.counter_line()
    # Editing back to exactly the template makes it a template send again.
    model.set_text("Hi {{first_name}}, {{coupon}} inside")
    assert model.template_id == 1


def test_a_template_inserted_into_a_longer_text_is_plain_text() -> None:
    model = ComposeModel(KEY, TOKENS, text="Hello. ")
    model.insert_template(template(2, "Hours", "Open {{first_name}}"), at=7)
    assert model.text == "Hello. Open {{first_name}}" and model.template_id is None
    assert model.submission().text == "Hello. Open Ada"  # type: ignore[union-attr]


def test_the_counter_counts_what_is_sent_after_filling() -> None:
    model = ComposeModel(KEY, {"first_name": "Zoë"})  # ë is not GSM-7: the filled text is UCS-2
    model.set_text("Hi {{first_name}}")
    assert model.segments().encoding == "UCS-2"
    assert ComposeModel(KEY, {}).segments().segments == 0


def test_blank_text_submits_nothing() -> None:
    assert ComposeModel(KEY, text=" \n ").submission() is None


def test_a_draft_restores_only_its_own_conversation() -> None:
    mine = ComposeModel.from_draft(KEY, Draft(501, "14155550142", "hi", "note", 1.0, 3))
    assert (mine.text, mine.kind, mine.template_id) == ("hi", "note", 3)
    other = ComposeModel.from_draft(KEY, Draft(502, "14155550142", "hi"))
    assert other.text == ""


def test_title_names_the_recipient_literally() -> None:
    assert title_for("reply", "Ada", "14155550142") == "Reply to Ada (+1 415 555 0142)"
    assert title_for("note", None, "1415") == "Private note on +1415"
    assert title_for("reply", "[b]x[/b]\x1b[2J", "1") == "Reply to [b]x[/b]␛[2J (+1)"


def test_fuzzy_ranking() -> None:
    items = [template(1, "Order ready", "a"), template(2, "Running late", "b"), template(3, "Hours", "order")]
    assert [t.id for t in rank_templates("ordr", items)] == [1, 3]  # a name match beats a text match
    assert [t.id for t in rank_templates("", items)] == [1, 2, 3]
    assert rank_templates("zzz", items) == []


def test_editor_command_is_split_not_shelled() -> None:
    assert editor_command({"VISUAL": "code -w", "EDITOR": "vi"}) == ["code", "-w"]
    assert editor_command({"EDITOR": "'/opt/my editor/ed' --x"}) == ["/opt/my editor/ed", "--x"]
    assert editor_command({"EDITOR": "vi; rm -rf /"}) == ["vi;", "rm", "-rf", "/"]  # words, no shell
    assert editor_command({"VISUAL": "  ", "EDITOR": ""}) is None
    with pytest.raises(EditorError):
        editor_command({"EDITOR": "'oops"})


def test_edit_text_reads_the_file_back_and_removes_it() -> None:
    seen: list[str] = []

    def run(argv: list[str]) -> int:
        seen.append(argv[-1])
        with open(argv[-1], "a", encoding="utf-8") as handle:
            handle.write(" ✓\n")
        return 0

    assert edit_text(["ed"], "draft", run=run) == "draft ✓"
    import os
    assert seen and not os.path.exists(seen[0])
    with pytest.raises(EditorError, match="status 3"):
        edit_text(["ed"], "x", run=lambda argv: 3)
