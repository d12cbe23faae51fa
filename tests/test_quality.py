"""Tests of the extraction scores: tokens of every script, bag-of-tokens F1, fragments."""

from __future__ import annotations

import pytest

from newsmirror.extract.quality import FragmentScore, Score, f1, fragments, normalise_space, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("state-of-the-art, don't 3.14", ["state", "of", "the", "art", "don", "t", "3", "14"]),
        ("Straße STRASSE", ["strasse", "strasse"]),
        ("ＡＢＣ１２３", ["abc123"]),  # full-width Latin and digits
        ("Cafe\u0301 crème", ["café", "crème"]),  # a combining accent stays in its word
        ("हिन्दी समाचार", ["हिन्दी", "समाचार"]),  # Devanagari: words, vowel signs included
        ("Привет, мир", ["привет", "мир"]),
        ("北京欢迎你", ["北", "京", "欢", "迎", "你"]),
        ("iPhone 15在中国发布。", ["iphone", "15", "在", "中", "国", "发", "布"]),
        ("東京タワーへ行く", ["東", "京", "タ", "ワ", "ー", "へ", "行", "く"]),
        ("한국어 뉴스", ["한", "국", "어", "뉴", "스"]),
        ("ที่นี่ ๒๕", ["ที่", "นี่", "๒", "๕"]),  # Thai: a letter with its marks; Thai digits
        ("မြန်မာ", ["မြ", "န်", "မာ"]),  # Burmese: a letter with its marks
        ("「新闻」、——……！？", ["新", "闻"]),
        (" \t\n\u00a0\u3000", []),
        ("", []),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_identical_texts_score_one() -> None:
    assert f1("The cat sat.", "the CAT sat") == Score(1.0, 1.0, 1.0)


def test_f1_by_hand() -> None:
    score = f1("a b c d", "a b e")  # 2 shared tokens of 4 extracted and 3 expected
    assert score.precision == pytest.approx(2 / 4)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))


def test_f1_counts_repeated_tokens_once_each() -> None:
    score = f1("the the the cat", "the cat")  # a multiset: only one "the" matches
    assert score.precision == pytest.approx(0.5)
    assert score.recall == 1.0
    assert score.f1 == pytest.approx(2 / 3)


def test_f1_compares_chinese_by_characters() -> None:
    score = f1("北京欢迎你", "北京欢迎您")  # one text, no spaces: 4 of 5 characters shared
    assert (score.precision, score.recall, score.f1) == pytest.approx((0.8, 0.8, 0.8))


def test_f1_compares_latin_by_words() -> None:
    assert f1("new york", "newyork").f1 == 0.0
    assert f1("New York!", "new york").f1 == 1.0


def test_f1_of_disjoint_texts_is_zero() -> None:
    assert f1("alpha beta", "gamma") == Score(0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("extracted", "expected", "score"),
    [
        ("", "", 1.0),
        ("!!! …", " ", 1.0),  # no token on either side
        ("", "some text", 0.0),
        ("some text", "", 0.0),
        ("。。。", "文本", 0.0),
    ],
)
def test_f1_of_empty_texts(extracted: str, expected: str, score: float) -> None:
    assert f1(extracted, expected) == Score(score, score, score)


def test_fragments_shares() -> None:
    text = "Der Hund  bellt\nlaut. Werbung: Jetzt kaufen"
    score = fragments(text, ["Hund bellt laut", "Katze"], ["Jetzt kaufen", "Newsletter"])
    assert score == FragmentScore(found=0.5, left_out=0.5)


def test_fragments_normalise_white_space_on_both_sides() -> None:
    text = "梁振英\u3000道歉。\n\nHe  said\u00a0so"
    assert fragments(text, [" 梁振英 道歉", "He said so"], ["said so"]).found == 1.0
    assert fragments(text, [], ["He\nsaid\tso"]).left_out == 0.0


def test_fragments_are_case_sensitive() -> None:
    assert fragments("The Dog barks", ["the dog"], ["dog"]) == FragmentScore(0.0, 1.0)


def test_empty_fragments_are_not_counted() -> None:
    assert fragments("text", ["", "  ", "text"], ["\n"]) == FragmentScore(1.0, 1.0)
    assert fragments("text", [], []) == FragmentScore(1.0, 1.0)
    assert fragments("text", ["", "missing"], ["", "text"]) == FragmentScore(0.0, 0.0)


def test_fragments_of_an_empty_extraction() -> None:
    assert fragments("", ["wanted", "also"], ["boilerplate"]) == FragmentScore(0.0, 1.0)


def test_normalise_space() -> None:
    assert normalise_space("  a\t\nb\u00a0\u3000c  ") == "a b c"
