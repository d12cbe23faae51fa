"""Folding and index tokens: the shipped table, and the pieces the index is built from."""

from __future__ import annotations

import operator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsmirror.search import folding as folding
from newsmirror.search import query as search

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


def reference_tokens(folded: str) -> str:
    """The index tokens as the module docstring defines them, one run at a time."""
    parts = []
    for cjk, word in search._RUNS.findall(folded):
        if word:
            parts.append(word)
        else:
            parts.extend(map(operator.add, cjk, cjk[1:]))
            parts.append(cjk[-1])
    return " ".join(parts)


MIXED = st.text(
    st.one_of(
        CJK,
        st.sampled_from("延伸威慑美国总统ab Z9_-，。「」 \n\x00\ue000ー・𠀀éü"),
        st.characters(),
    ),
    max_size=120,
)


@given(MIXED)
def test_tokens_are_each_runs_chunks_then_its_end_and_each_word(text: str) -> None:
    folded = folding.fold(text)
    expected = reference_tokens(folded).split()
    body, title, chars = search.index_document(text, text)
    assert search.index_tokens(text).split() == body.split() == title.split() == expected
    assert chars.split() == sorted(set(search._CJK_CHAR.findall(folded)))


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("延伸威慑", "延伸 伸威 威慑 慑"),
        ("iPhone手机，Sullivan说", "iphone 手机 机 sullivan 说"),
        ("snake_case 美", "snake case 美"),
        ("", ""),
    ],
)
def test_tokens(text: str, tokens: str) -> None:
    assert search.index_tokens(text).split() == tokens.split()
