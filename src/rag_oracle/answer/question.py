"""Question analysis, offline: the subject, population and intent of a clinical question.

- **Subject**: the drugs (or drug classes) it names, from the offline drug dictionary
  (text/lexicon.py), kept as written for display; the topic words (analysed content words that
  are neither intent words like "dose" or "maximum" nor population words) for everything else:
  conditions, procedures, tests ("blood pressure target" -> blood, pressur).
- **Population**: children, adults, older adults, pregnancy (and breastfeeding), renal or
  hepatic impairment (text/lexicon.py).
- **Intent**: starting, usual or maximum dose; taper; hold (before a procedure) or duration;
  target or threshold; choice (first-line, preferred); monitoring; interactions; adverse effects;
  yes/no; else general. The first matching rule below wins, so "maximum starting dose" is a
  maximum.
- **Missing**: what the question names that the index never mentions (a drug no chunk holds, or
  topic words no chunk holds when they are at least half of the question's topic): the answer
  declines and names it ("The indexed literature has no passage about methotrexate.").

The analysis is recorded in the answer JSON (`Answer.analysis`).
"""

from __future__ import annotations

import re

from rag_oracle.answer.decision import is_yes_no_question
from rag_oracle.text.analyzer import GENERIC, TermStatistics, expand_query, surface_form, tokenize_one
from rag_oracle.text.lexicon import POPULATIONS, clearance_ranges, drug_mentions, populations_in
from rag_oracle.types import QuestionAnalysis

INTENTS: list[tuple[str, re.Pattern]] = [
    ("max_dose", re.compile(r"\b(?:maximum|max|highest|upper limit|not (?:to )?exceed)\b", re.I)),
    ("dose", re.compile(r"\b(?:at what|what|which) doses?\b", re.I)),
    ("taper", re.compile(r"\b(?:taper\w*|discontinu\w*|deprescrib\w*|wean\w*|withdraw\w*)\b", re.I)),
    (
        "threshold",
        re.compile(
            r"\b(?:target|threshold|goal|cut-?off|defin\w*|count|level|score|inr|at what|indicates?|corresponds?)\b",
            re.I,
        ),
    ),
    (
        "hold",
        re.compile(
            r"\b(?:held|hold|holding|restart\w*|resum\w*|(?:stop|stopped|withheld) .*\bbefore\b|before (?:\w+ ){0,3}"
            r"(?:surgery|procedure|operation|anaesthesia|anesthesia))\b",
            re.I,
        ),
    ),
    ("start_dose", re.compile(r"\b(?:start\w*|initial|initiat\w*|begin\w*|first dose|loading)\b", re.I)),
    ("duration", re.compile(r"\b(?:how long|duration|how many (?:days|weeks|months))\b", re.I)),
    ("choice", re.compile(r"\b(?:which|first[- ]line|preferred|of choice)\b", re.I)),
    ("dose", re.compile(r"\b(?:dose|doses|dosage|dosing|dosed|how much)\b", re.I)),
    ("interactions", re.compile(r"\binteract\w*\b", re.I)),
    ("monitoring", re.compile(r"\bmonitor\w*\b", re.I)),
    ("adverse_effects", re.compile(r"\b(?:side effects?|adverse|risks?|safety|harms?|toxicit\w*)\b", re.I)),
    (
        "choice",
        re.compile(
            r"\b(?:which|first[- ]line|preferred|of choice|best|options?|alternatives?|treated|treatment)\b", re.I
        ),
    ),
]
# Intents whose answer is a number: a dose, a duration, a target.
QUANTITY_INTENTS = frozenset({"start_dose", "max_dose", "dose", "hold", "duration", "threshold"})
DOSE_INTENTS = frozenset({"start_dose", "max_dose", "dose"})

# Analysed words that say what kind of fact is asked for, not what it is about.
_INTENT_WORDS = (
    frozenset(
        tokenize_one(
            "maximum max highest starting start initial begin dose doses dosage dosing dosed taper tapered "
            "discontinued stopped held hold restarted resumed target threshold goal level count score define "
            "defined duration long days weeks recommended suggested used given usual typical oral daily single "
            "adjusted adjustment needed required appropriate indicated considered listed safe generally "
            "calls corresponds indicates roughly equivalent according label most fast slow does need "
            # how people type a question: "is it ok", "what can I prescribe instead", "does he need"
            "ok okay fine alright instead prescribe prescribed give take taking use using i me my you your "
            "he she him her his hers we our it its they them their this that"
        )
    )
    | GENERIC
)
_POPULATION_WORDS = frozenset(
    tokenize_one(
        "children child adults adult older elderly aged years age pregnancy pregnant breastfeeding lactation "
        "renal kidney hepatic liver impairment patients patient people frail debilitated under over "
        "kids kid infant infants baby babies toddler toddlers teen teens teenager teenagers adolescent adolescents"
    )
)
_RENAL_WORDS = frozenset(tokenize_one("creatinine clearance crcl egfr ml min mL/min"))
_COMPARE = re.compile(r"\b(?:versus|vs\.?|compared|or|switch\w*|equivalent|instead of|rather than)\b", re.I)


def topic_terms(question: str) -> list[str]:
    """The question's analysed content words minus intent and population words, in order."""
    out: list[str] = []
    for t in tokenize_one(question):
        if t in _INTENT_WORDS or t in _POPULATION_WORDS or t.isdigit() or t in out:
            continue
        out.append(t)
    return out


def intent_of(question: str) -> str:
    for name, pattern in INTENTS:
        if pattern.search(question):
            return name
    return "yes_no" if is_yes_no_question(question) else "general"


def _analyse(question: str, statistics: TermStatistics) -> QuestionAnalysis:
    mentions = drug_mentions(question)
    drugs = list(dict.fromkeys(m.name for m in mentions))
    surfaces = list(dict.fromkeys(m.surface.lower() if not m.surface.isupper() else m.surface for m in mentions))
    terms = topic_terms(expand_query(question))
    drug_words = set(tokenize_one(" ".join(m.surface for m in mentions)))
    other = [t for t in terms if t not in drug_words]
    missing: list[str] = []
    for m in mentions:
        # a brand the index never uses is not missing when it holds the generic ("Zoloft": sertraline)
        words = tokenize_one(m.surface) + tokenize_one(m.name)
        if words and not any(statistics.document_frequency(w) > 0 for w in words):
            missing.append(m.surface)
    # a renal function stated in words ("creatinine clearance 30 to 59 mL/min") is a population, which
    # the agreement checks judge: an index without those words is not missing the question's subject
    absent = [t for t in other if statistics.document_frequency(t) == 0 and t not in _RENAL_WORDS]
    if absent and len(absent) * 2 >= len(other) and not missing:
        missing.append(_phrase(question, absent))
    if drugs:
        subject = surfaces
    else:
        ranked = sorted(other, key=lambda t: (statistics.document_frequency(t) or 10**9, t))
        subject = list(dict.fromkeys(_surface(question, t) for t in ranked[:2]))
    yes_no = is_yes_no_question(question)
    intent = "yes_no" if yes_no else intent_of(question)
    ranges = clearance_ranges(question)
    return QuestionAnalysis(
        question_terms=[t for t in dict.fromkeys(tokenize_one(question)) if not t.isdigit()],
        clearance=ranges[0] if ranges else None,
        drugs=drugs,
        subject=subject,
        topic_terms=other,
        population=sorted(populations_in(question)),
        intent=intent,  # type: ignore[arg-type]
        yes_no=yes_no,
        compares=len(drugs) > 1 and bool(_COMPARE.search(question)),
        missing=missing,
    )


def analyse(question: str, statistics: TermStatistics) -> QuestionAnalysis:
    """The analysis of `question` against an index's vocabulary (`statistics`: the Index)."""
    return _analyse(question.strip(), statistics)


def _phrase(question: str, absent: list[str]) -> str:
    """The words of `question` around its absent terms, as written ("acute gout flare")."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9-]*", question)
    analysed = [tokenize_one(w) for w in words]
    hit = [i for i, a in enumerate(analysed) if a and a[0] in absent]
    if not hit:
        return " ".join(absent)
    lo, hi = hit[0], hit[-1]  # the run of absent words ("rheumatoid arthritis", "gout flare")
    return " ".join(words[lo : hi + 1])  # as written: "gout flare", "France"


def _surface(question: str, stem: str) -> str:
    """The word of the question that analyses to (or, hyphenated, contains) `stem`, as written."""
    found = surface_form(question, stem)
    if found != stem:
        return found
    for word in re.findall(r"[A-Za-z][A-Za-z0-9-]*", question):
        if stem in tokenize_one(word):
            return word if word.isupper() else word.lower()
    return stem


def population_phrase(population: list[str]) -> str:
    """How an answer names a population: 'children', 'pregnancy' -> 'in pregnancy'."""
    names = {
        "children": "in children",
        "adults": "in adults",
        "older adults": "in older adults",
        "pregnancy": "in pregnancy or breastfeeding",
        "renal": "in renal impairment",
        "hepatic": "in hepatic impairment",
    }
    return " and ".join(names[p] for p in population if p in names)


__all__ = ["DOSE_INTENTS", "POPULATIONS", "QUANTITY_INTENTS", "analyse", "intent_of", "topic_terms"]
