"""The default generator: an extractive, query-focused composer that needs no LLM.

It can only say what the passages say, word for word, which is what makes it safe for
numbers: every dose, duration and percentage in its answer is quoted from the passage it cites,
together with the heading or label that says what the number is about.

How it works:

1. Statements. Each passage is read as statements with their scope (text/structure.py): a
   sentence with its list label, lead-in, heading and section, or a table row with its column
   headers. Each is judged against the question's analysis (answer/question.py, answer/agreement.py):
   its subject, population, role and whether it gives the kind of fact asked for. Only eligible
   statements are quoted: a dose of another drug, a statement about another population, a number
   under another indication's heading, instruction-like or self-referential text never is.
2. Scoring. Each statement scores 0.65 * cosine(question, title + quote) + 0.35 * (share of the
   question's content words it contains, stemmed), plus
   - +0.12 when it gives what the intent asks for in its words and shape (a starting dose for a
     starting-dose question, a maximum for a maximum), +0.05 for the shape alone;
   - +0.05 for a recommendation, key point, conclusion or label statement; -0.05 for one trial's
     result, -0.08 background, -0.15 methods;
   - +0.02 per evidence level above 1 (guideline or systematic review 3, label or review 2);
   - +0.06 when it names the question's population; -0.06 when it is about a special population
     the question did not ask about;
   - a dangling opener ("It", "That schedule") is quoted together with the sentence before it.
3. The direct answer is the best one or two statements that may lead (recommendation, conclusion,
   key point, label or plain statement; never background or methods) and that give what the
   intent asks for; a guideline, review or label statement leads before a single study's. One
   study's result leads only when nothing else answers, and the answer then says so. Then maximal marginal relevance picks further
   statements (relevant, unlike those chosen, at most `max_sentences_per_document` per document,
   scoring at least 60% of the best); a near-duplicate from another document is not repeated but
   cited to both sources.
4. Layout: "Dosing and administration" holds statements with a dose; "Safety and monitoring"
   statements about risks, warnings and monitoring; "Key points" the rest. Nothing appears twice.

The draft then goes to the answer builder like every generator's: verified, renumbered, one
reference per document, conflicts and related questions added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rag_oracle.answer.agreement import Evidence, evidence_for, evidence_level, with_antecedents
from rag_oracle.answer.question import DOSE_INTENTS, QUANTITY_INTENTS, analyse, population_phrase
from rag_oracle.embed.base import Embedder
from rag_oracle.generate.base import OnToken
from rag_oracle.index.sentences import stored_sentence_embedder
from rag_oracle.settings import AnswerSettings
from rag_oracle.text.analyzer import UniformStatistics, expand_query, tokenize, tokenize_one
from rag_oracle.text.lexicon import is_class, populations_in
from rag_oracle.text.markers import MARKER
from rag_oracle.text.passage import embedding_text
from rag_oracle.text.quantities import quantities
from rag_oracle.text.structure import document_statements, is_heading_like
from rag_oracle.text.untrusted import looks_garbled, strip_source_markers
from rag_oracle.types import CitedSpan, Draft, DraftSection, DraftSentence, Hit, QuestionAnalysis
from rag_oracle.verify.conflicts import find_conflicts

_DOSE = re.compile(
    r"\b\d+(?:\.\d+)?\s?(?:-|to)?\s?(?:\d+(?:\.\d+)?\s?)?(?:mg|mcg|µg|g|ml|mL|units?|IU|mmol|mg/kg)\b"
    r"|\b(?:dose|doses|dosing|dosage|titrat\w*|taper\w*|daily|twice|bedtime)\b",
    re.I,
)
_SAFETY = re.compile(
    r"\b(?:risk\w*|adverse|side effects?|warn\w*|contraindicat\w*|avoid\w*|monitor\w*|withdrawal|dependence|"
    r"toxic\w*|bleed\w*|caution|interact\w*|overdose|suicid\w*|falls?|sedation|respiratory depression|harm\w*)\b",
    re.I,
)
_TAPER = re.compile(r"\b(?:taper\w*|withdraw\w*|discontinu\w*|decreas\w*)\b", re.I)
_AMOUNT = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|µg|g|ml|units?|iu|mmol)\b", re.I)
_MIN_WORDS = 4
_MAX_WORDS = 70  # longer 'sentences' are nearly always merged table rows or lists from a PDF
_MAX_ROW_WORDS = 90
_QUESTION_WORDS = {"what", "which", "how", "when", "why", "who", "whom", "whose", "doe", "can", "should", "would"}
_ROLE_BONUS = {
    "recommendation": 0.05,
    "key_point": 0.05,
    "conclusion": 0.05,
    "label": 0.05,
    "statement": 0.0,
    "result": -0.05,
    "background": -0.08,
    "method": -0.15,
}
_SPECIAL = {"children", "pregnancy", "renal", "hepatic", "older adults"}


# Groups narrower than an age group, whose targets and doses differ ("individualized", "130 to 150
# mmHg"): a statement about them answers a question about older adults only when it is asked.
_NARROWER = re.compile(
    r"\b(?:frail\w*|institutionali[sz]ed|nursing[- ]homes?|care homes?|residential care|"
    r"limited life expectancy|end of life|palliative|advanced dementia)\b",
    re.I,
)


def _unlabelled_narrower(candidate: _Candidate) -> bool:
    """Whether the candidate's heading or scope names a narrower group its own words do not."""
    statement = candidate.evidence.statement
    context = " ".join([statement.section, statement.scope_text])
    return bool(_NARROWER.search(context)) and not _NARROWER.search(candidate.text)


# What a declined answer says it found no statement of, by the question's intent.
_ASKED = {
    "start_dose": "a starting dose",
    "max_dose": "a maximum dose",
    "dose": "a dose",
    "taper": "a taper schedule",
    "hold": "how long to hold it or when to restart it",
    "duration": "a duration",
    "threshold": "a target or threshold",
    "choice": "a preferred choice",
    "monitoring": "what to monitor",
    "interactions": "its interactions",
    "adverse_effects": "its adverse effects",
    "yes_no": "a yes or no answer",
}


@dataclass
class _Candidate:
    evidence: Evidence
    text: str  # what the answer shows
    start: int  # offsets of the quoted sentence in the document text
    end: int
    spans: list[CitedSpan] = field(default_factory=list)
    also: list[int] = field(default_factory=list)  # further passages (0-based) stating the same
    score: float = 0.0

    @property
    def hit_index(self) -> int:
        return self.evidence.hit_index


@lru_cache(maxsize=16384)
def _shown_text(statement, quote: str) -> str | None:
    """What a candidate shows for `statement` (quoted as `quote`), or None when its shape rules it out
    (too short or long, a heading, a question, garbled, or carrying an unremovable source marker).
    Memoised: a property of the statement alone, asked again by every question that quotes it."""
    words = len(statement.text.split())
    limit = _MAX_ROW_WORDS if statement.kind == "row" else _MAX_WORDS
    if (
        not _MIN_WORDS <= words <= limit
        or statement.text.endswith((":", "?"))
        or is_heading_like(statement.text)
        or (statement.kind != "row" and looks_garbled(statement.text))
    ):
        return None
    text = strip_source_markers(quote)
    if MARKER.search(text) or len(text.split()) < _MIN_WORDS:
        return None
    return text


def candidate_texts(document) -> list[str]:
    """The texts the generator embeds for `document`'s statements, whatever the question (ingest
    stores their vectors: index/sentences.py). The same statements, antecedent joins and shape
    rules as a draft; a statement only a draft reaches differently is embedded then."""
    return statement_texts(document, 0, len(document.text))


def statement_texts(document, start: int, end: int) -> list[str]:
    """`candidate_texts` of the statements lying inside document.text[start:end] (a chunk's span),
    each joined with its antecedents as a draft would quote it: what the sentence reranker scores a
    chunk by (retrieve/rerank.py), and so vectors the sentence store holds."""
    return span_statement_texts(document, [(start, end)])[0]


def span_statement_texts(document, spans: Sequence[tuple[int, int]]) -> list[list[str]]:
    """`statement_texts` of each (start, end) span of one document, its statements read once (ingest
    asks it for every chunk of a document: index/sentences.py)."""
    statements = document_statements(document)
    by_index = {st.index: st for st in statements}
    shown: list[tuple[int, int, str]] = []
    for statement in statements:
        if not any(statement.start >= start and statement.end <= end for start, end in spans):
            continue
        joined = with_antecedents(statement, by_index, document.text)
        if joined is None or joined.lead_in_of_block:
            continue
        text = _shown_text(joined, joined.quote(document.text))
        if text is not None:
            shown.append((statement.start, statement.end, embedding_text(document.title, text)))
    return [[text for s, e, text in shown if s >= start and e <= end] for start, end in spans]


class ExtractiveGenerator:
    """Draft a cited answer from the relevant passages, quoting statements verbatim with their scope.

    >>> gen = ExtractiveGenerator(embedder, AnswerSettings(), index)   # doctest: +SKIP
    >>> draft = gen.draft("How long to hold warfarin before surgery?", passages)  # doctest: +SKIP
    """

    name = "extractive"
    version = "2"

    def __init__(self, embedder: Embedder, settings: AnswerSettings, index=None) -> None:
        self.embedder = embedder
        self.settings = settings
        self.index = index  # documents (for each statement's scope) and term statistics
        # statements' vectors stored at ingest (index/sentences.py); the rest are embedded now
        self._sentence_embedder = stored_sentence_embedder(embedder, index)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def identity(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version}

    def draft(self, question: str, passages: list[Hit], on_token: OnToken | None = None) -> Draft:
        generator = self.label
        analysis = analyse(question, self.index if self.index is not None else UniformStatistics())
        documents = self.index.documents if self.index is not None else None
        evidence = evidence_for(analysis, passages, documents)
        # A value one source gives far outside every other source's is shown as a conflict by the
        # answer builder, never stated: it is not a candidate.
        outlying = {c.statements[0][2] for c in find_conflicts(analysis, evidence, passages) if c.outlier}
        evidence = [e for e in evidence if not any(o in e.statement.text for o in outlying)]
        candidates = self._candidates(evidence, passages, documents)
        narrow_asked = bool(_NARROWER.search(question))
        if not narrow_asked:
            # A statement under "Frail older adults" that does not say so itself would give the frail
            # target to every older adult: left out unless the question asks about that group.
            candidates = [c for c in candidates if not _unlabelled_narrower(c)]
        if not candidates:
            return Draft(generator=generator, declined="no statement of the relevant passages is about the question")
        query_vec = self.embedder.embed_query(question)
        vecs = self._sentence_embedder.embed_documents(
            [embedding_text(passages[c.hit_index].document.title, c.text) for c in candidates]
        )
        self._score(question, analysis, candidates, vecs, query_vec, passages)
        # one that says so may be shown, labelled, but does not lead an answer about the wider group
        narrower = set() if narrow_asked else {i for i, c in enumerate(candidates) if _NARROWER.search(c.text)}
        direct = self._direct(analysis, candidates, vecs, passages, narrower)
        if not direct:
            what = _ASKED.get(analysis.intent, "what the question asks")
            population = population_phrase(analysis.population)
            if population and analysis.intent != "general":
                what = f"{what} {population}"
            return Draft(generator=generator, declined=f"no statement of the relevant passages gives {what}")
        chosen = self._select(candidates, vecs, passages, direct)
        # Nothing is written token by token here, so `on_token` is never called.
        rest = chosen[len(direct) :]
        rest += self._safety_reserve(candidates, rest)
        return Draft(
            sections=self._layout(candidates, direct, rest, analysis.intent, analysis.population), generator=generator
        )

    def _candidates(self, evidence: list[Evidence], passages: list[Hit], documents) -> list[_Candidate]:
        out: list[_Candidate] = []
        for e in evidence:
            st = e.statement
            if not e.eligible or st.lead_in_of_block:
                continue
            text = _shown_text(st, e.quote)
            if text is None:
                continue
            doc_text = _document_text(documents, passages[e.hit_index], e)
            spans = [_span(doc_text, a, b, e.offset) for a, b in st.spans() if a is not None]
            out.append(_Candidate(e, text, st.start + e.offset, st.end + e.offset, spans))
        return out

    def _score(self, question, analysis: QuestionAnalysis, candidates, vecs, query_vec, passages) -> None:
        query_terms = set(tokenize([expand_query(question)])[0]) - _QUESTION_WORDS
        sentence_terms = tokenize([c.text for c in candidates])
        asked = set(analysis.population)
        class_question = bool(analysis.drugs) and all(is_class(d) for d in analysis.drugs)
        for c, vec, terms in zip(candidates, vecs, sentence_terms, strict=True):
            e = c.evidence
            shared = len(query_terms & set(terms))
            c.score = 0.65 * float(vec @ query_vec) + 0.35 * (shared / len(query_terms) if query_terms else 0.0)
            c.score += 0.12 if e.satisfies else (0.05 if e.shape and analysis.intent in QUANTITY_INTENTS else 0.0)
            c.score += _ROLE_BONUS.get(e.role, 0.0)
            c.score += 0.03 * (evidence_level(passages[c.hit_index].document) - 1)
            if asked - {"adults"} and e.population & asked:
                c.score += 0.06
            elif (e.population & _SPECIAL) - asked:
                c.score -= 0.06
            scope_words = set(tokenize([e.statement.scope_text])[0]) if e.statement.scope else set()
            topic = set(analysis.topic_terms)
            if scope_words & topic:
                c.score += 0.1  # filed under a heading or section that names the question's topic
            if topic:  # what the question is about beyond the drug: "before spinal or epidural anaesthesia"
                c.score += 0.08 * len(topic & (set(terms) | scope_words)) / len(topic)
            if e.class_level and not class_question:
                c.score -= 0.04  # about the drug's class, not the drug
            elif class_question and analysis.intent != "choice" and e.subjects - set(analysis.drugs):
                c.score -= 0.05  # one member drug's schedule answers a question about the class only in part
            if not e.on_topic:
                c.score -= 0.1

    def _direct(
        self,
        analysis: QuestionAnalysis,
        candidates: list[_Candidate],
        vecs: np.ndarray,
        passages: list[Hit],
        narrower: set[int] = frozenset(),  # type: ignore[assignment]
    ) -> list[int]:
        """The one or two statements that lead: allowed to lead, giving what the intent asks for
        (never one about a narrower group than the question's, `narrower`)."""
        leads = [i for i, c in enumerate(candidates) if c.evidence.leads]
        if analysis.intent == "general":
            # "What is X?": a definition, which abstracts state as background, is the answer
            leads += [i for i, c in enumerate(candidates) if c.evidence.eligible and c.evidence.role == "background"]
        asked = set(analysis.population) - {"adults"}
        quantity = analysis.intent in QUANTITY_INTENTS

        def fits(i: int) -> bool:
            e = candidates[i].evidence
            if i in narrower or not e.on_topic or (quantity and not e.shape):
                return False
            if asked and not e.population_named:
                return False
            return not (e.population & _SPECIAL) - set(analysis.population)

        def soft(i: int) -> bool:  # a dose in words, for a population the index gives no number for
            e = candidates[i].evidence
            return bool(asked) and e.on_topic and e.population_named and e.shape_soft

        # Last resort, when no recommendation, conclusion or plain statement answers: one study's
        # result (a research abstract's findings); the answer builder then says the evidence is one study.
        results = [i for i, c in enumerate(candidates) if c.evidence.eligible and c.evidence.role == "result"]
        pools = (
            [i for i in leads if fits(i) and candidates[i].evidence.cue],
            [i for i in leads if fits(i)],
            [i for i in leads if soft(i)],
            [i for i in results if fits(i)],
        )
        pool = next((p for p in pools if p), [])
        if not pool:
            return []
        if analysis.drugs and all(is_class(d) for d in analysis.drugs) and analysis.intent != "choice":
            # "How fast should a benzodiazepine be tapered?": the class's rule leads, not one member's label
            general = [i for i in pool if not {d for d in candidates[i].evidence.subjects if not is_class(d)}]
            pool = general or pool
        if analysis.compares:  # "diazepam ... equivalent to lorazepam 1 mg": a statement naming both leads
            both = [i for i in pool if len(candidates[i].evidence.subjects & set(analysis.drugs)) >= 2]
            pool = both or pool
        # A guideline, review or label statement that answers leads before a single study's.
        level = {i: evidence_level(passages[candidates[i].hit_index].document) for i in pool}
        if any(v >= 2 for v in level.values()):
            pool = [i for i in pool if level[i] >= 2]
        pool.sort(key=lambda i: (-candidates[i].score, candidates[i].start))
        out = [pool[0]]
        for i in pool[1:]:
            if candidates[i].score < 0.85 * candidates[out[0]].score:
                break
            if _restates(candidates[i], candidates[out[0]], float(vecs[i] @ vecs[out[0]])):
                self._merge(candidates[out[0]], candidates[i])
                continue
            out.append(i)
            break
        return out

    @staticmethod
    def _merge(kept: _Candidate, duplicate: _Candidate) -> None:
        """A near-identical statement from another passage: cite it, don't repeat it."""
        if duplicate.hit_index != kept.hit_index and duplicate.hit_index not in kept.also:
            kept.also.append(duplicate.hit_index)
            kept.spans.extend(duplicate.spans)

    def _select(self, candidates: list[_Candidate], vecs: np.ndarray, hits: list[Hit], direct: list[int]) -> list[int]:
        s = self.settings
        floor = 0.6 * max(c.score for c in candidates)
        chosen: list[int] = list(direct)
        per_doc: dict[str, int] = {}
        for i in chosen:
            doc_id = hits[candidates[i].hit_index].chunk.doc_id
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        pool = [
            i
            for i, c in enumerate(candidates)
            if c.score >= floor and i not in chosen and c.evidence.role not in ("method", "background")
        ]
        while pool and len(chosen) < s.max_sentences:

            def mmr(i: int) -> tuple[float, str, int]:
                redundancy = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
                value = (1 - s.redundancy) * candidates[i].score - s.redundancy * redundancy
                # deterministic tie-break: chunk id, then position in the document
                return (-value, hits[candidates[i].hit_index].chunk.id, candidates[i].start)

            best = min(pool, key=mmr)
            pool.remove(best)
            near = [j for j in chosen if _restates(candidates[best], candidates[j], float(vecs[best] @ vecs[j]))]
            if near:
                self._merge(candidates[near[0]], candidates[best])
                continue  # a near-duplicate of a chosen statement adds nothing but its source
            if any(_same_statement(candidates[best], candidates[j]) for j in chosen):
                continue
            doc_id = hits[candidates[best].hit_index].chunk.doc_id
            if per_doc.get(doc_id, 0) >= s.max_sentences_per_document:
                continue
            chosen.append(best)
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        return chosen

    def _safety_reserve(self, candidates: list[_Candidate], rest: list[int]) -> list[int]:
        """One safety statement when selection found none: an answer page always covers safety, as
        long as the statement is about the subject and reasonably on topic (45% of the best score)."""
        if any(_SAFETY.search(candidates[i].text) for i in rest):
            return []
        floor = 0.45 * max(c.score for c in candidates)
        taken = set(rest)
        extra = [
            i
            for i, c in enumerate(candidates)
            if i not in taken
            and c.score >= floor
            and _SAFETY.search(c.text)
            and c.evidence.role not in ("method", "background", "result")
            and not any(_same_statement(c, candidates[j]) for j in taken)
        ]
        return sorted(extra, key=lambda i: (-candidates[i].score, candidates[i].start))[:1]

    def _layout(
        self,
        candidates: list[_Candidate],
        direct_ids: list[int],
        rest_ids: list[int],
        intent: str,
        population: list[str],
    ) -> list[DraftSection]:
        direct = [candidates[i] for i in direct_ids]
        rest = [candidates[i] for i in rest_ids if not any(_same_statement(candidates[i], d) for d in direct)]
        # Under another indication's heading, only a safety statement is kept; for a question about a
        # population (children, renal impairment, ...), a number only when it is stated for that population.
        rest = [c for c in rest if c.evidence.on_topic or _SAFETY.search(c.text)]
        if set(population) - {"adults"}:
            rest = [c for c in rest if c.evidence.population_named or not c.evidence.has_quantity]
        else:  # a number for a special population shows only with that population in its words
            rest = [c for c in rest if not _unlabelled_special(c, population)]
        # A safety statement that merely mentions "doses" is about safety; one with an amount is dosing.
        dosing = [
            c
            for c in rest
            if c.evidence.on_topic
            and _DOSE.search(c.text)
            and (_AMOUNT.search(c.text) or not _SAFETY.search(c.text))
            and (intent not in DOSE_INTENTS or not _TAPER.search(c.text))
        ]
        safety = [c for c in rest if c not in dosing and _SAFETY.search(c.text)]
        key_points = [c for c in rest if c not in dosing and c not in safety]
        groups = [
            ("direct", "Answer", direct),
            ("dosing", "Dosing and administration", dosing),
            ("safety", "Safety and monitoring", safety),
            ("key_points", "Key points", key_points),
        ]
        return [
            DraftSection(
                kind=kind,
                title=title,
                sentences=[
                    DraftSentence(
                        text=c.text,
                        citations=[c.hit_index + 1, *(a + 1 for a in c.also)],
                        spans=sorted(set(c.spans), key=lambda sp: sp.char_start),
                    )
                    for c in group
                ],
            )
            for kind, title, group in groups
            if group
        ]


def _unlabelled_special(c: _Candidate, population: list[str]) -> bool:
    """A number about a population the question did not ask about (from its document's title, say:
    a guideline for adults aged 65 and older) that the quoted words do not name."""
    special = (c.evidence.population & _SPECIAL) - set(population)
    return bool(c.evidence.has_quantity and special and not populations_in(c.text) & special)


def _restates(a: _Candidate, b: _Candidate, cosine: float) -> bool:
    """Whether `a` states what `b` states: embeddings nearly identical, or most words and every
    number the same ("Warfarin: stop 5 days before; INR the day before; ..." in two documents)."""
    wa, wb = set(tokenize_one(a.text)), set(tokenize_one(b.text))
    overlap = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    same_numbers = {q.key() for q in quantities(a.text)} == {q.key() for q in quantities(b.text)}
    # (the embeddings carry the document title, so two sentences of one paper are close in cosine)
    return (cosine > 0.92 and overlap >= 0.35 and same_numbers) or (overlap >= 0.6 and same_numbers)


def _same_statement(a: _Candidate, b: _Candidate) -> bool:
    """Whether two candidates quote overlapping text of one document (a sentence and the pair it opens)."""
    da, db = a.evidence, b.evidence
    return da.hit_index == db.hit_index and a.start < b.end and b.start < a.end


def _span(doc_text: str, a: int, b: int, offset: int) -> CitedSpan:
    return CitedSpan(text=doc_text[a:b], char_start=a + offset, char_end=b + offset)


def _document_text(documents, hit: Hit, e: Evidence) -> str:
    if e.offset == 0 and documents is not None and hit.chunk.doc_id in documents:
        return documents[hit.chunk.doc_id].text
    return hit.chunk.text
