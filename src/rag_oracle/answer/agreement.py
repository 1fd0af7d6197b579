"""Agreement before selection: is a statement about the drug, the population and the question asked?

Every statement of every passage read (text/structure.py: a sentence or table row with its
scope) is judged against the question's analysis (answer/question.py):

- **subject**: the drugs it is about are those it names; when it names none, those of its
  innermost scope (label, heading, lead-in, section title), else of its document's title. Each
  number with a unit belongs to the drug named nearest before it in the sentence (else to the
  statement's subject): in "sertraline (50 mg/day) plus clonazepam 0.5 to 1 mg", 50 mg/day is
  sertraline's. A statement stating a number is eligible only when every number's drug is a drug
  the question names (any of them when the question compares drugs); a statement about another
  drug is eligible for nothing unless the question compares. A question without a drug needs one
  of its topic words in the statement, its scope or its document title.
- **population**: read from the sentence, else its scope, else the document title; a statement
  whose population contradicts the question's (text/lexicon.py `contradicts`) is not eligible.
- **scope**: a number under a heading or label about another indication ("Dosing in seizure
  disorders" for a panic-disorder question) is not eligible when a sibling heading of the same
  document matches the question.
- **role**: recommendation, conclusion, key point or label statement; or background, methods,
  eligibility or one trial's result, which never lead an answer; notes about the document itself
  ("Sample text ... not clinical guidance") and instruction-like text are never quoted.
- **intent**: whether it gives the kind of fact asked for (a dose with a unit for a dose
  question, a duration for a hold question, a maximum for a maximum question, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rag_oracle.text.analyzer import GENERIC, tokenize_one
from rag_oracle.text.lexicon import (
    clearance_ranges,
    contradicts,
    drug_mentions,
    drugs_in,
    is_class,
    member_of,
    populations_in,
    stated_populations,
)
from rag_oracle.text.quantities import quantities
from rag_oracle.text.structure import Statement, document_statements
from rag_oracle.types import Document, DocumentInfo, Hit, QuestionAnalysis

DOSE_UNITS = frozenset({"mg", "mcg", "g", "ml", "unit", "iu", "mmol", "mg/kg", "mg/kg/day", "mg/day"})
TIME_UNITS = frozenset({"hour", "day", "week", "month", "year", "minute"})

_CUES = {
    "start_dose": re.compile(r"\b(?:start\w*|initial\w*|begin\w*|initiat\w*|first dose)\b", re.I),
    "max_dose": re.compile(r"\b(?:maximum|max|not (?:to )?exceed\w*|no more than|up to|highest|limit\w*)\b", re.I),
    "taper": re.compile(r"\b(?:taper\w*|decreas\w*|reduc\w*|discontinu\w*|withdraw\w*|stopp?\w*)\b", re.I),
    "hold": re.compile(
        r"\b(?:stop\w*|hold\w*|held|last dose|before|restart\w*|resum\w*|after|withh\w*)\b|\bday -\d", re.I
    ),
    "duration": re.compile(r"\b(?:course|continu\w*|duration|given for|treat(?:ed)? for|for (?:at least )?\d)", re.I),
    "threshold": re.compile(
        r"(?:\b(?:below|above|under|over|at least|less than|more than|target|goal|threshold|defin\w*|"
        r"indicat\w*|score|count|level|of)\b|[<>\u2264\u2265]=?)",
        re.I,
    ),
    "choice": re.compile(
        r"\b(?:first[- ]line|preferred|prefer|recommended|choice|options?|alternatives?|use|used|start|"
        r"offer\w*|reasonable)\b",
        re.I,
    ),
    "monitoring": re.compile(r"\b(?:monitor\w*|check\w*|measur\w*|review\w*|follow[- ]up)\b", re.I),
    "interactions": re.compile(r"\b(?:interact\w*|inhibitors?|inducers?|combined|concomitant|with)\b", re.I),
    "adverse_effects": re.compile(
        r"\b(?:risks?|adverse|side effects?|warn\w*|contraindicat\w*|toxic\w*|bleed\w*|falls?|sedation|"
        r"dependence|withdrawal|harm\w*|suicid\w*|prolongation)\b",
        re.I,
    ),
}
_RECOMMEND = re.compile(
    r"\b(?:should|recommend\w*|is preferred|are preferred|first[- ]line|indicated|reserve[ds]?|"
    r"contraindicated|avoid\w*|do not|must|is advised|are advised|is appropriate|consider)\b",
    re.I,
)
_IMPERATIVE = re.compile(
    r"^(?:[A-Z][\w -]{0,40}: )?(?:start|stop|avoid|use|give|reduce|increase|decrease|check|monitor|consider|do not|"
    r"continue|switch|review|hold|restart|resume|prescribe|offer|taper|repeat|measure|limit|reserve|bridge|treat|"
    r"refer|confirm|suspect|prioriti[sz]e|allow|aim)\b",
    re.I,
)
_METHOD = re.compile(
    r"\b(?:we (?:pooled|searched|examined|included|conducted|enrolled|analy[sz]ed|assessed|studied|performed|"
    r"compared|identified|reviewed|randomi[sz]ed)|were randomi[sz]ed|randomly assigned|were (?:excluded|eligible|"
    r"enrolled|included|recruited|followed)|inclusion criteria|exclusion criteria|primary outcome|secondary "
    r"outcomes?|this (?:study|trial|cohort|analysis) (?:examined|evaluated|assessed))\b",
    re.I,
)
_RESULT = re.compile(
    r"(?:95% ?CI|\bP ?[=<>]|\bp ?[=<>] ?0|odds ratio|hazard ratio|relative risk|\b\d+(?:\.\d+)?% vs\.? \d|"
    r"\bvs\.? \d+(?:\.\d+)?%|participants were randomi[sz]ed|a total of \d+ (?:participants|patients))",
    re.I,
)
# A study's aim says what was asked, not what was found.
_AIM = re.compile(
    r"^(?:to (?:assess|determine|evaluate|examine|investigate|compare|define|describe|identify|study|test|explore|"
    r"establish|analy[sz]e|characteri[sz]e|measure|estimate|review|clarify|report)\b|(?:the )?(?:aim|purpose|"
    r"objective|goal)s? of (?:this|the|our) (?:study|trial|review|analysis|work)|this (?:study|trial|review|analysis) "
    r"(?:was|is) (?:undertaken|designed|conducted|performed|carried out)|we (?:aimed|sought|wanted|hypothesi[sz]ed|set out)"
    r"|(?:this|the present|our) (?:study|trial) (?:aimed|aims|sought))",
    re.I,
)
_BACKGROUND = re.compile(
    r"\b(?:(?:is|are|remains?) (?:uncertain|unclear|unknown|debated|controversial)|little is known|"
    r"has not been (?:established|studied))\b",
    re.I,
)
_SELF = re.compile(
    r"\b(?:sample (?:text|corpus)|demonstration corpus|not clinical guidance|this (?:summary|document|protocol|"
    r"reference|guide) (?:describes|covers|supports|summari[sz]es)|prepared for the)\b",
    re.I,
)
_SECTION_ROLES = [
    (re.compile(r"method|design|participants|setting|patients and|materials", re.I), "method"),
    (re.compile(r"^(?:results?|findings|recent findings)$", re.I), "result"),
    (re.compile(r"background|introduction|objective|aims?$|purpose|^note$|rationale", re.I), "background"),
    (re.compile(r"conclusion|interpretation|summary", re.I), "conclusion"),
    (re.compile(r"key points?|recommendation|practical approach|bottom line", re.I), "key_point"),
]
_DOSE_WORDS = re.compile(
    r"\b(?:low end of the dose|lowest (?:effective )?dose|start (?:low|at)|reduce the dose|half the (?:usual )?dose|"
    r"dose (?:adjustment|reduction)|no dose adjustment|does not require (?:renal )?dose)",
    re.I,
)
LEADING_ROLES = frozenset({"recommendation", "conclusion", "key_point", "label", "statement"})
_WEAK = frozenset(tokenize_one("disorder disorders disease syndrome condition conditions dosing adults children"))


@dataclass(frozen=True)
class Evidence:
    """One statement of a passage read, judged against the question."""

    hit_index: int  # which passage (0-based, as the generator was shown them)
    statement: Statement  # offsets are in the document text, less `offset`
    offset: int
    quote: str  # what an answer shows (the sentence with its innermost scope)
    subjects: frozenset[str]
    owners: frozenset[str]  # drugs owning the statement's numbers
    population: frozenset[str]
    role: str
    subject_ok: bool
    population_ok: bool
    scope_ok: bool
    population_named: bool  # the statement (or its scope) names the question's population
    on_topic: bool  # no heading or label of it names another indication than the question's
    class_level: bool  # about a drug class, not the drug asked
    shape: bool  # has the kind of number or wording the intent asks for
    shape_soft: bool  # for a dose question: speaks of the dose in words ("start at the low end of the range")
    cue: bool  # says the intent's words ("maximum", "start", "taper")
    has_quantity: bool
    instruction: bool  # instruction-like or self-referential text: never quoted

    @property
    def eligible(self) -> bool:
        return self.subject_ok and self.population_ok and self.scope_ok and not self.instruction

    @property
    def leads(self) -> bool:
        return self.eligible and self.role in LEADING_ROLES

    @property
    def satisfies(self) -> bool:
        return self.shape and self.cue


def role_of(statement: Statement, info: DocumentInfo) -> str:
    return _role(statement.text, statement.section, _is_label_document(info))


def _is_label_document(info: DocumentInfo) -> bool:
    types = " ".join(info.publication_types).lower()
    return "monograph" in types or "label" in types


def _role(text: str, section: str, label_document: bool) -> str:
    if _SELF.search(text):
        return "note"
    if _METHOD.search(text):
        return "method"
    if _AIM.search(text.strip()):
        return "background"  # the aim of a study
    section = section.strip()
    by_section = next((role for pattern, role in _SECTION_ROLES if pattern.search(section)), "")
    if by_section in {"method", "result"}:
        return by_section
    if _RESULT.search(text):
        return "result"
    if _BACKGROUND.search(text):
        return "background"
    if by_section:
        return by_section
    if _RECOMMEND.search(text) or _IMPERATIVE.match(text):
        return "recommendation"
    return "label" if label_document else "statement"


def evidence_level(info: DocumentInfo) -> int:
    """3 guideline or systematic review, 2 drug label or review, 1 anything else."""
    types = " ".join([*info.publication_types, info.source]).lower()
    if re.search(r"guideline|systematic review|meta-analysis|consensus|protocol", types):
        return 3
    if re.search(r"monograph|label|review", types):
        return 2
    return 1


def _scope_drugs(statement: Statement, title: str) -> tuple[frozenset[str], bool]:
    """The drugs of the innermost scope part naming one, else of the title; and whether from the title."""
    for part in reversed(statement.scope):
        found = drugs_in(part.text)
        if found:
            return found, False
    return drugs_in(title), True


def _scope_population(statement: Statement, title: str) -> frozenset[str]:
    for part in reversed(statement.scope):
        found = populations_in(part.text)
        if found:
            return found
    return populations_in(title)


def _owners(statement: Statement, fallback: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The drugs owning the statement's numbers: (named in the sentence before a number, or right
    after it in the same phrase: "at least 3 days for factor Xa inhibitors"; the scope's drugs, for
    numbers the sentence attaches to no drug)."""
    text = statement.text
    mentions = drug_mentions(text)
    named: set[str] = set()
    scoped: set[str] = set()
    for q in quantities(text):
        pos = text.find(q.text)
        before = [m for m in mentions if m.end <= pos]
        after = [m for m in mentions if m.start >= pos + len(q.text) and m.start - (pos + len(q.text)) <= 12]
        if before:
            named.add(before[-1].name)
        elif after:
            named.add(after[0].name)
        else:
            scoped |= set(fallback)
    return frozenset(named), frozenset(scoped)


@lru_cache(maxsize=16384)
def _label_terms(part) -> frozenset[str]:
    """The words of a heading or label that could name an indication (not drugs, populations or
    generic words). Memoised: every statement under the heading asks, for every question."""
    words = set(tokenize_one(part.text))
    drugs = set(tokenize_one(" ".join(m.surface for m in drug_mentions(part.text))))
    populations = set(tokenize_one(" ".join(sorted(populations_in(part.text)))))
    return frozenset(
        {w for w in words if w not in GENERIC and w not in _WEAK and not w.isdigit()} - drugs - populations
    )


def _inner_label(statement: Statement):
    inner = [p for p in statement.scope if p.kind in ("heading", "label")]
    return inner[-1] if inner else None


def matching_label_kinds(statements, analysis: QuestionAnalysis) -> dict[str, int]:
    """For each kind of scope (heading, label), the most question words any heading or label of
    that kind in the document names. A sibling naming fewer is about something else: "Dosing in
    seizure disorders" beside "Dosing in panic disorder" for a panic-disorder question, "Moderate
    intensity" beside "High intensity" for a high-intensity question."""
    return _most_question_words(_label_parts(statements), frozenset(analysis.topic_terms))


def _label_parts(statements) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each distinct (kind, `_label_terms`) of the statements' headings and labels."""
    parts = (part for st in statements for part in st.scope if part.kind in ("heading", "label"))
    return tuple(dict.fromkeys((part.kind, _label_terms(part)) for part in parts))


def _most_question_words(labels: tuple[tuple[str, frozenset[str]], ...], wanted: frozenset[str]) -> dict[str, int]:
    best: dict[str, int] = {}
    for kind, terms in labels:
        count = len(terms & wanted)
        if count:
            best[kind] = max(best.get(kind, 0), count)
    return best


def _shape(text: str, units: frozenset[str], intent: str) -> tuple[bool, bool]:
    """(shape, cue) of a statement's text with these quantity units, for `intent`."""
    if intent in ("start_dose", "max_dose", "dose"):
        shape = bool(units & DOSE_UNITS)
    elif intent in ("hold", "duration"):
        shape = bool(units & TIME_UNITS) or bool(re.search(r"\bday -\d|\b\d+-day hold\b", text))
    elif intent == "threshold":
        shape = bool(re.search(r"\d", text)) and not (units and units <= TIME_UNITS)
    elif intent == "taper":
        shape = bool(units)  # a taper is a schedule: steps and intervals
    else:
        shape = True
    cue = _CUES[intent].search(text) is not None if intent in _CUES else True
    return shape, cue


@dataclass(frozen=True)
class _Facts:
    """What a judgement needs from a statement and its document alone, whatever the question."""

    named: frozenset[str]  # drugs the sentence names
    scope_drugs: frozenset[str]  # of its innermost scope part naming one, else of the title
    from_title: bool
    named_owners: frozenset[str]  # drugs the sentence attaches its numbers to
    scope_owners: frozenset[str]  # the scope's drugs, for numbers attached to none
    units: frozenset[str]  # of its quantities
    has_quantity: bool
    stated: frozenset[str]  # the populations it is about (else its scope's, else the title's)
    role: str
    instruction: bool
    dose_words: bool  # speaks of the dose in words

    @property
    def subjects(self) -> frozenset[str]:
        return self.named or self.scope_drugs

    @property
    def owners(self) -> frozenset[str]:
        return self.named_owners | self.scope_owners


@lru_cache(maxsize=16384)
def _facts(statement: Statement, title: str, label_document: bool) -> _Facts:
    # Every question that reads a statement (an answer's own and its related questions') asks the
    # same of it: memoised.
    text = statement.text
    named = drugs_in(text)
    scope_drugs, from_title = _scope_drugs(statement, title)
    named_owners, scope_owners = _owners(statement, scope_drugs or named)
    found = quantities(text)
    role = _role(text, statement.section, label_document)
    return _Facts(
        named=named,
        scope_drugs=scope_drugs,
        from_title=from_title,
        named_owners=named_owners,
        scope_owners=scope_owners,
        units=frozenset(q.unit for q in found),
        has_quantity=bool(found),
        stated=frozenset(stated_populations(text) or _scope_population(statement, title)),
        role=role,
        instruction=role == "note" or _instruction(text),
        dose_words=bool(_DOSE_WORDS.search(text)),
    )


@dataclass(frozen=True)
class _Asked:
    """What a judgement reads from the question's analysis: hashable, so judgements are memoised."""

    drugs: frozenset[str]
    intent: str
    population: frozenset[str]
    clearance: tuple[float, float] | None
    topic_terms: frozenset[str]

    @classmethod
    def of(cls, analysis: QuestionAnalysis) -> _Asked:
        clearance = tuple(analysis.clearance) if analysis.clearance else None
        return cls(
            frozenset(analysis.drugs),
            analysis.intent,
            frozenset(analysis.population),
            clearance,  # type: ignore[arg-type]
            frozenset(analysis.topic_terms),
        )


def judge(
    statement: Statement,
    info: DocumentInfo,
    document_text: str,
    analysis: QuestionAnalysis,
    hit_index: int = 0,
    *,
    sibling_kinds: Mapping[str, int] | None = None,
    offset: int = 0,
) -> Evidence:
    """`statement` judged against `analysis`; `sibling_kinds`: per scope kind, the most question words
    a heading or label of the same document names (`matching_label_kinds`); `offset`:
    where `document_text` starts in the document. Memoised: judging it again costs a lookup."""
    siblings = tuple(sorted((sibling_kinds or {}).items()))
    label_document = _is_label_document(info)
    return _evidence(
        statement, info.title, label_document, document_text, _Asked.of(analysis), siblings, hit_index, offset
    )


@lru_cache(maxsize=4096)  # about a dozen answers' statements (each entry holds its document's text)
def _evidence(
    statement: Statement,
    title: str,
    label_document: bool,
    document_text: str,
    question: _Asked,
    siblings: tuple[tuple[str, int], ...],
    hit_index: int,
    offset: int,
) -> Evidence:
    # Memoised (an Evidence is immutable): an answer reads the same passages in the same order up to
    # three times (selection, draft, conflicts), and later questions read them again. What does not
    # depend on the question is `_facts`, shared by every question that reads the statement.
    text = statement.text
    facts = _facts(statement, title, label_document)
    named, from_title = facts.named, facts.from_title
    subjects = facts.subjects
    named_owners, scope_owners = facts.named_owners, facts.scope_owners
    owners = facts.owners
    has_quantity = facts.has_quantity
    asked = set(question.drugs)
    asked_specific = {d for d in asked if not is_class(d)}
    class_level = bool(subjects) and all(is_class(d) for d in subjects) and not subjects & asked
    if asked and (question.intent == "choice" or not asked_specific):
        # A class or choice question ("which antidepressant ...?"): member drugs are the answer, other
        # classes are not (benzodiazepines do not answer a question about antidepressants).
        classes = [a for a in asked if is_class(a)]

        def related(drug: str) -> bool:
            if drug in asked or any(member_of(a, drug) for a in asked_specific) or not classes:
                return True  # "which non-heparin anticoagulant ...?" is answered by any drug named
            return any(member_of(drug, c) is not False for c in classes)

        if has_quantity and owners:
            subject_ok = all(related(o) for o in owners) and bool(named or not from_title or owners <= asked)
        else:
            subject_ok = bool(subjects) and any(related(d) for d in subjects)
        if named and not any(related(d) for d in named):
            subject_ok = False  # it names only other drugs ("... concurrent opioid use")
    elif asked:

        def related(drug: str) -> bool:
            if drug in asked:
                return True
            return is_class(drug) and any(member_of(a, drug) for a in asked_specific)

        if has_quantity and owners:
            # A number whose only drug is a class named in the title ("Perioperative management of
            # anticoagulants") is not attached to the drug asked: a bridging heparin dose is not warfarin's.
            title_class = not named and from_title and all(is_class(o) for o in owners)
            # Numbers under a heading naming a group of drugs ("Apixaban, rivaroxaban and edoxaban")
            # are each of them's; numbers the sentence gives another drug are not the asked drug's.
            group = (not from_title and bool(scope_owners & asked)) or all(related(o) for o in scope_owners)
            # "Levofloxacin 500 mg daily or moxifloxacin 400 mg daily": an alternative given with the
            # asked drug's own dose does not make the statement about another drug.
            others = {o for o in named_owners if not related(o)}
            alternatives = bool(named_owners & asked) and all(_offered_as_alternative(text, o) for o in others)
            subject_ok = (not others or alternatives) and group and not title_class
        else:
            subject_ok = bool(subjects) and (bool(subjects & asked) or all(related(d) for d in subjects))
    else:
        words = set(tokenize_one(" ".join([text, statement.scope_text, title])))
        subject_ok = not question.topic_terms or bool(words & set(question.topic_terms))
    stated = facts.stated
    asked_population = question.population
    population_ok = not contradicts(asked_population, stated)
    population_named = bool(asked_population & stated) if asked_population else True
    if not asked_population - {"adults"} and stated - {"adults"} and "adults" not in stated:
        population_named = True
    if question.clearance and population_ok:
        # "creatinine clearance below 30 mL/min" is not answered by the 30 to 49 mL/min row, nor
        # named by a statement giving no clearance at all
        ranges = clearance_ranges(" ".join([statement.scope_text, text]))
        overlaps = any(a < question.clearance[1] and question.clearance[0] < b for a, b in ranges)
        if ranges and not overlaps:
            population_ok = False
        population_named = population_named and overlaps
    on_topic = True  # no heading or label of it names another indication than the question's
    asked_words = set(question.topic_terms)
    sibling_kinds = dict(siblings)
    for part in statement.scope:
        if part.kind in sibling_kinds:
            terms = _label_terms(part)
            if terms and len(terms & asked_words) < sibling_kinds[part.kind]:
                on_topic = False
    scope_ok = on_topic or not has_quantity
    shape, cue = _shape(text, facts.units, question.intent)
    return Evidence(
        hit_index=hit_index,
        statement=statement,
        offset=offset,
        quote=statement.quote(document_text),
        subjects=frozenset(subjects),
        owners=owners,
        population=stated,
        role=facts.role,
        subject_ok=subject_ok,
        population_ok=population_ok,
        scope_ok=scope_ok,
        population_named=population_named,
        on_topic=on_topic,
        class_level=class_level,
        shape=shape,
        shape_soft=shape or facts.dose_words,
        cue=cue,
        has_quantity=has_quantity,
        instruction=facts.instruction,
    )


def _offered_as_alternative(text: str, drug: str) -> bool:
    """Whether every mention of `drug` in `text` is offered as an alternative ("... or moxifloxacin")."""
    mentions = [m for m in drug_mentions(text) if m.name == drug]
    return bool(mentions) and all(re.search(r"\bor\s+$", text[max(0, m.start - 4) : m.start]) for m in mentions)


@lru_cache(maxsize=16384)
def _instruction(text: str) -> bool:
    # A property of the text alone, asked again for every question that retrieves it: memoised.
    try:
        from rag_oracle.text.untrusted import is_instruction, is_self_referential
    except ImportError:  # pragma: no cover - the module ships with the package
        return False
    return is_instruction(text) or is_self_referential(text)


def evidence_for(
    analysis: QuestionAnalysis, passages: list[Hit], documents: Mapping[str, Document] | None
) -> list[Evidence]:
    """Every statement of every passage, judged (a statement repeated by overlapping chunks once)."""
    asked = _Asked.of(analysis)
    out: list[Evidence] = []
    seen: set[tuple[str, int]] = set()
    labelled: dict[str, tuple[tuple[str, int], ...]] = {}  # per document: best question-word count per scope kind
    at_hand: dict[str, tuple[Document | None, _Layout | None]] = {}  # per document: it and its layout, if at hand
    for i, hit in enumerate(passages):
        doc_id = hit.chunk.doc_id
        if doc_id not in at_hand:
            document = documents.get(doc_id) if documents is not None else None
            at_hand[doc_id] = (document, _layout_of(document) if document is not None else None)
        document, layout = at_hand[doc_id]
        if layout is None:  # the passage stands in for its document
            layout = _layout_of(_chunk_document(hit))
        statements, text, offset = _passage_statements(hit, document, layout)
        title, label_document = hit.document.title, _is_label_document(hit.document)
        if doc_id not in labelled:
            labelled[doc_id] = tuple(sorted(_most_question_words(layout.labels, asked.topic_terms).items()))
        for statement in statements:
            statement = with_antecedents(statement, layout.by_index, text)
            if statement is None:
                continue
            key = (doc_id, statement.end + offset)  # a joined statement shares its start with its referent
            if key in seen:
                continue
            seen.add(key)
            out.append(_evidence(statement, title, label_document, text, asked, labelled[doc_id], i, offset))
    return out


def with_antecedents(statement: Statement, by_index: dict, text: str) -> Statement | None:
    """A statement opening with a dangling reference ("It", "That schedule"), joined with the
    sentences it depends on (up to three back), or None when they cannot be found."""
    if statement.antecedent is None:
        return statement
    root, hops = statement, 0
    while root.antecedent is not None and hops < 3:
        root = by_index.get(root.antecedent)
        if root is None:
            return None
        hops += 1
    if root.antecedent is not None:
        return None
    if hops == 1:
        joined = text[root.start : statement.end]
    else:  # "Bupropion ... weight loss. … It lowers the seizure threshold ...": the referent, then the sentence
        joined = f"{root.text} \u2026 {statement.text}"
    return replace(statement, text=joined, start=root.start, antecedent=None, scope=root.scope)


@dataclass(frozen=True, eq=False)
class _Layout:
    """A document's statements as `evidence_for` reads them, worked out once per document text."""

    statements: tuple[Statement, ...]
    by_index: Mapping[int, Statement]
    labels: tuple[tuple[str, frozenset[str]], ...]  # `_label_parts`
    _inside: dict[tuple[int, int], tuple[Statement, ...]] = field(default_factory=dict)

    def inside(self, start: int, end: int) -> tuple[Statement, ...]:
        """The statements lying inside text[start:end] (a chunk's span)."""
        found = self._inside.get((start, end))
        if found is None:
            found = tuple(s for s in self.statements if s.start >= start and s.end <= end)
            self._inside[(start, end)] = found
        return found


def _layout_of(document) -> _Layout:
    return _layout(document.text, tuple((s.title, s.start, s.end) for s in document.sections))


@lru_cache(maxsize=256)
def _layout(text: str, sections: tuple[tuple[str, int, int], ...]) -> _Layout:
    statements = document_statements(_ChunkDocument(text, tuple(_ChunkSection(*s) for s in sections)))
    return _Layout(statements, {st.index: st for st in statements}, _label_parts(statements))


def _passage_statements(hit: Hit, document: Document | None, layout: _Layout) -> tuple[tuple[Statement, ...], str, int]:
    """The statements inside a passage, the text their offsets index, and that text's offset
    (`layout`: the document's, else the passage's)."""
    chunk = hit.chunk
    if document is not None and document.text[chunk.char_start : chunk.char_end] == chunk.text:
        return layout.inside(chunk.char_start, chunk.char_end), document.text, 0
    doc = _chunk_document(hit)
    return document_statements(doc), doc.text, chunk.char_start


@dataclass(frozen=True)
class _ChunkSection:
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class _ChunkDocument:
    """A passage standing in for its document when the document text is not at hand."""

    text: str
    sections: tuple[_ChunkSection, ...]


def _chunk_document(hit: Hit) -> _ChunkDocument:
    text = hit.chunk.text
    return _ChunkDocument(text, (_ChunkSection(hit.chunk.section, 0, len(text)),))
