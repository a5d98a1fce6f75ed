"""Hypothesis strategies for CJK search cases: documents of CJK runs between separators, with queries the
oracle decides (runs the document contains, runs with a letter pair it lacks)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from dbc_validate.analysis.cjk_oracle import Expectation, cjk_runs, judge

# Assigned letters only, one range per script, so a shrunk example stays readable.
LETTER_RANGES = {
    "hiragana": (0x3041, 0x3096),
    "katakana": (0x30A1, 0x30FA),
    "han": (0x4E00, 0x9FFF),
    "hangul": (0xAC00, 0xD7A3),
}
# What separates runs in real posts: spaces, CJK and full-width punctuation, ASCII words and numbers.
SEPARATORS = (" ", "。", "、", "，", "！", "：", "「", "」", "（", "）", " 2024 ", " Honda ", ", ", "\n")


def letters(script: str | None = None) -> st.SearchStrategy[str]:
    ranges = [LETTER_RANGES[script]] if script else list(LETTER_RANGES.values())
    return st.one_of(*(st.characters(min_codepoint=lo, max_codepoint=hi) for lo, hi in ranges))


def runs(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    """A run of CJK letters, usually from one script, sometimes mixed (Japanese mixes kana and kanji)."""
    one_script = st.sampled_from(sorted(LETTER_RANGES)).flatmap(
        lambda s: st.text(letters(s), min_size=min_size, max_size=max_size)
    )
    return st.one_of(one_script, st.text(letters(), min_size=min_size, max_size=max_size))


@st.composite
def documents(draw: st.DrawFn, max_runs: int = 5) -> str:
    parts = draw(st.lists(runs(), min_size=1, max_size=max_runs))
    separators = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(parts), max_size=len(parts)))
    text = "".join(run + sep for run, sep in zip(parts, separators, strict=True))
    return text.rstrip() if draw(st.booleans()) else text


@dataclass(frozen=True)
class SearchCase:
    document: str
    queries: tuple[tuple[str, Expectation], ...]  # each query with what the oracle says the search must do


@st.composite
def present_runs(draw: st.DrawFn, document: str) -> str:
    """A contiguous piece (two letters or more) of one of the document's runs."""
    candidates = [r.text for r in cjk_runs(document) if len(r.text) >= 2]
    run = draw(st.sampled_from(candidates))
    start = draw(st.integers(0, len(run) - 2))
    end = draw(st.integers(start + 2, len(run)))
    return run[start:end]


@st.composite
def search_cases(draw: st.DrawFn, max_queries: int = 4) -> SearchCase:
    """A document with queries it must match (its own runs) and must not match (runs with an absent pair)."""
    document = draw(documents().filter(lambda d: any(len(r.text) >= 2 for r in cjk_runs(d))))
    queries: list[tuple[str, Expectation]] = []
    for _ in range(draw(st.integers(1, max_queries))):
        if draw(st.booleans()):
            queries.append((draw(present_runs(document)), Expectation.MATCH))
        else:
            query = draw(runs(min_size=2, max_size=5))
            verdict = judge(document, query).expectation
            if verdict is not Expectation.EITHER:
                queries.append((query, verdict))
    if not queries:
        queries.append((draw(present_runs(document)), Expectation.MATCH))
    return SearchCase(document, tuple(queries))
