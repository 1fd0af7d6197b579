"""A patient context becomes the question's population: for retrieval, agreement and the header.

The page's and the API's patient fields (`PatientContext`: age group, pregnancy or breastfeeding,
renal function) are folded into the question as the words a clinician would have typed, so the
retriever looks for them and the question analysis (answer/question.py) finds them as the
question's population. The agreement checks then keep a dose stated for another population out
of the answer exactly as they do when the population is typed:

    "What is the starting dose of clonazepam?" + older adult
        -> "What is the starting dose of clonazepam in older adults?"
    "How long should dabigatran be held before surgery?" + CrCl 40 mL/min
        -> "How long should dabigatran be held before surgery with creatinine clearance 40 mL/min?"

The question's own words win: a question that names an age group ("in children") keeps it and
the context's age group is not added (`context_notes` says so), and likewise for pregnancy and
renal function. Normal renal function adds nothing (no population).
"""

from __future__ import annotations

from rag_oracle.text.lexicon import clearance_ranges, populations_in
from rag_oracle.types import PatientContext, QuestionAnalysis

_AGE = {"child": "in children", "adult": "in adults", "older_adult": "in older adults"}
_AGE_POPULATION = {"child": "children", "adult": "adults", "older_adult": "older adults"}
_PREGNANCY = {"pregnant": "in pregnancy", "breastfeeding": "during breastfeeding"}
_TRAILING = " ?.!\t\n"


def _renal_phrase(context: PatientContext) -> str:
    found = context.clearance()
    if found is None:
        return ""
    low, high = found
    if low == high:  # a measured value; `with_context` gives the analysis its range
        return f"with creatinine clearance {low:g} mL/min"
    # "low to high mL/min" is what clearance_ranges reads back as the question's clearance range.
    return f"with creatinine clearance {low:g} to {high:g} mL/min"


def _additions(question: str, context: PatientContext) -> tuple[list[str], list[str]]:
    """(phrases to add, notes on context fields the question's own words override)."""
    named = populations_in(question)
    phrases: list[str] = []
    notes: list[str] = []
    if context.age_group:
        ages = named & {"children", "adults", "older adults"}
        if not ages:
            phrases.append(_AGE[context.age_group])
        elif _AGE_POPULATION[context.age_group] not in ages:
            notes.append(
                f"The question names {' and '.join(sorted(ages))}; the patient context's age group "
                f"({_AGE_POPULATION[context.age_group]}) was not applied."
            )
    if context.pregnancy and "pregnancy" not in named:
        phrases.append(_PREGNANCY[context.pregnancy])
    renal = _renal_phrase(context)
    if renal:
        if "renal" not in named and not clearance_ranges(question):
            phrases.append(renal)
        elif clearance_ranges(question):
            notes.append(
                "The question states a creatinine clearance; the patient context's renal function was not applied."
            )
    return phrases, notes


def contextual_question(question: str, context: PatientContext | None) -> str:
    """`question` with the context's population in words; unchanged for no or an empty context."""
    if context is None or context.empty:
        return question
    phrases, _ = _additions(question, context)
    if not phrases:
        return question
    end = question.rstrip(_TRAILING)
    mark = question[len(end) :].strip() or "?"
    return f"{end} {' and '.join(phrases)}{mark[0]}"


def with_context(analysis: QuestionAnalysis, context: PatientContext | None) -> QuestionAnalysis:
    """The analysis with a measured creatinine clearance from the context when the question states none."""
    if context is None or context.creatinine_clearance is None or analysis.clearance is not None:
        return analysis
    value = context.creatinine_clearance
    return analysis.model_copy(update={"clearance": (value, value + 1)})  # [low, high) as clearance_ranges gives


def context_notes(question: str, context: PatientContext | None) -> list[str]:
    """Why a context field was not applied (the question's own words named something else)."""
    if context is None or context.empty:
        return []
    return _additions(question, context)[1]


__all__ = ["context_notes", "contextual_question", "with_context"]
