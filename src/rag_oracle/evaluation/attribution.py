"""Attribution metrics: is each statement about the drug, the population and the question asked?

Computed from the answer and the passages it cites, by code independent of the generator's own
selection logic (no scores, no thresholds the generator uses), so a wrong-drug dose that the
generator chose with confidence is still counted wrong.

- subject_agreement: share of answer sentences stating a dose, duration or threshold (a number
  with a unit) whose subject is a drug the question names. The subject is the drug named in the
  sentence; when it names none, the drug named in the quoted scope that travels with it: the
  nearest earlier line of the cited passage that names a drug (a list heading, a lead-in such as
  "Sertraline:"), else the cited document's title. A sentence whose subject cannot be found counts
  as disagreeing: a dose with no drug attached is not safe to act on. Undefined when the question
  names no drug or the answer states no such number. Drugs are found with the offline dictionary
  of `drug-named-entity-recognition` (names, synonyms and brands resolved to one name).
- population_agreement: share of answer sentences whose population does not contradict the
  question's. Populations: children, adults, older adults, pregnancy, renal impairment, hepatic
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
  avoid or not to recommend, or "no" over a lead that recommends, is an error.
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


def populations_in(text: str) -> set[str]:
    found = {name for name, pattern in POPULATIONS.items() if pattern.search(text)}
    if "older adults" in found and not re.search(r"\b(?:younger|18 to 64|18-64|under 65)\b", text, re.I):
        found.discard("adults")  # "older adults" is not also a statement about adults in general
    return found


def _scope(sentence: str, reference: Reference) -> list[str]:
    """The cited passage's lines before the sentence, nearest first, then the document title."""
    passage = reference.passage
    pos = passage.find(sentence)
    before = passage[:pos] if pos >= 0 else ""
    lines = [line.strip() for line in before.splitlines() if line.strip()]
    return [*reversed(lines), reference.title]


def sentence_subjects(sentence: str, references: list[Reference]) -> frozenset[str]:
    named = drugs_in(sentence)
    if named:
        return named
    for ref in references:
        for piece in _scope(sentence, ref):
            found = drugs_in(piece)
            if found:
                return found
    return frozenset()


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
            agree += bool(sentence_subjects(s.text, cited) & wanted)
        subject = agree / len(dose_sentences)
    asked = populations_in(question)
    contradicted = 0
    for s in sentences:
        stated = populations_in(s.text)
        for ref in (refs[n] for n in s.citations if n in refs):
            if stated:
                break
            lines = _scope(s.text, ref)[:-1]  # the passage's earlier lines, not the title
            stated = populations_in(lines[0]) if lines else set()
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
        verdict = float(polarity is not None and answer.decision in {"yes", "no"} and answer.decision != polarity)
    return {
        "subject_agreement": subject,
        "population_agreement": population,
        "repeated_references": float(repeated_refs),
        "repeated_statements": float(repeated),
        "verdict_error": verdict,
    }
