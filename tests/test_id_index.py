"""The compact id set and map (hmtui.api.id_index) behave like a dict and a set, merges included."""

from __future__ import annotations

import random

import pytest

from hmtui.api import id_index
from hmtui.api.id_index import IdMap, IdSet


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_map_agrees_with_a_dict_across_merges(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(id_index, "MERGE_AT", 16)  # many merges in a small test
    rng = random.Random(seed)
    compact, plain = IdMap(), {}
    keys = [rng.randrange(-(2**63), 2**63) for _ in range(300)] + list(range(200)) + ["a", "b", 2**70, -(2**64)]
    for step in range(2000):
        key = rng.choice(keys)
        value = rng.randrange(-1000, 1000)
        compact[key] = value
        plain[key] = value
        probe = rng.choice(keys)
        assert compact.get(probe) == plain.get(probe), step
        assert (probe in compact) == (probe in plain)
    assert len(compact) == len(plain)
    assert sorted(map(str, compact.keys())) == sorted(map(str, plain))


def test_ids_of_other_types_never_pass_for_ints() -> None:
    ids = IdSet([1, 2, 3])
    assert True not in ids and "1" not in ids and 1.0 not in ids  # True == 1, but not the same id
    ids.add(True)
    assert True in ids and len(ids) == 4
    assert [] not in ids  # unhashable: simply absent


def test_float_values_and_clear() -> None:
    stamps = IdMap("d")
    stamps.update((n, n / 2) for n in range(5000))
    assert stamps.get(4999) == 2499.5 and stamps.get(5000) is None
    stamps.clear()
    assert len(stamps) == 0 and stamps.get(1) is None


def test_a_hundred_thousand_ids_cost_about_nine_bytes_each() -> None:
    ids = IdSet(range(0, 300_000, 3))
    assert len(ids) == 100_000 and 299_997 in ids and 299_998 not in ids
    ids._map._merge()
    size = ids._map._keys.buffer_info()[1] * ids._map._keys.itemsize + ids._map._values.buffer_info()[1]
    assert size <= 100_000 * 9


def test_the_length_is_exact_without_a_merge() -> None:
    """`len` is asked after every page of a whole-history load: it counts new keys and new
    values of old keys apart instead of merging (a copy of every id) each time."""
    ids = IdMap()
    ids.update((k, k) for k in range(0, 1000, 2))
    ids._merge()
    ids[4] = -4  # a new value of a key the arrays hold
    ids.update([(5, 5), (4, -8), (2000, 1), (-7, 0)])  # new keys inside, after and before the arrays
    ids[5] = 55
    assert len(ids) == 500 + 3
    assert len(ids._recent) == 4  # nothing was merged to count them
    assert ids.get(4) == -8 and ids.get(5) == 55
    ids._merge()
    assert len(ids) == 503 and sorted(ids.keys())[:3] == [-7, 0, 2]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_updates_in_batches_agree_with_a_dict(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`update` takes a batch of fresh ids older or newer than all others in one C call (a page of
    a whole history) and anything else id by id: batches of each kind, with ids repeated inside a
    batch, known already, of other types, or in the middle of the arrays' range, agree with a dict."""
    monkeypatch.setattr(id_index, "MERGE_AT", 64)
    rng = random.Random(seed)
    compact, plain = IdMap(), {}
    runs = {"older": 10_000, "newer": 20_000}
    for step in range(300):
        kind = rng.choice(["older", "newer", "known", "middle", "mixed", "dupes"])
        if kind == "older":
            runs["older"] -= 40
            keys = list(range(runs["older"] + 39, runs["older"] - 1, -1))
        elif kind == "newer":
            keys = list(range(runs["newer"], runs["newer"] + 40))
            runs["newer"] += 40
        elif kind == "known":
            keys = rng.sample(sorted(k for k in plain if isinstance(k, int)) or [runs["newer"]], 1) * 3
        elif kind == "middle":
            keys = [rng.randrange(runs["older"], runs["newer"]) for _ in range(20)]
        elif kind == "mixed":
            keys = [rng.randrange(runs["older"], runs["newer"]), "a", 2**70, -(2**64)]
        else:
            keys = [runs["newer"] + 1] * 3 + [runs["newer"]]  # a fresh run with an id repeated
            runs["newer"] += 2
        pairs = [(key, rng.randrange(100)) for key in keys]
        with monkeypatch.context() as patch:
            if kind in ("older", "newer", "dupes"):  # fresh runs take the C path: no id is looked up
                patch.setattr(IdMap, "_in_arrays", lambda self, key: pytest.fail("bisected a fresh run"))
            compact.update(pairs if step % 2 else iter(pairs))
        plain.update(pairs)
        assert len(compact) == len(plain), (step, kind)
        for probe in rng.sample(list(plain), min(10, len(plain))) + [runs["older"] - 1, runs["newer"] + 1]:
            assert compact.get(probe) == plain.get(probe), (step, kind, probe)
    assert sorted(map(str, compact.keys())) == sorted(map(str, plain))


def test_a_large_update_is_taken_a_merge_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole cached history's ids come in one call (the pager's `resume`): they are taken
    MERGE_AT at a time, so the recent dict never holds many more (it costs ~100 bytes an id)."""
    monkeypatch.setattr(id_index, "MERGE_AT", 64)
    ids = IdMap()
    largest: list[int] = []
    merge = IdMap._merge

    def watched(self: IdMap) -> None:
        largest.append(len(self._recent))
        merge(self)

    monkeypatch.setattr(IdMap, "_merge", watched)
    ids.update((k, -k) for k in range(1000, 0, -1))  # newest first, as a history comes
    ids.update((k, k) for k in range(2000, 3000))
    assert len(ids) == 2000 and ids.get(1) == -1 and ids.get(2999) == 2999 and ids.get(1500) is None
    assert largest and max(largest) < 2 * 64
