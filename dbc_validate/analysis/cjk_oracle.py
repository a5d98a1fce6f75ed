"""What a 2-gram CJK search must find: which documents a plainto_tsquery query must match, and which it must not.

The oracle reasons about runs of CJK letters in the text, not about the parser's token list: a query run of
two or more letters is found in a document that contains it, and is not found when one of its adjacent
letter pairs occurs nowhere in the document. Whatever it cannot decide safely (single letters, scripts
whose treatment differs between parser versions or locales, text next to symbols that open compound
tokens) is EITHER: the oracle never guesses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Expectation(StrEnum):
    MATCH = "match"
    NO_MATCH = "no match"
    EITHER = "either"  # the oracle makes no claim


@dataclass(frozen=True)
class Judgement:
    expectation: Expectation
    reason: str


class CharClass(StrEnum):
    LETTER = "cjk letter"  # becomes part of overlapping 2-grams
    MARK = "cjk mark"  # CJK punctuation, radicals, ideographic space: a one-character token of its own
    UNMODELLED = "unmodelled"  # CJK-like characters whose treatment the oracle does not model
    SPACE = "space"
    QUIET = "quiet punctuation"  # ASCII punctuation that only separates tokens
    RISKY = "ascii symbol"  # ASCII symbols that may open compound tokens (hyphenated words, hosts, files, tags)
    ALNUM = "letter or digit"  # any other letter or digit (ASCII, Latin, Greek, full-width)
    OTHER = "other"  # anything else (full-width punctuation, symbols, emoji)


# Blocks whose characters the parser joins into overlapping 2-grams (huangjimmy/pg_cjk_parser: U+3040-U+9FFF
# and the Hangul syllables); the oracle models the letter blocks among them.
LETTER_BLOCKS: tuple[tuple[str, int, int], ...] = (
    ("Hiragana", 0x3040, 0x309F),
    ("Katakana", 0x30A0, 0x30FF),
    ("CJK Unified Ideographs Extension A", 0x3400, 0x4DBF),
    ("CJK Unified Ideographs", 0x4E00, 0x9FFF),
    ("Hangul Syllables", 0xAC00, 0xD7A3),
)
MARK_BLOCKS: tuple[tuple[str, int, int], ...] = (
    ("CJK Radicals Supplement to CJK Symbols and Punctuation", 0x2E80, 0x303F),
)
# Inside the parser's 2-gram range but not letters, or outside it although people read them as CJK:
# their tokens differ between parser versions and locales, so texts holding them get no claim.
UNMODELLED_BLOCKS: tuple[tuple[str, int, int], ...] = (
    ("Hangul Jamo", 0x1100, 0x11FF),
    ("Bopomofo to CJK Compatibility", 0x3100, 0x33FF),
    ("Yijing Hexagram Symbols", 0x4DC0, 0x4DFF),
    ("Hangul Jamo Extended-A", 0xA960, 0xA97F),
    ("Hangul Jamo Extended-B", 0xD7B0, 0xD7FF),
    ("CJK Compatibility Ideographs", 0xF900, 0xFAFF),
    ("Halfwidth Katakana and Hangul", 0xFF65, 0xFFDC),
    ("Tai Xuan Jing Symbols", 0x1D300, 0x1D35F),
    ("Supplementary CJK Ideographs", 0x20000, 0x3FFFF),
)
QUIET_PUNCTUATION = frozenset(",;!?()[]\"'")

# PostgreSQL's english.stop (Snowball): english_stem drops these ASCII words from queries.
_ENGLISH_STOP = """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
hers herself it its itself they them their theirs themselves what which who whom this that these those am is are was
were be been being have has had having do does did doing a an the and but if or because as until while of at by for with
about against between into through during before after above below to from up down in out on off over under again
further then once here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now"""
ENGLISH_STOP_WORDS = frozenset(_ENGLISH_STOP.split())


def _in(blocks: Sequence[tuple[str, int, int]], code: int) -> str | None:
    for name, low, high in blocks:
        if low <= code <= high:
            return name
    return None


def classify(char: str) -> CharClass:
    code = ord(char)
    if _in(LETTER_BLOCKS, code):
        return CharClass.LETTER
    if _in(MARK_BLOCKS, code):
        return CharClass.MARK
    if _in(UNMODELLED_BLOCKS, code):
        return CharClass.UNMODELLED
    if char.isspace():
        return CharClass.SPACE
    if char.isascii() and not char.isalnum():
        return CharClass.QUIET if char in QUIET_PUNCTUATION else CharClass.RISKY
    if char.isalnum():
        return CharClass.ALNUM
    return CharClass.OTHER


def is_cjk(char: str) -> bool:
    return classify(char) in (CharClass.LETTER, CharClass.MARK)


def unmodelled_characters(text: str) -> list[str]:
    """Characters of `text` the oracle does not model, as 'U+XXXX (block)'."""
    return [f"U+{ord(c):04X} ({_in(UNMODELLED_BLOCKS, ord(c))})" for c in text if classify(c) is CharClass.UNMODELLED]


def fresh_start(text: str, index: int) -> bool:
    """True when nothing before `index` can swallow the token starting there.

    The CJK parser ends every ordinary token (word, number, blank) at a CJK character, but the states for
    hyphenated words, hosts, files, tags and entities, opened by ASCII symbols such as - . / @ & <, do not.
    So a token starts fresh when the text back to the previous space or quiet punctuation has no such symbol.
    """
    for char in reversed(text[:index]):
        cls = classify(char)
        if cls in (CharClass.SPACE, CharClass.QUIET):
            return True
        if cls is CharClass.RISKY:
            return False
    return True


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    certain: bool  # for a run: its letters surely become 2-grams; for a word: it is surely a token of its own


def _spans(text: str, wanted: CharClass) -> list[tuple[str, int]]:
    spans: list[tuple[str, int]] = []
    start = None
    for index, char in enumerate([*text, " "]):
        if index < len(text) and classify(char) is wanted:
            if start is None:
                start = index
        elif start is not None:
            spans.append((text[start:index], start))
            start = None
    return spans


def cjk_runs(text: str) -> list[Span]:
    """Maximal runs of CJK letters, each marked certain when it starts fresh."""
    return [Span(run, start, fresh_start(text, start)) for run, start in _spans(text, CharClass.LETTER)]


_WORD_NEIGHBOURS = (CharClass.SPACE, CharClass.QUIET, CharClass.LETTER, CharClass.MARK)


def words(text: str) -> list[Span]:
    """Maximal runs of other letters and digits, certain when they are surely a token of their own."""
    result = []
    for word, start in _spans(text, CharClass.ALNUM):
        end = start + len(word)
        left_ok = start == 0 or classify(text[start - 1]) in _WORD_NEIGHBOURS
        right_ok = end == len(text) or classify(text[end]) in _WORD_NEIGHBOURS
        result.append(Span(word, start, left_ok and right_ok and fresh_start(text, start)))
    return result


def bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass(frozen=True)
class DocumentModel:
    """What the oracle needs to know about one document."""

    text: str
    runs: tuple[Span, ...]
    pairs: frozenset[str]  # every adjacent pair of CJK letters anywhere in the document
    words: tuple[Span, ...]
    unmodelled: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> DocumentModel:
        runs = tuple(cjk_runs(text))
        pairs = frozenset(p for run in runs for p in bigrams(run.text))
        return cls(text, runs, pairs, tuple(words(text)), tuple(unmodelled_characters(text)))


class _Term(StrEnum):
    YES = "satisfied"
    NO = "cannot be satisfied"
    UNKNOWN = "undecided"


def _same_word(a: str, b: str) -> bool:
    # english_stem and simple lower-case ASCII; other scripts are compared as written.
    return a == b or (a.isascii() and b.isascii() and a.lower() == b.lower())


def _judge_run(run: Span, doc: DocumentModel) -> tuple[_Term, str]:
    if len(run.text) < 2:
        return _Term.UNKNOWN, f"{run.text!r} is a single letter (2-gram search makes no promise for it)"
    if not run.certain:
        return _Term.UNKNOWN, f"{run.text!r} follows an ASCII symbol that may join it into a compound token"
    missing = [p for p in bigrams(run.text) if p not in doc.pairs]
    if missing:
        return _Term.NO, f"the pair {missing[0]!r} of {run.text!r} occurs nowhere in the document"
    if any(d.certain and run.text in d.text for d in doc.runs):
        return _Term.YES, f"the document contains the run {run.text!r}"
    return _Term.UNKNOWN, f"the pairs of {run.text!r} occur in the document, but not as one run"


def _judge_word(word: Span, doc: DocumentModel) -> tuple[_Term, str]:
    if not word.certain:
        return _Term.UNKNOWN, f"{word.text!r} touches a symbol that may change its token"
    if word.text.isascii() and word.text.isalpha() and word.text.lower() in ENGLISH_STOP_WORDS:
        return _Term.UNKNOWN, f"{word.text!r} is an English stop word"
    if any(d.certain and _same_word(word.text, d.text) for d in doc.words):
        return _Term.YES, f"the document contains the word {word.text!r}"
    return _Term.UNKNOWN, f"the document has no word {word.text!r} as written (stemming may still match)"


def _query_terms(query: str, doc: DocumentModel) -> list[tuple[_Term, str]]:
    terms = [_judge_run(run, doc) for run in cjk_runs(query)]
    terms += [_judge_word(word, doc) for word in words(query)]
    for index, char in enumerate(query):
        cls = classify(char)
        if cls is CharClass.MARK:
            # A CJK mark is a token in query and document alike (or dropped from both).
            present = char in doc.text
            terms.append(
                (_Term.YES, f"the document contains {char!r}")
                if present
                else (_Term.UNKNOWN, f"{char!r} is a CJK mark the document lacks")
            )
        elif cls is CharClass.OTHER and (index == 0 or classify(query[index - 1]) is not CharClass.OTHER):
            terms.append((_Term.UNKNOWN, f"{char!r} may be a token of its own"))
    return terms


def judge(document: str | DocumentModel, query: str) -> Judgement:
    """Whether `to_tsvector(document) @@ plainto_tsquery(query)` must be true, must be false, or either.

    Every term of a plainto_tsquery must be found (AND): one term that cannot be found decides NO_MATCH;
    all terms found decide MATCH. For phraseto_tsquery the same holds when the query is a single CJK run.
    """
    doc = document if isinstance(document, DocumentModel) else DocumentModel.of(document)
    strange = doc.unmodelled or tuple(unmodelled_characters(query))
    if strange:
        return Judgement(Expectation.EITHER, f"the text holds {strange[0]}, which the oracle does not model")
    terms = _query_terms(query, doc)
    if not terms:
        return Judgement(Expectation.EITHER, "the query has no searchable term")
    for term, reason in terms:
        if term is _Term.NO:
            return Judgement(Expectation.NO_MATCH, reason)
    undecided = [reason for term, reason in terms if term is _Term.UNKNOWN]
    if undecided:
        return Judgement(Expectation.EITHER, undecided[0])
    return Judgement(Expectation.MATCH, "; ".join(reason for _, reason in terms))


def agrees(expectation: Expectation, observed: bool) -> bool:
    """Whether a database's answer is allowed by the expectation."""
    if expectation is Expectation.MATCH:
        return observed
    if expectation is Expectation.NO_MATCH:
        return not observed
    return True


def substrings(run: str, min_length: int = 2) -> Iterable[str]:
    """Every contiguous piece of `run` at least `min_length` long (what a 2-gram search must find)."""
    for start in range(len(run)):
        for end in range(start + min_length, len(run) + 1):
            yield run[start:end]


@dataclass(frozen=True)
class HeadlineVerdict:
    ok: bool
    fragments: tuple[str, ...]
    problem: str


def judge_headline(headline: str, query: str, start_sel: str = "<b>", stop_sel: str = "</b>") -> HeadlineVerdict:
    """Whether ts_headline marked the matched text: at least one marked fragment, made of the query's letters."""
    fragments: list[str] = []
    rest = headline
    while start_sel in rest:
        _, _, after = rest.partition(start_sel)
        fragment, found, rest = after.partition(stop_sel)
        if not found:
            return HeadlineVerdict(False, tuple(fragments), f"unterminated {start_sel} in the headline")
        fragments.append(fragment)
    if not fragments:
        return HeadlineVerdict(False, (), f"nothing marked with {start_sel}...{stop_sel}")
    letters = {c.casefold() for c in query if not c.isspace()}
    strays = [f for f in fragments if not f or not set(f.casefold()) <= letters]
    if strays:
        return HeadlineVerdict(False, tuple(fragments), f"marked text {strays[0]!r} is not made of the query's letters")
    return HeadlineVerdict(True, tuple(fragments), "")
