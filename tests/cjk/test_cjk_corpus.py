"""The corpus in fixtures/cjk/: well formed, covering every script the issue names, and every expectation in it
agrees with the oracle (so no expectation is arbitrary)."""

from __future__ import annotations

import pytest
import yaml

from dbc_validate.analysis.cjk_corpus import CorpusError, parse_corpus
from dbc_validate.analysis.cjk_oracle import CharClass, Expectation, classify, judge
from dbc_validate.resources import CJK_CORPUS, read_text

CORPUS = parse_corpus(yaml.safe_load(read_text(CJK_CORPUS)))


def test_every_declared_expectation_agrees_with_the_oracle() -> None:
    disagreements = [
        f"{q.id} on {d.id}: corpus says {e.value}, oracle says {judge(d.text, q.text)}"
        for q, d, e in CORPUS.expectations()
        if judge(d.text, q.text).expectation is not e
    ]
    assert disagreements == []


def test_every_query_must_find_something_or_must_find_nothing_anywhere() -> None:
    for query in CORPUS.queries:
        assert query.match or len(query.no_match) == len(CORPUS.documents), query.id
    assert sum(e is Expectation.NO_MATCH for _, _, e in CORPUS.expectations()) > 300


def test_the_smoke_queries_are_the_seeds_and_the_oracle_expects_them_to_match() -> None:
    assert [(s.name, s.queries) for s in CORPUS.smoke] == [
        ("Japanese/Chinese", ("のび太", "野比大雄")),
        ("Korean", ("大韩민국개인정보",)),
    ]
    for case in CORPUS.smoke:
        for query in case.queries:
            assert judge(case.document, query).expectation is Expectation.MATCH


def _has(text: str, low: int, high: int) -> bool:
    return any(low <= ord(c) <= high for c in text)


@pytest.mark.parametrize(
    ("what", "present"),
    [
        ("simplified Chinese", lambda t: "摩托车" in t or "报名" in t),
        ("traditional Chinese", lambda t: "機車" in t or "報名" in t),
        ("hiragana", lambda t: _has(t, 0x3041, 0x3096)),
        ("katakana", lambda t: _has(t, 0x30A1, 0x30FA)),
        ("kanji in Japanese", lambda t: "富士山" in t),
        ("hangul", lambda t: _has(t, 0xAC00, 0xD7A3)),
        ("CJK with ASCII words", lambda t: "Honda" in t and _has(t, 0x4E00, 0x9FFF)),
        ("numbers", lambda t: "2024" in t and _has(t, 0x4E00, 0x9FFF)),
        ("full-width punctuation", lambda t: any(classify(c) is CharClass.OTHER for c in t)),
        ("full-width digits", lambda t: _has(t, 0xFF10, 0xFF19)),
    ],
)
def test_the_corpus_covers(what: str, present) -> None:
    assert any(present(d.text) for d in CORPUS.documents), what
    matched = {doc_id for q in CORPUS.queries for doc_id in q.match}
    assert any(present(d.text) and d.id in matched for d in CORPUS.documents), f"no query must find {what}"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "must be a mapping"),
        ({"documents": [{"id": "a", "text": "x"}], "queries": []}, "needs documents and queries"),
        ({"documents": [{"id": "a", "text": "x"}], "queries": [{"id": "q", "text": "y", "match": ["b"]}]}, "unknown"),
        (
            {
                "documents": [{"id": "a", "text": "x"}],
                "queries": [{"id": "q", "text": "y", "match": "a", "no_match": "a"}],
            },
            "both match and no_match",
        ),
        ({"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "queries": []}, "unique"),
    ],
)
def test_malformed_corpora_are_rejected_with_the_reason(data, problem: str) -> None:
    with pytest.raises(CorpusError, match=problem):
        parse_corpus(data)
