"""Gate 1 criterion databases.cjk_parser: Chinese, Japanese and Korean full-text search works on every
PostgreSQL instance, through the pg_cjk_parser extension the production image ships.

Checks: (1) the extension, parser, configuration, mappings and database default exist as the bootstrap SQL
declares them; (2) the seed's smoke queries; (3) the packaged corpus (dbc_validate/data/cjk/corpus.yaml) finds
exactly what it must;
(4) Hypothesis: any run of two or more CJK letters finds its document, a run with an absent pair does not;
(5) a GIN index serves such a query and ts_headline marks the match. Failures show input, expectation
and what the database produced (its ts_debug tokens).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import psycopg
import pytest
import yaml

from dbc_validate.analysis.bootstrap_sql import declared_mappings
from dbc_validate.analysis.cjk_catalog import CONFIGURATION, EXTENSION, catalog_problems, mapping_differences
from dbc_validate.analysis.cjk_corpus import parse_corpus
from dbc_validate.analysis.cjk_oracle import Expectation, agrees, judge_headline
from dbc_validate.capabilities import InstanceKind, PostgresCapability, PostgresInstance
from dbc_validate.errors import InputError
from dbc_validate.probes.cjk_search import (
    HOW_TO_PROVIDE_THE_PARSER,
    explain_search,
    headline,
    is_read_only,
    probe_gin_index,
    read_catalog,
    read_mappings,
    search,
    smoke,
)
from dbc_validate.resources import CJK_CORPUS, data_path

if TYPE_CHECKING:
    from dbc_validate.analysis.cjk_samples import SearchCase

CORPUS_PATH = data_path(CJK_CORPUS)
CORPUS = parse_corpus(yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8")))
INDEX_QUERY = "seed-hiragana-kanji"  # corpus query whose plan and answer the index check examines
HEADLINE_CASES = (("seed-ja-zh", "のび太"), ("zh-hans-guide", "越野摩托"), ("ko-hangul", "오토바이"))
SHOWN = 6  # failures listed per instance; the rest are counted

pytestmark = pytest.mark.gate1("databases.cjk_parser")

Connections = Sequence[tuple[PostgresInstance, psycopg.Connection]]


def lab_without_parser(instance: PostgresInstance) -> str | None:
    """Why the harness's own lab cannot have the parser (it is compiled into the production image only)."""
    if instance.kind is not InstanceKind.LAB or instance.bootstrap is None:
        return None
    lacking = instance.bootstrap.lacks(EXTENSION)
    return f"{instance.name} could not CREATE EXTENSION {EXTENSION} ({lacking})" if lacking else None


@pytest.fixture(scope="module")
def connections(postgres: PostgresCapability) -> Iterator[Connections]:
    """One connection per instance to check; skips when the only instances are labs without the parser."""
    missing = [reason for reason in map(lab_without_parser, postgres.instances) if reason]
    instances = [i for i in postgres.instances if lab_without_parser(i) is None]
    if not instances:
        pytest.skip(f"{'; '.join(missing)}: {HOW_TO_PROVIDE_THE_PARSER}")
    opened: list[tuple[PostgresInstance, psycopg.Connection]] = []
    try:
        for instance in instances:
            opened.append((instance, instance.connect()))
        yield opened
    finally:
        for _, conn in opened:
            conn.close()


def fail_if_any(failures: list[str], summary: str) -> None:
    if failures:
        pytest.fail(f"{summary}\n" + "\n".join(failures), pytrace=False)


def _sql_error(exc: psycopg.Error) -> str:
    return f"{exc.diag.message_primary or exc} [{exc.sqlstate}]"


def test_extension_parser_and_configuration_exist_and_are_the_database_default(
    connections: Connections, gate1_evidence
) -> None:
    failures = []
    for instance, conn in connections:
        catalog = read_catalog(conn)
        gate1_evidence.note(
            f"{instance}: database {catalog.database}, {EXTENSION} {catalog.extension_version or 'not installed'}, "
            f"default_text_search_config {catalog.session_default}"
        )
        problems = catalog_problems(catalog)
        if problems:
            failures.append(f"{instance}:\n  " + "\n  ".join(problems))
    gate1_evidence.measure("instances_checked", len(connections))
    fail_if_any(failures, f"the CJK text search objects are not what production needs ({CONFIGURATION} by default)")


def test_configuration_maps_token_types_as_the_bootstrap_declares(
    postgres: PostgresCapability, connections: Connections, gate1_evidence
) -> None:
    try:
        bootstrap = postgres.require_bootstrap()
    except InputError as exc:
        pytest.skip(f"cannot compare the mappings with the manifest set's bootstrap SQL: {exc}")
    declared = declared_mappings(bootstrap.statements())
    if not declared:
        pytest.fail(f"the bootstrap SQL ({bootstrap.source}) declares no mappings for {CONFIGURATION}", pytrace=False)
    failures = []
    for instance, conn in connections:
        differences = mapping_differences(declared, read_mappings(conn))
        if differences:
            failures.append(f"{instance}:\n  " + "\n  ".join(differences))
    gate1_evidence.configured(
        "declared_mappings", len(declared), label="token-type mappings the bootstrap SQL declares"
    )
    matching = len(connections) - len(failures)
    gate1_evidence.measure(
        "instances_matching", matching, label=f"instances mapping them as declared, of {len(connections)}"
    )
    fail_if_any(failures, f"{CONFIGURATION} does not map token types as {bootstrap.source} declares")


def test_seed_smoke_queries_find_their_documents(connections: Connections, gate1_evidence) -> None:
    failures = []
    answered = 0
    for instance, conn in connections:
        for case in CORPUS.smoke:
            try:
                answers = smoke(conn, case.document, case.queries)
            except psycopg.Error as exc:
                failures.append(f"{instance}: smoke test {case.name} could not run: {_sql_error(exc)}")
                continue
            answered += sum(1 for found in answers if found)
            for query, found in zip(case.queries, answers, strict=True):
                if not found:
                    failures.append(
                        f"{instance}: smoke test {case.name}: plainto_tsquery({query!r}) must find "
                        f"{case.document!r}, but the database said false\n{explain_search(conn, case.document, query)}"
                    )
    asked = sum(len(c.queries) for c in CORPUS.smoke)
    gate1_evidence.configured("smoke_queries", asked, label="smoke queries in the seed corpus")
    of = asked * len(connections)
    gate1_evidence.measure("smoke_queries_found", answered, label=f"smoke answers that found their document, of {of}")
    fail_if_any(failures, "the seed's CJK smoke queries fail")


def test_corpus_queries_find_exactly_the_expected_documents(connections: Connections, gate1_evidence) -> None:
    expectations = CORPUS.expectations()
    failures = []
    for instance, conn in connections:
        try:
            answers = search(conn, [(doc.text, query.text) for query, doc, _ in expectations])
        except psycopg.Error as exc:
            failures.append(f"{instance}: the corpus queries could not run: {_sql_error(exc)}")
            continue
        wrong = [(q, d, e, a) for (q, d, e), a in zip(expectations, answers, strict=True) if not agrees(e, a)]
        for query, doc, expectation, answer in wrong[:SHOWN]:
            must = "must find" if expectation is Expectation.MATCH else "must not find"
            failures.append(
                f"{instance}: query {query.id} {query.text!r} {must} document {doc.id} {doc.text!r}, "
                f"but the database said {'match' if answer else 'no match'}\n"
                + explain_search(conn, doc.text, query.text)
            )
        if len(wrong) > SHOWN:
            failures.append(f"{instance}: ... and {len(wrong) - SHOWN} more of {len(expectations)} expectations wrong")
        gate1_evidence.configured("corpus_expectations", len(expectations), label="expectations in the corpus")
        gate1_evidence.measure(
            f"corpus_expectations_met_{instance.name}",
            len(expectations) - len(wrong),
            label=f"expectations met on {instance}",
        )
        gate1_evidence.note(f"{instance}: {len(expectations) - len(wrong)}/{len(expectations)} corpus expectations met")
    fail_if_any(failures, f"CJK search does not find what {CORPUS_PATH.name} expects")


@pytest.fixture(scope="module")
def parser_connections(connections: Connections) -> Connections:
    """Connections to instances that have the extension: the property test compares real 2-gram search only."""
    with_parser = [(i, c) for i, c in connections if read_catalog(c).extension_version is not None]
    if not with_parser:
        names = ", ".join(str(i) for i, _ in connections)
        pytest.skip(
            f"the property test needs {EXTENSION}, which {names} lack(s) (the other checks report that); "
            + HOW_TO_PROVIDE_THE_PARSER
        )
    return with_parser


def test_any_run_of_two_or_more_letters_finds_its_document_and_absent_runs_do_not(
    parser_connections: Connections,
) -> None:
    # Hypothesis is imported here, not at module level: collecting the suites stays fast.
    from hypothesis import HealthCheck, given, settings

    from dbc_validate.analysis.cjk_samples import search_cases

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=search_cases())
    def check(case: SearchCase) -> None:
        pairs = [(case.document, query) for query, _ in case.queries]
        for instance, conn in parser_connections:
            plain = search(conn, pairs)
            phrase = search(conn, pairs, phrase=True)
            for (query, expectation), by_words, by_phrase in zip(case.queries, plain, phrase, strict=True):
                if not (agrees(expectation, by_words) and agrees(expectation, by_phrase)):
                    pytest.fail(
                        f"{instance}: query {query!r} on document {case.document!r}: expected "
                        f"{expectation.value}, plainto_tsquery said {by_words}, phraseto_tsquery said {by_phrase}\n"
                        f"{explain_search(conn, case.document, query)}",
                        pytrace=False,
                    )

    check()


def test_gin_index_serves_cjk_search(connections: Connections, gate1_evidence) -> None:
    query = next(q for q in CORPUS.queries if q.id == INDEX_QUERY)
    documents = [(d.id, d.text) for d in CORPUS.documents]
    failures, probed = [], 0
    for instance, conn in connections:
        if is_read_only(conn):
            gate1_evidence.note(f"{instance}: read-only (a replica), the index probe runs on writable instances")
            continue
        try:
            probe = probe_gin_index(conn, documents, query.text)
        except psycopg.Error as exc:
            failures.append(f"{instance}: the index probe could not run: {_sql_error(exc)}")
            continue
        probed += 1
        gate1_evidence.note(f"{instance}: plan for {query.text!r}: {probe.plan}")
        gate1_evidence.measure("index_chosen_by_planner", probe.chosen_by_planner)
        if not probe.usable:
            failures.append(
                f"{instance}: GIN index {probe.index} on to_tsvector('{CONFIGURATION}', body) is not used for "
                f"plainto_tsquery({query.text!r}); plan: {probe.plan}"
            )
        missed = [d for d in query.match if d not in probe.found]
        extra = [d for d in probe.found if d in query.no_match]
        if missed or extra:
            failures.append(
                f"{instance}: the indexed query {query.text!r} returned {list(probe.found)}; "
                f"expected {list(query.match)}" + (f", must not return {extra}" if extra else "")
            )
    if probed == 0 and not failures:
        pytest.skip("every instance is read-only; the index probe needs a writable instance (the primary)")
    fail_if_any(failures, "a GIN index on the CJK configuration does not serve CJK search")


def test_headline_marks_the_matched_cjk_text(connections: Connections, gate1_evidence) -> None:
    failures = []
    marked_well = 0
    for instance, conn in connections:
        for doc_id, query in HEADLINE_CASES:
            document = CORPUS.document(doc_id).text
            try:
                marked = headline(conn, document, query)
            except psycopg.Error as exc:
                failures.append(f"{instance}: ts_headline could not run: {_sql_error(exc)}")
                break
            verdict = judge_headline(marked, query)
            marked_well += verdict.ok
            if not verdict.ok:
                failures.append(
                    f"{instance}: ts_headline of {document!r} for {query!r}: {verdict.problem}; "
                    f"headline: {marked!r}\n{explain_search(conn, document, query)}"
                )
    gate1_evidence.configured("headline_cases", len(HEADLINE_CASES), label="ts_headline cases in the catalogue")
    of = len(HEADLINE_CASES) * len(connections)
    gate1_evidence.measure("headlines_marked", marked_well, label=f"headlines marking the matched text, of {of}")
    fail_if_any(failures, "ts_headline does not mark the CJK text a query matched")
