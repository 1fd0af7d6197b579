"""Attribution metrics: is each statement about the drug, the population and the question asked?

Computed from the answer and the passages it cites, by code independent of the generator's own
selection logic (no scores, no thresholds the generator uses), so a wrong-drug dose that the
generator chose with confidence is still counted wrong.

- subject_agreement: share of answer sentences stating a dose, duration or threshold (a number
  with a unit) whose subject is a drug the question names (or, when it names a class, a member of
  it). The subject is the drug named in the sentence; when it names none, the drug named in the
  scope that travels with it: the text before it on its line (a list label such as
  "Sertraline:", a lead-in), else the nearest heading line above it in the cited passage (a line
  ending with ':' or without a full stop; earlier paragraphs are not its scope), else the cited
  document's title. A sentence whose subject cannot be found counts
  as disagreeing: a dose with no drug attached is not safe to act on. Undefined when the question
  names no drug or the answer states no such number. Drugs are found with the offline dictionary
  of `drug-named-entity-recognition` (names, synonyms and brands resolved to one name).
- population_agreement: share of answer sentences whose population does not contradict the
  question's (populations named only in a parenthesis or an "if / such as / including" clause are
  criteria, not the statement's population). Populations: children, adults, older adults, pregnancy, renal impairment, hepatic
  impairment, read from the sentence, else from the nearest earlier line of its cited passage.
  A question that names none is about adults: only a statement about children contradicts it.
  Between age groups, a statement about another group than the question's contradicts it (adults
  for an older-adults question, adults or older adults for a children's question); between the
  special populations (pregnancy, renal, hepatic), a statement about another one than the
  question's contradicts it. A statement naming the question's population never does.
- repeated_references: per answer, references that cite a document already cited by an earlier
  reference (the number of references minus the number of distinct documents).
- repeated_statements: per answer, sentences that restate an earlier sentence of the answer
  (at least 80% of their analysed words shared, Jaccard).
- verdict_error: for an answer with a yes/no decision, 1.0 when the decision contradicts the
  polarity of the answer's own lead sentences (the direct answer), else 0.0. Polarity is read by
  the phrase lists below, written apart from the decision rule: "yes" over a lead that says to
  avoid or not to recommend, or "no" over a lead that recommends, is an error. A question that asks
  about a negative ("Is X contraindicated ...?", "Should X be avoided ...?") flips the polarity.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag_oracle.text.analyzer import tokenize_one
from rag_oracle.text.quantities import quantities
from rag_oracle.types import Answer, Reference

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")

POPULATIONS = {
    "children": re.compile(
        r"\b(?:child|children|childhood|paediatric|pediatric|infants?|neonat\w*|adolescents?|aged? (?:under|below) 1[0-8])\b",
        re.I,
    ),
    "older adults": re.compile(
        r"\b(?:older (?:adults?|people|patients|persons)|elderly|geriatric|aged (?:65|70|75|80)|over (?:65|70|75|80)|"
        r"(?:65|70|75|80) years (?:and|or) older)\b",
        re.I,
    ),
    "adults": re.compile(r"\b(?:adults?|aged 18|18 to 64|18-64)\b", re.I),
    "pregnancy": re.compile(r"\b(?:pregnan\w*|breastfeed\w*|lactation|lactating)\b", re.I),
    "renal": re.compile(r"\b(?:renal|kidney|creatinine clearance|crcl|egfr|dialysis)\b", re.I),
    "hepatic": re.compile(r"\b(?:hepatic|liver|cirrhosis|child-pugh)\b", re.I),
}
_SPECIAL = {"pregnancy", "renal", "hepatic"}
_AGE = {"children", "adults", "older adults"}

_NEGATIVE_LEAD = re.compile(
    r"\b(?:not recommended|should not|must not|do not (?:use|give|start|prescribe)|avoid\w*|contraindicated|"
    r"not (?:approved|indicated|effective|needed|required|necessary)|no (?:benefit|evidence|role)|"
    r"did not (?:improve|reduce|prevent|help)|does not (?:improve|reduce|prevent|help)|ineffective|"
    r"discourag\w*|against (?:using|use|the use))\b",
    re.I,
)
_POSITIVE_LEAD = re.compile(
    r"\b(?:(?<!not )recommended|(?<!not )indicated|first[- ]line|effective|improved|reduced (?:the )?risk|"
    r"is safe|are safe|should be (?:used|given|started|offered)|is appropriate|beneficial|benefit(?:ed|s)?)\b",
    re.I,
)


@lru_cache(maxsize=4096)
def drugs_in(text: str) -> frozenset[str]:
    """Drug names in `text`, resolved to the dictionary's canonical name, lower-cased."""
    from drug_named_entity_recognition import find_drugs

    words = _WORD.findall(text)
    if not words:
        return frozenset()
    return frozenset(d[0]["name"].lower() for d in find_drugs(words, is_ignore_case=True))


# Criteria and examples name who a recommendation applies to, not the population it is about:
# "preferred when resistance is likely (recent antibiotics, age over 65)" is a statement about adults.
_ASIDES = re.compile(r"\([^()]*\)|\b(?:if|unless|such as|including|for example)\b[^;]*", re.I)


def statement_populations(text: str) -> set[str]:
    """The populations a statement is about: named outside parentheses and criteria clauses."""
    return populations_in(_ASIDES.sub(" ", text))


def populations_in(text: str) -> set[str]:
    found = {name for name, pattern in POPULATIONS.items() if pattern.search(text)}
    if "older adults" in found and not re.search(r"\b(?:younger|18 to 64|18-64|under 65)\b", text, re.I):
        found.discard("adults")  # "older adults" is not also a statement about adults in general
    return found


_HEADING_LINE = re.compile(r"^[^.!?]{1,80}$")


def _locate(sentence: str, passage: str) -> int:
    """Where a sentence stands in a passage; one quoted with its scope ("X: … sentence") by its last part."""
    return passage.find(sentence.split(" \u2026 ")[-1])


_OWN_HEADING = re.compile(r"^(?P<head>[A-Z][^.:;!?]{0,60}?)[.:](?:\s|$)")


def _scope(sentence: str, reference: Reference) -> list[str]:
    """The cited passage's lines before the sentence, nearest first, then the document title (the
    population of a trial's result is stated lines above it, in its methods). A sentence that opens
    with its own heading or label ("Discontinuation. Reduce gradually ...", "Not recommended for
    empirical treatment: ...") is scoped by that heading alone."""
    quoted = sentence.split(" \u2026 ")[0]
    own = _OWN_HEADING.match(quoted)
    if own and len(own.group("head").split()) <= 6:
        return [own.group("head"), reference.title]
    pos = _locate(sentence, reference.passage)
    before = reference.passage[:pos] if pos >= 0 else ""
    lines = [line.strip() for line in before.splitlines() if line.strip()]
    return [*reversed(lines), reference.title]


def _subject_scope(sentence: str, reference: Reference) -> list[str]:
    """What the sentence is filed under in its cited passage, nearest first, then the document title:
    the text before it on its own line (a list item's label, a paragraph's lead-in), then the line
    heading it (ending with ':' or short, without a full stop): for a list item, the heading above
    its list; for a paragraph, a heading right above it. Earlier paragraphs are not its scope.
    A sentence quoted with its scope ("Escitalopram: … For older adults, ...") is located by its
    last part."""
    passage = reference.passage
    pos = _locate(sentence, passage)
    if pos < 0:
        return [reference.title]
    before = passage[:pos]
    lines = before.splitlines()
    same_line = lines[-1].strip() if lines and not before.endswith("\n") else ""
    heads = []
    above = lines[:-1] if same_line or (lines and not before.endswith("\n")) else lines
    is_item = same_line.startswith(("-", "*", "\u2022", "|")) or bool(re.match(r"\d+[.)]\s", same_line))
    for line in reversed(above):  # up through the list the sentence is in, to the heading above it
        line = line.strip()
        if not line:
            continue
        if line.startswith(("-", "*", "\u2022", "|")) or re.match(r"\d+[.)]\s", line):
            if not is_item:
                break  # a list above a paragraph does not scope the paragraph
            continue
        if line.endswith(":") or _HEADING_LINE.match(line):
            heads.append(line)
            break
        break  # a paragraph of prose: what is above it is not this sentence's scope
    return [p for p in [same_line, *reversed(heads)] if p] + [reference.title]


def sentence_subjects(sentence: str, references: list[Reference]) -> frozenset[str]:
    named = drugs_in(sentence)
    if named:
        return named
    for ref in references:
        for piece in _subject_scope(sentence, ref):
            found = drugs_in(piece)
            if found:
                return found
    return frozenset()


def agrees(subjects: frozenset[str], wanted: frozenset[str]) -> bool:
    """Whether a statement about `subjects` is about a drug the question names: the drug itself, or,
    for a question naming a class ("which antidepressant"), a member of it (text/lexicon.py's
    CLASS_MEMBERS or the MeSH tree)."""
    from rag_oracle.text.lexicon import is_class, member_of

    if subjects & wanted:
        return True
    classes = [w for w in wanted if is_class(w)]
    if any(member_of(s, c) for s in subjects for c in classes):
        return True
    # a statement about a class is about its members ("hold factor Xa inhibitors 3 days": rivaroxaban)
    return any(member_of(w, s) for w in wanted for s in subjects if is_class(s))


def population_contradicts(question: set[str], statement: set[str]) -> bool:
    if not statement:
        return False
    if not question:
        return "children" in statement and not statement & {"adults", "older adults"}
    if question & statement:
        return False
    q_age, s_age = question & _AGE, statement & _AGE
    if q_age and s_age and not q_age & s_age:
        return True
    q_special, s_special = question & _SPECIAL, statement & _SPECIAL
    return bool(q_special and s_special and not q_special & s_special)


def _analysed(text: str) -> set[str]:
    return set(tokenize_one(text))


def attribution_scores(question: str, answer: Answer) -> dict[str, float | None]:
    """Per-question attribution values (see the module docstring); None where undefined."""
    if answer.abstained or not answer.sections:
        return {
            "subject_agreement": None,
            "population_agreement": None,
            "repeated_references": None,
            "repeated_statements": None,
            "verdict_error": None,
        }
    refs = {r.number: r for r in answer.references}
    sentences = [s for section in answer.sections for s in section.sentences]
    wanted = drugs_in(question)
    dose_sentences = [s for s in sentences if quantities(s.text)]
    subject = None
    if wanted and dose_sentences:
        agree = 0
        for s in dose_sentences:
            cited = [refs[n] for n in s.citations if n in refs]
            agree += agrees(sentence_subjects(s.text, cited), wanted)
        subject = agree / len(dose_sentences)
    asked = populations_in(question)
    contradicted = 0
    for s in sentences:
        stated = statement_populations(s.text)
        for ref in (refs[n] for n in s.citations if n in refs):
            if stated:
                break
            lines = _scope(s.text, ref)[:-1]  # the passage's earlier lines, not the title
            stated = statement_populations(lines[0]) if lines else set()
        contradicted += population_contradicts(asked, stated)
    population = 1 - contradicted / len(sentences)
    repeated_refs = len(answer.references) - len({r.doc_id for r in answer.references})
    repeated = 0
    seen: list[set[str]] = []
    for s in sentences:
        words = _analysed(s.text)
        if any(words and len(words & w) / len(words | w) >= 0.8 for w in seen):
            repeated += 1
        seen.append(words)
    verdict = None
    if answer.decision is not None:
        lead = " ".join(s.text for section in answer.sections if section.kind == "direct" for s in section.sentences)
        negative, positive = len(_NEGATIVE_LEAD.findall(lead)), len(_POSITIVE_LEAD.findall(lead))
        polarity = "no" if negative > positive else ("yes" if positive > negative else None)
        if polarity is not None and _NEGATIVE_LEAD.search(question):
            # "Is bupropion contraindicated ...?" is answered yes by "bupropion is contraindicated"
            polarity = "yes" if polarity == "no" else "no"
        verdict = float(polarity is not None and answer.decision in {"yes", "no"} and answer.decision != polarity)
    return {
        "subject_agreement": subject,
        "population_agreement": population,
        "repeated_references": float(repeated_refs),
        "repeated_statements": float(repeated),
        "verdict_error": verdict,
    }
