"""The 2-gram search oracle (pure): examples from the parser's README and seed, and properties over CJK code points."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dbc_validate.analysis.cjk_oracle import (
    CharClass,
    DocumentModel,
    Expectation,
    agrees,
    bigrams,
    cjk_runs,
    classify,
    judge,
    judge_headline,
    substrings,
    words,
)
from dbc_validate.analysis.cjk_samples import SEPARATORS, documents, present_runs, runs, search_cases

SEED_JA_ZH = "Doraemnon Nobita「ドラえもん のび太の牧場物語」多拉A梦 野比大雄χΨψΩω"
SEED_KO = "大韩민국개인정보의 수집 및 이용 목적(「개인정보 보호법」 제15조)"

MATCH, NO, EITHER = Expectation.MATCH, Expectation.NO_MATCH, Expectation.EITHER


@pytest.mark.parametrize(
    ("char", "cls"),
    [
        ("の", CharClass.LETTER),
        ("ド", CharClass.LETTER),
        ("ー", CharClass.LETTER),
        ("漢", CharClass.LETTER),
        ("한", CharClass.LETTER),
        ("。", CharClass.MARK),
        ("「", CharClass.MARK),
        ("\u3000", CharClass.MARK),
        ("ㄅ", CharClass.UNMODELLED),
        ("ｶ", CharClass.UNMODELLED),
        ("𠀀", CharClass.UNMODELLED),
        (" ", CharClass.SPACE),
        (",", CharClass.QUIET),
        ("-", CharClass.RISKY),
        ("@", CharClass.RISKY),
        ("A", CharClass.ALNUM),
        ("７", CharClass.ALNUM),
        ("ω", CharClass.ALNUM),
        ("，", CharClass.OTHER),
        ("！", CharClass.OTHER),
    ],
)
def test_characters_fall_into_the_classes_the_parser_treats_alike(char: str, cls: CharClass) -> None:
    assert classify(char) is cls


def test_runs_split_on_everything_that_is_not_a_cjk_letter() -> None:
    assert [r.text for r in cjk_runs(SEED_JA_ZH)] == ["ドラえもん", "のび太の牧場物語", "多拉", "梦", "野比大雄"]
    assert [r.text for r in cjk_runs(SEED_KO)] == [
        "大韩민국개인정보의",
        "수집",
        "및",
        "이용",
        "목적",
        "개인정보",
        "보호법",
        "제",
        "조",
    ]
    assert bigrams("野比大雄") == ["野比", "比大", "大雄"]


def test_a_run_after_an_ascii_symbol_is_uncertain_but_after_punctuation_it_is_not() -> None:
    assert [r.certain for r in cjk_runs("x-野比 y@大雄")] == [False, False]
    assert [r.certain for r in cjk_runs("(野比)，大雄！「のび太」")] == [True, True, True]


def test_words_are_certain_only_between_separators_or_cjk() -> None:
    found = {w.text: w.certain for w in words("Honda CRF450R 改装：排气管和ECU调校 tips: ！Nobita host.example")}
    assert found == {
        "Honda": True,
        "CRF450R": True,
        "ECU": True,
        "tips": False,
        "Nobita": False,
        "host": False,
        "example": False,
    }


@pytest.mark.parametrize(
    ("document", "query", "expected"),
    [
        (SEED_JA_ZH, "のび太", MATCH),  # the seed's smoke queries
        (SEED_JA_ZH, "野比大雄", MATCH),
        (SEED_KO, "大韩민국개인정보", MATCH),
        ("野比大雄", "野比", MATCH),  # the upstream README's own examples
        ("野比大雄", "野", EITHER),  # a single letter: 2-gram search promises nothing
        ("越野摩托车", "摩托车越野", NO),  # 车越 is nowhere
        ("越野機車", "越野机车", NO),  # simplified query, traditional text: no conversion promised
        ("のび太 ドラ", "太ド", NO),  # pairs never cross a separator
        ("のび太 び太の", "のび太の", EITHER),  # every pair present, but not as one run
        ("x-のび太", "のび太", EITHER),  # the run may be swallowed by a hyphenated word
        ("ㄅ野比", "野比", EITHER),  # Bopomofo is not modelled
        ("Honda 排气管", "Honda 排气管", MATCH),
        ("Honda 排气管", "Yamaha 排气管", EITHER),  # the word decides nothing when absent
        ("Honda 排气管", "Yamaha 进气管", NO),  # but an absent CJK pair does
        ("2024年越野赛", "2024 越野赛", MATCH),
        ("越野赛。", "越野赛。", MATCH),  # a CJK mark in the query must be in the document
        ("越野赛", "越野赛。", EITHER),
        ("the 越野赛", "the 越野赛", EITHER),  # a stop word is dropped from the query: no claim
        ("越野赛", "！", EITHER),
    ],
)
def test_judgements_on_known_cases(document: str, query: str, expected: Expectation) -> None:
    assert judge(document, query).expectation is expected, judge(document, query).reason


def test_agreement_with_observed_answers() -> None:
    assert agrees(MATCH, True) and not agrees(MATCH, False)
    assert agrees(NO, False) and not agrees(NO, True)
    assert agrees(EITHER, True) and agrees(EITHER, False)


def test_headline_verdicts() -> None:
    assert judge_headline("<b>のび</b><b>び太</b>の牧場", "のび太").ok
    assert judge_headline("Doraemon <b>Nobita</b>", "nobita").ok
    assert judge_headline("のび太の牧場", "のび太").problem.startswith("nothing marked")
    assert not judge_headline("<b>牧場</b>", "のび太").ok
    assert "unterminated" in judge_headline("<b>のび", "のび太").problem


# ---- properties over CJK code points ---------------------------------------------------------------------


@given(document=documents(), data=st.data())
def test_every_piece_of_two_or_more_letters_of_a_run_is_found(document: str, data: st.DataObject) -> None:
    assume(any(len(r.text) >= 2 for r in cjk_runs(document)))
    query = data.draw(present_runs(document))
    assert judge(document, query).expectation is MATCH


@given(document=documents(), query=runs(min_size=2, max_size=6))
def test_a_run_with_a_pair_absent_from_the_document_is_not_found(document: str, query: str) -> None:
    pairs = DocumentModel.of(document).pairs
    assume(any(p not in pairs for p in bigrams(query)))
    assert judge(document, query).expectation is NO


@given(document=documents(), query=runs(min_size=2, max_size=6))
def test_match_implies_every_pair_present_and_no_match_implies_one_absent(document: str, query: str) -> None:
    pairs = DocumentModel.of(document).pairs
    verdict = judge(document, query).expectation
    if verdict is MATCH:
        assert all(p in pairs for p in bigrams(query))
        assert any(query in r.text for r in cjk_runs(document))
    if verdict is NO:
        assert any(p not in pairs for p in bigrams(query))


@given(document=documents(), extra=documents(), query=runs(min_size=2, max_size=6))
def test_appending_text_never_takes_a_match_away(document: str, extra: str, query: str) -> None:
    before = judge(document, query).expectation
    after = judge(document + " " + extra, query).expectation
    if before is MATCH:
        assert after is MATCH
    if after is NO:
        assert before is NO


@given(document=documents(), query=runs(min_size=1, max_size=1))
def test_single_letter_queries_get_no_promise(document: str, query: str) -> None:
    assert judge(document, query).expectation is EITHER


@given(
    document=documents(),
    query=runs(min_size=2, max_size=6),
    odd=st.characters(min_codepoint=0x3100, max_codepoint=0x33FF),
)
def test_unmodelled_characters_anywhere_withdraw_every_claim(document: str, query: str, odd: str) -> None:
    assert judge(document + odd, query).expectation is EITHER
    assert judge(document, query + odd).expectation is EITHER


@given(
    parts=st.lists(runs(), min_size=1, max_size=5),
    a=st.sampled_from(SEPARATORS),
    b=st.sampled_from(SEPARATORS),
    query=runs(min_size=2, max_size=6),
)
def test_the_kind_of_separator_between_runs_does_not_matter(parts: list[str], a: str, b: str, query: str) -> None:
    assert judge(a.join(parts), query).expectation is judge(b.join(parts), query).expectation


@given(case=search_cases())
def test_generated_search_cases_agree_with_the_oracle(case) -> None:
    for query, expectation in case.queries:
        assert judge(case.document, query).expectation is expectation


def test_substrings_enumerates_contiguous_pieces() -> None:
    assert sorted(substrings("野比大")) == ["比大", "野比", "野比大"]
