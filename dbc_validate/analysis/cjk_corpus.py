"""The CJK search corpus (dbc_validate/data/cjk/corpus.yaml) as typed data: documents, queries with the documents each
must and must not find, and the seed's smoke queries. Parsing validates ids; no file access here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.cjk_oracle import Expectation

REST = "rest"  # in no_match: every document not listed under match or either


@dataclass(frozen=True)
class Document:
    id: str
    lang: str
    text: str


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    match: tuple[str, ...]
    no_match: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class SmokeCase:
    """One of the seed's smoke tests: every query must find the document."""

    name: str
    document: str
    queries: tuple[str, ...]


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    queries: tuple[Query, ...]
    smoke: tuple[SmokeCase, ...]

    def document(self, doc_id: str) -> Document:
        return next(d for d in self.documents if d.id == doc_id)

    def expectations(self) -> list[tuple[Query, Document, Expectation]]:
        """Every declared (query, document, expectation), in corpus order."""
        result = []
        for query in self.queries:
            for doc_id in query.match:
                result.append((query, self.document(doc_id), Expectation.MATCH))
            for doc_id in query.no_match:
                result.append((query, self.document(doc_id), Expectation.NO_MATCH))
        return result


class CorpusError(ValueError):
    """The corpus file is malformed (the message says where)."""


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise CorpusError(f"{where} must be a list of strings")


def _query(raw: Mapping[str, Any], doc_ids: Sequence[str]) -> Query:
    qid = str(raw.get("id", ""))
    text = raw.get("text")
    if not qid or not isinstance(text, str) or not text.strip():
        raise CorpusError(f"query {raw!r} needs an id and a text")
    match = _strings(raw.get("match"), f"query {qid}: match")
    either = _strings(raw.get("either"), f"query {qid}: either")
    no_match = _strings(raw.get("no_match"), f"query {qid}: no_match")
    if no_match == [REST]:
        no_match = [d for d in doc_ids if d not in match and d not in either]
    unknown = [d for d in [*match, *either, *no_match] if d not in doc_ids]
    if unknown:
        raise CorpusError(f"query {qid} names unknown documents: {', '.join(unknown)}")
    both = set(match) & set(no_match)
    if both:
        raise CorpusError(f"query {qid} lists {', '.join(sorted(both))} under both match and no_match")
    return Query(qid, text, tuple(match), tuple(no_match), str(raw.get("note", "")))


def parse_corpus(data: Any) -> Corpus:
    """The corpus from its parsed YAML; CorpusError naming the problem."""
    if not isinstance(data, Mapping):
        raise CorpusError("the corpus must be a mapping with documents, queries and smoke")
    documents = []
    for raw in data.get("documents") or []:
        if not isinstance(raw, Mapping) or not raw.get("id") or not isinstance(raw.get("text"), str):
            raise CorpusError(f"document {raw!r} needs an id and a text")
        documents.append(Document(str(raw["id"]), str(raw.get("lang", "")), raw["text"]))
    doc_ids = [d.id for d in documents]
    if len(set(doc_ids)) != len(doc_ids):
        raise CorpusError("document ids must be unique")
    queries = [_query(raw, doc_ids) for raw in data.get("queries") or []]
    if len({q.id for q in queries}) != len(queries):
        raise CorpusError("query ids must be unique")
    smoke = [
        SmokeCase(str(raw.get("name", "")), str(raw.get("document", "")), tuple(_strings(raw.get("queries"), "smoke")))
        for raw in data.get("smoke") or []
    ]
    if not documents or not queries:
        raise CorpusError("the corpus needs documents and queries")
    return Corpus(tuple(documents), tuple(queries), tuple(smoke))
