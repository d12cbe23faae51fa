"""Folding and index tokens: the shipped table, and the pieces the index is built from."""

from __future__ import annotations

import operator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsmirror import folding, search

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


def test_the_shipped_table_is_what_unicode_and_opencc_give() -> None:
    shipped = folding.table_header()
    here = folding.computed_header()
    if shipped != here:
        pytest.skip(f"the table was computed with {shipped}; this machine has {here}")
    assert folding.fold_table() == folding.compute_table()


def test_the_table_text_round_trips() -> None:
    table = folding.fold_table()
    text = folding.format_table(table, folding.table_header())
    assert folding.read_table(text) == (folding.table_header(), table)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width forms, then case
        ("美國總統", "美国总统"),  # traditional → simplified
        ("衞生 粧", "卫生 妆"),  # Hong Kong forms plain t2s leaves
        ("Straße", "strasse"),  # case folding, not lowering
        ("😀 延伸威懾", "😀 延伸威慑"),  # outside the BMP: left as it is
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert folding.fold(text) == folded


@given(st.text(max_size=60))
def test_aligned_folding_keeps_every_offset(text: str) -> None:
    aligned = folding.fold_aligned(text)
    assert len(aligned) == len(text)
    for char, same_place in zip(text, aligned, strict=True):
        assert same_place == (folding.fold(char)[:1] or char)


@given(st.text(CJK, min_size=2, max_size=80))
def test_chunks_are_the_overlapping_pairs(run: str) -> None:
    assert search._chunks(run) == " ".join(map(operator.add, run, run[1:]))
