"""Related questions: follow-ups offered under an answer, each one the index can answer.

Built without an LLM, in three steps:

1. **The subject, as written.** A drug question's subject is the drug's word in the question as
   the reader typed it ("clonazepam", "Zoloft", "low-molecular-weight heparin",
   "amoxicillin-clavulanate"; a brand the index never uses falls back to the generic name the
   passages use); a drug class is put in the plural ("Which antidepressant ..." ->
   "antidepressants"). Any other question's subject is a run of its topic words, as written:
   for each run, its longest part the passages also use word for word as a phrase ("acute
   sinusitis in children", not "empiric therapy"), and of those the one the most statements
   name ("orthostatic hypotension", "heparin-induced thrombocytopenia", "a low platelet count").
   A drug word inside a condition ("heparin-induced") makes it a condition question; one
   qualifying something else ("penicillin-allergic") is no subject. The run's last word says
   what it is: a condition, a measurement ("blood pressure", "INR") or a class the drug
   dictionary misses ("DOACs"); anything else ("imaging", "watchful waiting") gets no
   follow-ups, since no template is both grammatical and sensible for it. Question verbs,
   pronouns and units ("choose", "diagnose", "you", "mmHg") are never a subject, so a question
   with nothing else left gets [] and never "What is the usual dose of choose?".
2. **Facets the passages discuss for that subject.** Drugs and classes: dosing, tapering,
   stopping before surgery, safety, monitoring, interactions, alternatives. Conditions:
   management, diagnosis, medications, treatments to avoid, definition, target, duration,
   complications, monitoring. Measurements: target, monitoring. A facet counts only when a
   statement about the subject says it (answer/agreement.py judges each statement): for a drug,
   a statement whose subjects include it and that is eligible for the question, and in a
   sentence naming several drugs a cue word belongs to the drug named nearest before it
   ("Clonazepam is given at bedtime, whereas warfarin needs INR monitoring" says nothing about
   monitoring clonazepam); for a condition, a statement of a passage naming it (management,
   medications, treatments to avoid, duration: a guideline seldom repeats its topic in every
   sentence), or for the other facets a statement naming it itself, in its sentence or scope
   (a passage on orthostatic hypotension also gives blood pressure targets). Facets the
   question already asks, by intent or by wording, are left out; the question's population is
   kept where a statement saying the facet names it ("... in older adults?"). Statements about
   the subject in another population (older adults, children, adults from another age group,
   pregnancy, kidney or liver impairment, as the sentence says it rather than in an aside)
   give a follow-up for that population ("What is the usual dose of sertraline in older
   adults?", "Does sertraline need a dose adjustment in liver impairment?").
3. **Answerable only.** Candidates come in a fixed order (the first facet, then other
   populations, then the remaining facets; several subjects interleave), and each is offered
   only when `answerable(candidate)` is True: the pipeline passes a check that retrieves and runs
   the relevance and coverage gates without generating. At most `max_checks` candidates are
   checked. With `answerable=None` (unit tests, no index) candidates are returned unchecked.

Example::

    analysis = analyse(question, index)
    evidence = evidence_for(analysis, selection.passages, index.documents)
    related_questions(question, analysis, evidence, answerable=check)
    # "What is the starting dose of clonazepam for panic disorder?" ->
    # ['What is the usual dose of clonazepam in older adults?', 'How should clonazepam be tapered?',
    #  'What are the main safety concerns with clonazepam?', 'What monitoring is needed with clonazepam?']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from rag_oracle.answer.agreement import DOSE_UNITS, Evidence
from rag_oracle.text.analyzer import GENERIC, tokenize_one
from rag_oracle.text.lexicon import drug_mentions, populations_in
from rag_oracle.text.quantities import quantities
from rag_oracle.types import QuestionAnalysis

Kind = Literal["drug", "class", "condition", "measure"]

# A question word: hyphenated compounds stay one word ("heparin-induced", "amoxicillin-clavulanate").
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'\u2019][A-Za-z0-9]+)*")
# Words of a question that can never be (part of) its subject: question verbs, pronouns, fillers.
_NOT_SUBJECT = GENERIC | frozenset(
    tokenize_one(
        "do does did you your i me my we our us they their someone anyone somebody person people patient patients "
        "choose choosing chosen select selecting pick prefer preferred prescribe prescribing diagnose diagnosed "
        "diagnosing treat treated treating manage managed managing prevent prevented handle approach approached "
        "option options alternative alternatives evaluate evaluated assess assessed work worked workup confirm "
        "confirmed suspect suspected switch switched stop stopped start started need needs needed take taken give "
        "given use used using help helps mean means cause causes caused avoid avoided consider considered offer "
        "offered know tell explain difference change changed reduce reduced lower lowered raise raised increase "
        "increased decrease decreased "
        # severity qualifiers: "uncomplicated acute sinusitis" is asked about as "acute sinusitis"
        "uncomplicated complicated mild moderate severe suspected stable routine typical"
        # units: "mmHg" is no topic
        " mmhg mg mcg ml kg iu units percent"
    )
)
# Intent words that still belong to a noun phrase ("a low platelet count", "INR level").
_PHRASE_NOUNS = frozenset(tokenize_one("count counts level levels"))
# Classes the drug dictionary does not know (it reads them as ordinary words).
_CLASS_WORDS = re.compile(
    r"^(?:SSRIs?|SNRIs?|DOACs?|NOACs?|TCAs?|MAOIs?|anticoagulants?|antiplatelets?|beta[- ]blockers?|"
    r"diuretics?|bisphosphonates?|corticosteroids?|steroids?|sedatives?|hypnotics?|macrolides?|penicillins?|"
    r"cephalosporins?|tetracyclines?|aminoglycosides?|fluoroquinolones?|quinolones?|opioids?|NSAIDs?|PPIs?|ARBs?|"
    r"antihistamines?|antipsychotics?|anticonvulsants?|antiepileptics?|Z-drugs?|gabapentinoids?|sulfonylureas?|"
    r"statins?|antibiotics?|antidepressants?|benzodiazepines?)$",
    re.I,
)
# Modifiers that are part of a drug's name ("low-molecular-weight heparin", "extended-release metformin").
_DRUG_MODIFIER = re.compile(r"^(?:\w+-molecular-weight|unfractionated|\w+-release|\w+-acting)$", re.I)
# A drug word inside a condition's name: "heparin-induced", "statin-associated".
_CONDITION_COMPOUND = re.compile(r"-(?:induced|associated|related|dependent|resistant|exposed|use)$", re.I)
# What a topic phrase's last word says it is: a condition ("acute sinusitis", "insomnia", "panic
# disorder") or a measurement ("blood pressure", "platelet count"). Other topics ("imaging",
# "watchful waiting") get no follow-ups: no template is both grammatical and sensible for them.
_CONDITION_HEAD = re.compile(
    r"(?:itis|osis|a?emia|penia|pathy|algia|oma|ia|ism|iasis|ency|plegia|rrhoea|rrhea)$|^(?:disease|disorder|"
    r"syndrome|failure|infection|injury|fracture|pain|attack|flare|stroke|cancer|tumou?r|asthma|diabetes|"
    r"depression|anxiety|hypertension|hypotension|fibrillation|thrombosis|embolism|bleeding|ha?emorrhage|ulcer|"
    r"reflux|obesity|gout|migraine|delirium|overdose|poisoning|allergy|shock|sepsis|fever|cough|colic|"
    r"constipation|vomiting|nausea|seizure|epilepsy|psychosis|withdrawal|dependence|addiction|eczema|psoriasis|"
    r"acne|angina|arrhythmia|insufficiency|stenosis|regurgitation|palsy|sclerosis|deficit|impairment|"
    r"copd|ckd|aki|dvt|vte|pe|af|mi|uti|hit|gerd|gord|ibs|ibd|adhd|ptsd|ocd|tia|acs|hf|cap)$",
    re.I,
)
_MEASURE_HEAD = frozenset(
    "pressure count level inr score rate ratio glucose cholesterol ldl ldl-c hba1c a1c egfr clearance weight bmi "
    "sodium potassium temperature saturation concentration".split()
)
# Words for a condition's course or severity, which do not make it another condition.
_COURSE = frozenset(
    "acute chronic bacterial viral uncomplicated complicated mild moderate severe recurrent persistent suspected "
    "primary secondary".split()
)
# A measurement qualified as abnormal is a finding, asked about like a condition ("a low platelet count").
_ABNORMAL = frozenset("low high raised elevated reduced abnormal rising falling".split())
_SINGULAR_S = re.compile(r"(?:ss|is|us|as|ys|ics)$|^(?:diabetes|herpes|rabies|measles|mumps|scabies|shingles)$", re.I)

# Statements about a study's methods or about the document itself name no facet of the subject.
_NO_FACET_ROLES = frozenset({"method", "note"})

# What a statement says (a cue), and wording that shows the question already asks it, by facet.
_DOSE_ASKED = re.compile(r"\b(?:dose|doses|dosage|dosing|dosed|how much|mg)\b", re.I)
_TAPER = re.compile(
    r"\b(?:taper\w*|deprescrib\w*|wean\w*|gradual\w*|abrupt\w*|dose reduction|reduc\w* (?:\w+ ){0,3}(?:every|by)\b)",
    re.I,
)
_TAPER_ASKED = re.compile(r"\b(?:taper\w*|deprescrib\w*|wean\w*|withdraw\w*|discontinu\w*|stop\w*)\b", re.I)
_HOLD = re.compile(
    r"\bbefore (?:\w+ ){0,3}(?:surgery|procedures?|operations?|an(?:a)?esthesia|endoscopy|biopsy)\b|"
    r"\b(?:restart\w*|resum\w*|bridg\w*|interrupt\w*)\b",
    re.I,
)
_HOLD_ASKED = re.compile(r"\b(?:surgery|procedure|operation|before|restart\w*|resum\w*|bridg\w*)\b", re.I)
_SAFETY = re.compile(
    r"\b(?:risks?|adverse|side effects?|warn\w*|contraindicat\w*|toxic\w*|bleed\w*|falls?|sedation|dependence|"
    r"harm\w*|overdose\w*|suicid\w*|prolongation|hypoglyc\w*|hyponatr\w*)\b",
    re.I,
)
_SAFETY_ASKED = re.compile(r"\b(?:safe\w*|risks?|side effects?|adverse|harms?|dangerous|toxic\w*)\b", re.I)
_MONITOR = re.compile(
    r"\b(?:monitor\w*|measur\w*|recheck\w*|follow[- ]up|check\w* (?:the |a |for )?(?:INR|levels?|counts?|blood|"
    r"renal|kidney|liver|sodium|potassium|platelets?|ECG|weight|pulse|heart rate|creatinine|electrolytes))\b",
    re.I,
)
_INTERACT = re.compile(r"\b(?:interact\w*|concomitant\w*|co-?administ\w*|combined with|in combination with)\b", re.I)
_INTERACT_ASKED = re.compile(r"\b(?:interact\w*|combin\w*|together|concomitant\w*|with (?:alcohol|opioids?))\b", re.I)
_ALTERNATIVE = re.compile(r"\b(?:alternatives?|instead|first[- ]line|second[- ]line|switch\w*|in place of)\b", re.I)
_ALTERNATIVE_ASKED = re.compile(r"\b(?:alternatives?|instead|switch\w*|options?|which|first[- ]line)\b", re.I)
_MANAGE = re.compile(
    r"\b(?:treat\w*|manag\w*|first[- ]line|therap\w*|antibiotics?|watchful waiting|recommended|should be (?:given|"
    r"offered|started|used))\b",
    re.I,
)
_MANAGE_ASKED = re.compile(
    r"\b(?:treat\w*|manag\w*|first[- ]line|therap\w*|options?|approach\w*|handl\w*|what to do)\b", re.I
)
_DIAGNOSE = re.compile(
    r"\b(?:diagnos\w*|scor\w*|tests?|testing|criteria|confirm\w*|assays?|suspect\w*|probability)\b", re.I
)
_DIAGNOSE_ASKED = re.compile(r"\b(?:diagnos\w*|tests?|testing|scor\w*|confirm\w*|detect\w*|recogni[sz]\w*)\b", re.I)
_OFFER = re.compile(
    r"\b(?:consider|options?|recommended|first[- ]line|second[- ]line|preferred|start|begin|offer|reasonable|"
    r"indicated|effective)\b",
    re.I,
)
_MEDICATION_ASKED = re.compile(r"\b(?:medications?|medicines?|drugs?|pharmacolog\w*|prescri\w*|pills?)\b", re.I)
_AGAINST = re.compile(
    r"\b(?:avoid\w*|should not|not (?:be )?(?:used|recommended|given|started)|do not|don't|never|contraindicated|"
    r"reserved?)\b",
    re.I,
)
_DEFINE = re.compile(r"\b(?:defin\w*|refers to|is a (?:fall|drop|rise|count|level) of)\b", re.I)
_DEFINE_ASKED = re.compile(r"\b(?:defin\w*|mean\w*|criteria)\b", re.I)
# A target with its number ("a systolic target below 130 mmHg"), not "abandoning the target".
_TARGET = re.compile(r"\b(?:targets?|goals?|aim(?:ing)? for)\b[^.;]{0,40}\d|\d[^.;]{0,30}\b(?:targets?|goals?)\b", re.I)
_TARGET_ASKED = re.compile(r"\b(?:targets?|goals?|thresholds?)\b", re.I)
_DURATION = re.compile(
    r"\b(?:(?:treat\w*|continu\w*|course|give\w*) (?:\w+ ){0,4}for \d+(?: to \d+)? (?:days?|weeks?|months?)|"
    r"duration)\b",
    re.I,
)
_DURATION_ASKED = re.compile(r"\b(?:how long|duration|how many (?:days|weeks|months))\b", re.I)
_COMPLICATION = re.compile(r"\b(?:complicat\w*|linked to|leads? to|sequelae|thrombos[ie]s|mortality)\b", re.I)
_COMPLICATION_ASKED = re.compile(r"\b(?:complicat\w*|risks?|prognos\w*|outcomes?|consequences?)\b", re.I)


@dataclass(frozen=True)
class Subject:
    """What the related questions are about, as the reader wrote it."""

    phrase: str  # as shown in a question: "clonazepam", "benzodiazepines", "acute sinusitis"
    kind: Kind
    names: frozenset[str]  # canonical drug names (empty for conditions, measurements and unknown classes)
    words: tuple[str, ...]  # its words (see `_form`), when `names` is empty: a statement naming
    # its last word, not qualified by another word, is about it
    acronyms: tuple[str, ...]  # acronyms the passages define for it ("HIT"), which name it too
    plural: bool  # "How are low platelet counts managed?"


@dataclass(frozen=True)
class Facet:
    """Something a passage can say about a subject, and how to ask about it.

    `templates` by the kinds it applies to ("drug", "class", "condition", "measure"): {s} the
    subject, {pop} the question's population (" in older adults" or ""), {is} "is" or "are" to
    agree with the subject.
    """

    name: str
    says: re.Pattern | Callable[[Evidence, Subject], bool]  # a cue word in the statement, or a test of it
    asked: re.Pattern | None  # the question's wording already asks it
    intents: frozenset[str]  # the question's intent already asks it
    templates: dict[str, str]
    anywhere: bool = False  # a cue counts wherever the subject is named (an interaction involves two drugs)
    background: bool = False  # background statements count (definitions are written there)
    # A condition's facet that only a statement naming it can say: a passage on orthostatic
    # hypotension also gives blood pressure targets, which are not targets for orthostatic hypotension.
    named: bool = False


def _doses(e: Evidence, subject: Subject) -> bool:
    """A dose with a unit, owned by the subject (the drug named nearest before the number)."""
    if not subject.names or not any(q.unit in DOSE_UNITS for q in quantities(e.statement.text)):
        return False
    return bool(e.owners & subject.names) if e.owners else bool(e.subjects & subject.names)


def _medications(e: Evidence, subject: Subject) -> bool:
    """A statement offering drugs for a condition (not one advising against them)."""
    named = [m for m in drug_mentions(e.statement.text) if m.name not in subject.names]
    return bool(named) and bool(_OFFER.search(e.statement.text)) and not _AGAINST.search(e.statement.text)


def _managed(e: Evidence, subject: Subject) -> bool:
    """A recommendation ("Stop all heparin and start a non-heparin anticoagulant"), or a statement
    about treating the condition."""
    return e.role == "recommendation" or _says(e, _MANAGEMENT_CUE, subject)


def _avoided(e: Evidence, subject: Subject) -> bool:
    """A statement advising against a drug or treatment for a condition."""
    return bool(e.subjects - subject.names) and bool(_AGAINST.search(e.statement.text))


_BOTH = ("drug", "class")
_MANAGEMENT_CUE = Facet("management", _MANAGE, None, frozenset(), {})
_DRUG_FACETS = [
    Facet(
        "dosing",
        _doses,
        _DOSE_ASKED,
        frozenset({"start_dose", "max_dose", "dose"}),
        {"drug": "What is the usual dose of {s}{pop}?", "class": "What are the usual doses of {s}{pop}?"},
    ),
    Facet("taper", _TAPER, _TAPER_ASKED, frozenset({"taper"}), dict.fromkeys(_BOTH, "How should {s} be tapered{pop}?")),
    Facet(
        "hold",
        _HOLD,
        _HOLD_ASKED,
        frozenset({"hold"}),
        dict.fromkeys(_BOTH, "When should {s} be stopped before surgery{pop}?"),
    ),
    Facet(
        "safety",
        _SAFETY,
        _SAFETY_ASKED,
        frozenset({"adverse_effects"}),
        dict.fromkeys(_BOTH, "What are the main safety concerns with {s}{pop}?"),
    ),
    Facet(
        "monitoring",
        _MONITOR,
        _MONITOR,
        frozenset({"monitoring"}),
        dict.fromkeys(_BOTH, "What monitoring is needed with {s}{pop}?"),
    ),
    Facet(
        "interactions",
        _INTERACT,
        _INTERACT_ASKED,
        frozenset({"interactions"}),
        dict.fromkeys(_BOTH, "Which drug interactions matter with {s}{pop}?"),
        anywhere=True,
    ),
    Facet(
        "alternatives",
        _ALTERNATIVE,
        _ALTERNATIVE_ASKED,
        frozenset({"choice"}),
        dict.fromkeys(_BOTH, "What are the alternatives to {s}{pop}?"),
    ),
]
_CONDITION_FACETS = [
    Facet("management", _managed, _MANAGE_ASKED, frozenset({"choice"}), {"condition": "How {is} {s} managed{pop}?"}),
    Facet(
        "diagnosis",
        _DIAGNOSE,
        _DIAGNOSE_ASKED,
        frozenset(),
        {"condition": "How {is} {s} diagnosed{pop}?"},
        named=True,
    ),
    Facet(
        "medications",
        _medications,
        _MEDICATION_ASKED,
        frozenset(),
        {"condition": "Which medications are used for {s}{pop}?"},
    ),
    Facet(
        "avoid",
        _avoided,
        _AGAINST,
        frozenset(),
        {"condition": "Which treatments should be avoided for {s}{pop}?"},
    ),
    Facet(
        "definition",
        _DEFINE,
        _DEFINE_ASKED,
        frozenset({"threshold"}),
        {"condition": "How {is} {s} defined?"},
        background=True,
        named=True,
    ),
    Facet(
        "target",
        _TARGET,
        _TARGET_ASKED,
        frozenset({"threshold"}),
        dict.fromkeys(("condition", "measure"), "What is the target for {s}{pop}?"),
        named=True,
    ),
    Facet(
        "duration",
        _DURATION,
        _DURATION_ASKED,
        frozenset({"duration"}),
        {"condition": "How long should {s} be treated{pop}?"},
    ),
    Facet(
        "complications",
        _COMPLICATION,
        _COMPLICATION_ASKED,
        frozenset({"adverse_effects"}),
        {"condition": "What are the complications of {s}{pop}?"},
        named=True,
    ),
    Facet(
        "monitoring",
        _MONITOR,
        _MONITOR,
        frozenset({"monitoring"}),
        dict.fromkeys(("condition", "measure"), "How should {s} be monitored{pop}?"),
        named=True,
    ),
]
# Populations a follow-up can switch to, in the order they are offered, and how a question names them.
_SWITCHES = ("older adults", "children", "adults", "pregnancy", "renal", "hepatic")
_IN = {
    "children": "in children",
    "adults": "in adults",
    "older adults": "in older adults",
    "pregnancy": "in pregnancy",
    "renal": "in kidney impairment",
    "hepatic": "in liver impairment",
}
# A sentence is about people with impaired kidneys or liver when it says so, not when it names the organ.
_IMPAIRED = {
    "renal": re.compile(
        r"\b(?:(?:renal|kidney) (?:impairment|insufficiency|failure|disease|dysfunction|injury)|creatinine clearance|"
        r"crcl|egfr|h?a?emodialysis|dialysis|ckd)\b",
        re.I,
    ),
    "hepatic": re.compile(
        r"\b(?:(?:hepatic|liver) (?:impairment|insufficiency|failure|disease|dysfunction)|cirrhosis|child-pugh)\b",
        re.I,
    ),
}
_WITH = {"renal": "with kidney impairment", "hepatic": "with liver impairment", "pregnancy": "in pregnancy"}


def related_questions(
    question: str,
    analysis: QuestionAnalysis,
    evidence: list[Evidence],
    answerable: Callable[[str], bool] | None = None,
    *,
    limit: int = 4,
    max_checks: int = 8,
) -> list[str]:
    """Up to `limit` follow-up questions about the question's subject that the passages discuss
    and (when `answerable` is given) the index can answer; [] when the question has no subject.

    `evidence` is `evidence_for(analysis, passages, documents)` for the passages read;
    `answerable(candidate)` is asked about at most `max_checks` candidates, in order.
    """
    out: list[str] = []
    checks = 0
    for candidate in candidates(question, analysis, evidence):
        if len(out) >= limit:
            break
        if answerable is not None:
            if checks >= max_checks:
                break
            checks += 1
            if not answerable(candidate):
                continue
        out.append(candidate)
    return out


def candidates(question: str, analysis: QuestionAnalysis, evidence: list[Evidence]) -> list[str]:
    """Every related question the evidence supports, unchecked, in the order they are offered."""
    subjects = subjects_of(question, analysis, evidence)
    if not subjects:
        return []
    asked = _normalise(question)
    per_subject = [list(_for_subject(question, analysis, evidence, s)) for s in subjects]
    out: list[str] = []
    # Several subjects (a comparison): their follow-ups interleave, first subject first.
    for i in range(max((len(qs) for qs in per_subject), default=0)):
        for qs in per_subject:
            if i < len(qs) and _normalise(qs[i]) != asked and qs[i] not in out:
                out.append(qs[i])
    return out


# --- the subject --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int
    tokens: tuple[str, ...]


def _words(text: str) -> list[_Word]:
    return [_Word(m.group(0), m.start(), m.end(), tokenize_one(m.group(0))) for m in _WORD.finditer(text)]


def subjects_of(question: str, analysis: QuestionAnalysis, evidence: list[Evidence]) -> list[Subject]:
    """The question's subjects as written: its drugs (or classes), else one condition phrase."""
    words = _words(question)
    drugs, compound = _drug_subjects(question, words, analysis) if analysis.drugs else ([], None)
    if drugs:
        return drugs
    found = _condition_subject(question, words, analysis, evidence, compound)
    return [found] if found is not None else []


def _drug_subjects(question: str, words: list[_Word], analysis: QuestionAnalysis) -> tuple[list[Subject], int | None]:
    """The drug subjects, and the first word naming a drug inside a condition ("heparin-induced"):
    that drug is not a subject, but the condition may be."""
    asked = set(analysis.drugs)
    groups: dict[int, set[str]] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    for m in drug_mentions(question):
        at = next((i for i, w in enumerate(words) if w.start <= m.start and m.end <= w.end), None)
        if m.name in asked and at is not None:
            groups.setdefault(at, set()).add(m.name)
            spans.setdefault(at, []).append((m.start, m.end))
    compound = None
    for at in list(groups):
        word, start = words[at].text, words[at].start
        parts, offset = [], start
        for part in word.split("-"):
            parts.append((offset, offset + len(part)))
            offset += len(part) + 1
        # Every part a drug: the drug or a combination ("amoxicillin-clavulanate"). Otherwise the
        # drug only qualifies the word: a condition ("heparin-induced") or nothing ("penicillin-allergic").
        if not all(any(a < hi and lo < b for lo, hi in spans[at]) for a, b in parts):
            del groups[at]
            if _CONDITION_COMPOUND.search(word) and compound is None:
                compound = at
    out: list[Subject] = []
    for at, names in sorted(groups.items()):
        first = at - 1 if at > 0 and _DRUG_MODIFIER.match(words[at - 1].text) else at
        phrase = " ".join(_as_written(question, w) for w in words[first : at + 1])
        kind: Kind = "class" if any(_is_class(n) for n in names) or _CLASS_WORDS.match(words[at].text) else "drug"
        if kind == "class":
            phrase = _plural(phrase)
        if _is_missing(phrase, analysis):
            # A name the index never uses ("Zoloft"): its follow-ups use the name the passages use.
            if kind == "class" or len(names) != 1 or _is_missing(next(iter(names)), analysis):
                continue
            phrase = next(iter(names))
        if not _meaningful(tokenize_one(phrase)) or phrase in {s.phrase for s in out}:
            continue
        out.append(Subject(phrase, kind, frozenset(names), (), (), kind == "class"))
    return out, compound


def _condition_subject(
    question: str, words: list[_Word], analysis: QuestionAnalysis, evidence: list[Evidence], compound: int | None
) -> Subject | None:
    """The question's topic as written ("orthostatic hypotension", "heparin-induced thrombocytopenia").

    Each run of topic words in the question gives its longest part (at most four words) that the
    passages also use, word for word and at least once as a phrase's end; of those naming a
    condition, a class or a measurement, the one the most statements name (in the sentence or its
    scope, or by an acronym the passages define for it) is the topic; ties go to the one holding
    the question's most specific words, then the longer, then the earlier.
    """
    if analysis.missing:
        return None  # the answer declines: what the question names is not in the index
    topic = set(analysis.topic_terms) | _PHRASE_NOUNS
    if compound is not None:
        topic |= set(words[compound].tokens)
    topical = [bool(w.tokens) and all(t in topic for t in w.tokens) and _meaningful(w.tokens) for w in words]
    anchors = {tokenize_one(s) for s in analysis.subject if _meaningful(tokenize_one(s))}
    statements = _statement_phrases(evidence)

    def score(first: int, last: int) -> tuple[int, int, int, int] | None:
        run = words[first : last + 1]
        if all(t in _PHRASE_NOUNS for w in run for t in w.tokens) or _CONDITION_COMPOUND.search(run[-1].text):
            return None  # "count" alone names nothing; "heparin-induced" qualifies the word after it
        if not any(_used(run, seq, ending=True) for seqs in statements for seq in seqs):
            return None  # in the passages only as a modifier ("empiric therapy"), or not at all
        acronyms = [_form(a) for a in _acronyms(question[run[0].start : run[-1].end], evidence)]
        naming = sum(1 for seqs in statements if any(_used(run, q) or any(a in q for a in acronyms) for q in seqs))
        named = sum(w.tokens in anchors for w in run) + (compound is not None and first <= compound <= last)
        return (naming, named, last - first, -first)

    found: list[tuple[tuple[int, int, int, int], int, int, Kind]] = []
    for lo, hi in _runs(topical):
        # The run's phrase: its longest part the passages use.
        for length in range(min(hi - lo + 1, 4), 0, -1):
            scored = [(sc, f, f + length - 1) for f in range(lo, hi - length + 2) if (sc := score(f, f + length - 1))]
            if scored:
                sc, first, last = max(scored)
                kind = _topic_kind(words[first : last + 1])
                if kind is not None:
                    found.append((sc, first, last, kind))
                break
    if not found:
        return None
    _, first, last, kind = max(found)
    run = words[first : last + 1]
    phrase = " ".join(_as_written(question, w) for w in run)
    if kind == "class":
        phrase = _plural(phrase)
    elif first > 0 and words[first - 1].text.lower() in ("a", "an"):
        phrase = f"{words[first - 1].text.lower()} {phrase}"  # "a low platelet count", as asked
    forms = tuple(_form(w.text) for w in run)
    acronyms = tuple(_form(a) for a in _acronyms(question[run[0].start : run[-1].end], evidence))
    return Subject(phrase, kind, frozenset(), forms, acronyms, kind == "class" or _looks_plural(run[-1].text))


def _runs(flags: list[bool]) -> Iterator[tuple[int, int]]:
    """(first, last) of every maximal run of True in `flags`."""
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            yield start, i - 1
            start = None


def _topic_kind(run: list[_Word]) -> Kind | None:
    """Whether a topic phrase names a drug class the dictionary does not know, a condition or a
    measurement, by its last word ("HIT" and a few other acronyms are conditions). None: something
    else ("imaging", "CBT-I")."""
    if len(run) == 1 and _CLASS_WORDS.match(run[0].text):
        return "class"
    head = _form(run[-1].text)
    if head in _MEASURE_HEAD:
        return "condition" if any(_form(w.text) in _ABNORMAL for w in run) else "measure"
    return "condition" if _CONDITION_HEAD.search(head) else None


def _acronyms(phrase: str, evidence: list[Evidence]) -> list[str]:
    """Acronyms the passages define for the phrase: "Heparin-induced thrombocytopenia (HIT)" -> HIT."""
    pattern = re.compile(re.escape(phrase) + r"\s*\(([A-Z][A-Za-z0-9-]{1,9})\)", re.I)
    return sorted({m.group(1) for e in evidence for m in pattern.finditer(e.statement.text) if m.group(1).isupper()})


_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'\u2019][A-Za-z0-9]+)*|[.,;:!?()\[\]]")


def _form(word: str) -> str:
    """A word as written, lower-cased and singular: how a phrase is matched in the passages ("platelet
    counts" matches "platelet count"; "empirically" does not match "empiric", as a stem would)."""
    word = word.lower().removesuffix("'s").removesuffix("\u2019s")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "is", "us")) and len(word) > 3:
        return word[:-1]
    return word


def _statement_phrases(evidence: list[Evidence]) -> list[list[list[str]]]:
    """Each statement as word sequences (see `_form`): its sentence, then each scope part. A
    stopword or punctuation keeps its place (as "#in", "#,"), so "hypotension is common" does not
    read as "hypotension common" and where a phrase ends can be seen."""

    def sequence(text: str) -> list[str]:
        out = []
        for m in _TOKEN.finditer(text):
            token = m.group(0)
            out.append(_form(token) if token[0].isalpha() and tokenize_one(token) else f"#{token.lower()}")
        return out

    return [[sequence(text) for text in (e.statement.text, *(p.text for p in e.statement.scope))] for e in evidence]


def _used(run: list[_Word] | tuple[str, ...], sequence: list[str], *, ending: bool = False) -> bool:
    """Whether `sequence` holds the words of `run` (question words, or their forms), in order and
    next to each other; `ending`: as the end of a phrase, followed by a stopword, punctuation or
    nothing ("acute sinusitis in children"), not by another content word ("empiric therapy")."""
    wanted = [w if isinstance(w, str) else _form(w.text) for w in run]
    n = len(wanted)
    return any(
        sequence[i : i + n] == wanted and (not ending or i + n == len(sequence) or sequence[i + n].startswith("#"))
        for i in range(len(sequence) - n + 1)
    )


def _is_missing(phrase: str, analysis: QuestionAnalysis) -> bool:
    """Whether the question's analysis found `phrase` (or a part of it) nowhere in the index."""
    low = phrase.lower()
    return any(m.lower() in low for m in analysis.missing if m)


def _meaningful(tokens: tuple[str, ...]) -> bool:
    return any(t not in _NOT_SUBJECT and not t.isdigit() for t in tokens)


def _as_written(question: str, word: _Word) -> str:
    """A word as the reader wrote it: acronyms and mid-sentence capitals (brand names) kept."""
    text = word.text
    if text.isupper() and len(text) > 1:
        return text
    if (
        text[:1].isupper()
        and question[: word.start].strip()
        and not question[: word.start].rstrip().endswith((".", "?", "!", ":"))
    ):
        return text
    return text.lower()


def _is_class(name: str) -> bool:
    # Canonical class names are plural or inverted ("benzodiazepines", "analgesics, opioid").
    return name.endswith("s") or ", " in name


def _plural(phrase: str) -> str:
    head, _, last = phrase.rpartition(" ")
    if last.isupper():
        plural = last if last.endswith("s") else f"{last}s"
    elif last.endswith("s"):
        plural = last
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        plural = f"{last[:-1]}ies"
    else:
        plural = f"{last}s"
    return f"{head} {plural}" if head else plural


def _looks_plural(word: str) -> bool:
    return word.lower().endswith("s") and not _SINGULAR_S.search(word.lower())


# --- facets -------------------------------------------------------------------------------------------


def _for_subject(
    question: str, analysis: QuestionAnalysis, evidence: list[Evidence], subject: Subject
) -> Iterator[str]:
    """The subject's follow-ups: its own facets (population follow-ups after the first), in order."""
    facets = [
        f
        for f in (_DRUG_FACETS if subject.kind in ("drug", "class") else _CONDITION_FACETS)
        if subject.kind in f.templates
    ]
    about, naming = (
        [e for e in found if e.role not in _NO_FACET_ROLES and not e.instruction] for found in _about(evidence, subject)
    )
    # A condition's statements are about it by their words; the drug judgement does not apply
    # ("heparin-induced thrombocytopenia": argatroban is an option, not another drug's statement).
    eligible = [e for e in about if (e.eligible if subject.names else e.population_ok and e.scope_ok)]
    naming_ids = {id(e) for e in naming}
    pop = _population_phrase(analysis.population)
    wanted = set(analysis.population) - {"adults"}
    words = {"s": subject.phrase, "is": "are" if subject.plural else "is"}

    def own(facet: Facet) -> Iterator[str]:
        if analysis.intent in facet.intents or (facet.asked is not None and facet.asked.search(question)):
            return
        if facet.name == "definition" and _asks_what_it_is(question, subject):
            return
        saying = [
            e
            for e in eligible
            if (facet.background or e.role != "background")
            and (not facet.named or id(e) in naming_ids)
            and _says(e, facet, subject)
        ]
        if saying:
            # The question's population is kept only when a statement saying the facet names it.
            named = pop and any(wanted & e.population for e in saying)
            yield _fill(facet.templates[subject.kind], words, pop if named else "")

    # The first facet (dosing, management, target), then the subject in other populations, then the rest.
    for facet in facets[:1]:
        yield from own(facet)
    yield from _switches(analysis, naming, subject, words)
    for facet in facets[1:]:
        yield from own(facet)


def _switches(
    analysis: QuestionAnalysis, about: list[Evidence], subject: Subject, words: dict[str, str]
) -> Iterator[str]:
    """The subject in another population, when statements about it there exist."""
    asked = set(analysis.population)
    for population in _SWITCHES:
        if population in asked:
            continue
        # Adults are where a question without a population already is: offered only from another age group.
        if population == "adults" and not asked & {"children", "older adults"}:
            continue
        there = [e for e in about if e.role != "background" and population in _populations(e)]
        template = _switch_template(population, subject, there) if there else ""
        if template:
            yield _fill(template, words, "")


def _populations(e: Evidence) -> frozenset[str]:
    """The populations a statement is about: those its sentence names outside parentheses (an
    aside such as "(anaemia, kidney injury)" is not a population), else those of its scope."""
    text = e.statement.text
    if populations_in(text):
        found = populations_in(re.sub(r"\([^)]*\)", " ", text))
        # "changes in kidney function" is something to monitor, not a population.
        found = frozenset(p for p in found if p not in _IMPAIRED or _IMPAIRED[p].search(text))
    else:
        found = e.population
    # "Neonatal" effects of a drug taken in pregnancy are about pregnancy, not about treating children.
    return found - {"children"} if "pregnancy" in found else found


def _switch_template(population: str, subject: Subject, there: list[Evidence]) -> str:
    where = _IN[population]
    if subject.kind == "measure":
        return f"What is the target for {{s}} {where}?" if any(_TARGET.search(e.statement.text) for e in there) else ""
    if subject.kind == "condition":
        return f"How {{is}} {{s}} managed {where}?"
    if population in ("renal", "hepatic"):
        return ("Do" if subject.plural else "Does") + f" {{s}} need a dose adjustment {where}?"
    if population == "pregnancy":
        return "Can {s} be used in pregnancy?"
    if any(_doses(e, subject) for e in there):
        return (
            "What are the usual doses of {s} " if subject.plural else "What is the usual dose of {s} "
        ) + f"{where}?"
    return f"How should {{s}} be used {where}?"


def _fill(template: str, words: dict[str, str], pop: str) -> str:
    return template.format(pop=f" {pop}" if pop else "", **words)


def _about(evidence: list[Evidence], subject: Subject) -> tuple[list[Evidence], list[Evidence]]:
    """The statements about the subject: those whose facets count, and those naming it (whose
    populations count).

    For a drug, both are the statements whose subjects include it (never those about another drug
    of the same passage). For a condition, the statements naming it (see `_names`) in the
    sentence or its scope (heading, label, section title); its facets come from every statement
    of a passage naming it, since a passage seldom repeats its topic ("When antibiotics are
    prescribed: amoxicillin ..." under a guideline on sinusitis)."""
    if subject.names:
        own = [e for e in evidence if e.subjects & subject.names]
        return own, own
    statements = _statement_phrases(evidence)
    naming = [
        e for e, sequences in zip(evidence, statements, strict=True) if any(_names(subject, q) for q in sequences)
    ]
    passages = {e.hit_index for e in naming}
    return [e for e in evidence if e.hit_index in passages], naming


def _names(subject: Subject, sequence: list[str]) -> bool:
    """Whether a sentence or scope part names a condition: by its acronym, or by its last word not
    qualified otherwise ("insomnia" and "acute bacterial sinusitis" name "chronic insomnia" and
    "acute sinusitis"; "gestational thrombocytopenia" does not name "heparin-induced
    thrombocytopenia")."""
    if any(a in sequence for a in subject.acronyms):
        return True
    head, own = subject.words[-1], set(subject.words) | _COURSE
    return any(
        word == head and (i == 0 or sequence[i - 1].startswith("#") or sequence[i - 1] in own)
        for i, word in enumerate(sequence)
    )


def _says(e: Evidence, facet: Facet, subject: Subject) -> bool:
    """Whether statement `e` says `facet` about `subject`. In a sentence naming drugs, a cue word
    belongs to the drug named nearest before it, else to the first named after it."""
    if not isinstance(facet.says, re.Pattern):
        return facet.says(e, subject)
    text = e.statement.text
    matches = list(facet.says.finditer(text))
    if not matches:
        # A heading or section over the statement ("Tapering.", "Monitoring") names its facet.
        return bool(facet.says.search(e.statement.scope_text))
    if not subject.names:
        return True
    # For one drug, a class named beside it ("clonazepam, like other benzodiazepines, ...") owns nothing.
    mentions = [m for m in drug_mentions(text) if subject.kind == "class" or not _is_class(m.name)]
    if not mentions:
        return True  # the statement's drug comes from its scope: it is about this subject
    if facet.anywhere:
        return any(m.name in subject.names for m in mentions)
    for match in matches:
        before = [m for m in mentions if m.end <= match.start()]
        owner = before[-1] if before else next((m for m in mentions if m.start >= match.end()), None)
        if owner is not None and owner.name in subject.names:
            return True
    return False


def _asks_what_it_is(question: str, subject: Subject) -> bool:
    """'What is orthostatic hypotension?' already asks for its definition."""
    rest = re.sub(r"^\s*what (?:is|are)\s+", "", question.strip().lower()).rstrip(" ?")
    return rest != question.strip().lower().rstrip(" ?") and rest == subject.phrase.lower()


def _population_phrase(population: list[str]) -> str:
    """The question's population as a follow-up keeps it: 'in older adults with kidney impairment'."""
    asked = set(population)
    age = next((p for p in ("children", "older adults") if p in asked), None)
    parts = [_IN[age]] if age else []
    for p in ("pregnancy", "renal", "hepatic"):
        if p in asked:
            parts.append(_WITH[p] if parts else _IN[p])
    return " ".join(parts)


def _normalise(question: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", question.lower()))


__all__ = ["Subject", "candidates", "related_questions", "subjects_of"]
