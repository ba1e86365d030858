"""The virtual list's pure model (hmtui.ui.widgets.list_model): items, filter, cursor, no Textual."""

from __future__ import annotations

import subprocess
import sys

from hmtui.ui.widgets.list_model import ListModel


def model_of(keys: list[int]) -> ListModel[tuple[int, str]]:
    model: ListModel[tuple[int, str]] = ListModel(lambda item: item[0])
    model.replace([(k, f"item {k}") for k in keys])
    model.refilter(None, (None, None))
    return model


def test_no_textual_in_the_model_module() -> None:
    code = "import sys, hmtui.ui.widgets.list_model; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_replace_drops_later_duplicates_and_the_cursor_starts_at_the_top() -> None:
    model = model_of([1, 2, 2, 3])
    assert [k for k, _ in model.items] == [1, 2, 3] and model.cursor == 0
    assert model.items is model.all  # no filter: one list, no copy


def test_refilter_keeps_the_cursor_on_its_key_or_clamps() -> None:
    model = model_of(list(range(10)))
    model.cursor = 6
    model.predicate = lambda item: item[0] % 2 == 0
    model.refilter(None, model.cursor_state())
    assert [k for k, _ in model.items] == [0, 2, 4, 6, 8] and model.highlighted == (6, "item 6")
    model.predicate = lambda item: item[0] < 3
    model.refilter(None, model.cursor_state())
    assert model.cursor == 2 and model.highlighted == (2, "item 2")  # 6 is gone: the index clamps


def test_extend_under_a_filter_and_update_in_and_out_of_it() -> None:
    model = model_of([1, 2])
    model.predicate = lambda item: "x" not in item[1]
    model.refilter(None, model.cursor_state())
    added, known = model.extend([(3, "item 3"), (4, "x 4"), (2, "item 2 again")])
    assert [k for k, _ in added] == [3, 4] and known == [(2, "item 2 again")]
    assert [k for k, _ in model.items] == [1, 2, 3]  # 4 is filtered out
    assert model.update((2, "item 2 again")) == 1 and model.revision(2) == 1  # redraw row 1
    assert model.update((3, "x now")) == "refilter"  # it leaves the filter
    assert model.update((99, "not loaded")) is None


def test_remove_moves_the_cursor_sensibly() -> None:
    model = model_of([1, 2, 3, 4])
    model.cursor = 2
    assert model.remove(3) and model.highlighted == (4, "item 4")  # the next row takes its place
    assert model.remove(4) and model.highlighted == (2, "item 2")  # the last: back one
    assert model.remove(1) and model.cursor == 0 and model.all_pos == {2: 0}
    assert not model.remove(1)
    assert model.remove(2) and model.cursor is None and model.highlighted is None
