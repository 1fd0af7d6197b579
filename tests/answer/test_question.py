"""Question analysis: what kind of fact is asked for, about which drug or topic, for whom, and what
the index never mentions (so the answer declines instead of answering about something else)."""

from __future__ import annotations

import pytest

from rag_oracle.answer.question import analyse, population_phrase, topic_terms
from rag_oracle.text.analyzer import tokenize_one


class Stats:
    """An index's document frequencies, made up: every analysed word is in 3 chunks unless listed."""

    def __init__(self, absent: str = "", **df: int) -> None:
        self.absent = set(tokenize_one(absent)) if absent else set()
        self.df = df
        self.asked: list[str] = []

    def document_frequency(self, term: str) -> int:
        self.asked.append(term)
        if term in self.absent:
            return 0
        return self.df.get(term, 3)


EVERYTHING = Stats()


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What is the starting dose of sertraline?", "start_dose"),
        ("What is the initial dose of escitalopram in older adults?", "start_dose"),
        ("What is the maximum dose of clonazepam for panic disorder?", "max_dose"),
        ("What is the maximum starting dose of sertraline?", "max_dose"),  # the first rule wins
        ("What dose of amoxicillin is used for pneumonia in children?", "dose"),
        ("What dose of clonazepam is used when tapering?", "dose"),  # "what dose" before "taper"
        ("How should clonazepam be tapered?", "taper"),
        ("How do I discontinue paroxetine?", "taper"),
        ("How many days before surgery should warfarin be stopped?", "hold"),
        ("When should apixaban be held before a procedure?", "hold"),
        ("When can rivaroxaban be restarted after surgery?", "hold"),
        ("How long should antibiotics be given for pneumonia?", "duration"),
        ("What is the duration of treatment for cellulitis?", "duration"),
        ("What INR target is recommended for warfarin?", "threshold"),
        ("What platelet count defines thrombocytopenia?", "threshold"),
        ("What 4Ts score indicates a high probability of HIT?", "threshold"),
        ("Which antidepressant is first-line for panic disorder?", "choice"),
        ("What is the first-line treatment for community-acquired pneumonia?", "choice"),
        ("What should be monitored during lithium therapy?", "monitoring"),
        ("What drugs interact with warfarin?", "interactions"),
        ("What are the side effects of citalopram?", "adverse_effects"),
        ("Is clonazepam approved for depression?", "yes_no"),
        ("Should warfarin be stopped before dental extraction?", "yes_no"),  # yes/no over hold
        ("Can sertraline be used in pregnancy?", "yes_no"),
        ("What is Zoloft?", "general"),
    ],
)
def test_intent(question: str, intent: str) -> None:
    a = analyse(question, EVERYTHING)
    assert a.intent == intent
    assert a.yes_no is (intent == "yes_no")


@pytest.mark.parametrize(
    ("question", "population"),
    [
        ("What is the initial dose of escitalopram in older adults?", ["older adults"]),
        ("What dose of sertraline is used in the elderly?", ["older adults"]),
        ("What dose of sertraline is used in adults aged 70 to 89?", ["older adults"]),
        ("What dose of sertraline is used in adults aged 18 to 64?", ["adults"]),
        ("What dose of amoxicillin is used for pneumonia in children?", ["children"]),
        ("Can sertraline be used while breastfeeding?", ["pregnancy"]),
        ("What is the dose of apixaban in renal impairment?", ["renal"]),
        ("What is the dose of apixaban in breastfeeding women with liver disease?", ["hepatic", "pregnancy"]),
        ("What is the dose of apixaban?", []),
    ],
)
def test_population(question: str, population: list[str]) -> None:
    assert analyse(question, EVERYTHING).population == population


def test_drugs_are_canonical_and_the_subject_is_as_written() -> None:
    a = analyse("What is the dose of Zoloft for depression?", EVERYTHING)
    assert a.drugs == ["sertraline"]
    assert a.subject == ["zoloft"]
    assert a.topic_terms == ["depress"]  # the drug, the intent words and the population are not the topic
    b = analyse("Start Xanax or Klonopin for panic in older adults?", EVERYTHING)
    assert b.drugs == ["alprazolam", "clonazepam"]
    assert b.subject == ["xanax", "klonopin"]
    assert "older" not in b.topic_terms and "adult" not in b.topic_terms
    assert analyse("Dose of sertraline and Sertraline in depression?", EVERYTHING).drugs == ["sertraline"]


def test_an_acronym_is_kept_in_capitals() -> None:
    a = analyse("How is LMWH dosed in renal impairment?", EVERYTHING)
    assert a.drugs == ["heparin, low-molecular-weight"] and a.subject == ["LMWH"]
    assert a.population == ["renal"]


def test_without_a_drug_the_subject_is_the_most_specific_topic_words() -> None:
    stats = Stats(platelet=50, thrombocytopenia=4, count=80)
    a = analyse("What platelet count defines thrombocytopenia?", stats)
    assert a.drugs == []
    assert a.subject == ["thrombocytopenia", "platelet"]  # fewest chunks first, at most two
    assert a.topic_terms == ["platelet", "thrombocytopenia"]


def test_question_terms_and_topic_terms() -> None:
    a = analyse("  What is the maximum dose of clonazepam for panic disorder in older adults?  ", EVERYTHING)
    assert a.question_terms[:4] == ["what", "maximum", "dose", "clonazepam"]
    assert "panic" in a.question_terms
    assert a.topic_terms == ["panic", "disord"]
    assert topic_terms("What is the starting dose in children aged 5 years?") == []


def test_a_clearance_range_is_read_with_the_renal_population() -> None:
    a = analyse("What is the dabigatran dose for creatinine clearance below 30 mL/min?", EVERYTHING)
    assert a.clearance == (0.0, 30.0)
    assert a.population == ["renal"] and a.drugs == ["dabigatran"] and a.intent == "dose"
    assert analyse("What is the dabigatran dose?", EVERYTHING).clearance is None


# --- missing --------------------------------------------------------------------------------------


def test_an_absent_drug_is_missing_as_written() -> None:
    a = analyse("What is the dose of Methotrexate for rheumatoid arthritis?", Stats(absent="methotrexate"))
    assert a.missing == ["Methotrexate"]
    assert a.drugs == ["methotrexate"]


def test_an_absent_drug_is_named_and_not_also_the_condition() -> None:
    a = analyse("What is the dose of methotrexate for gout flare?", Stats(absent="methotrexate gout flare"))
    assert a.missing == ["methotrexate"]


def test_an_absent_condition_is_missing_as_a_phrase() -> None:
    a = analyse("How is an acute gout flare treated?", Stats(absent="gout flare"))
    assert a.missing == ["gout flare"]  # the run of absent words, not the present "acute"


def test_an_absent_condition_with_a_present_drug_is_missing() -> None:
    a = analyse("What is the dose of sertraline for trichotillomania?", Stats(absent="trichotillomania"))
    assert a.missing == ["trichotillomania"]


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        # one absent word out of four topic words: a minor word, not the subject
        ("What is the first-line treatment for community-acquired pneumonia in winter?", "winter"),
        ("How is an acute gout flare treated?", "flare"),
        ("What is the dose of methotrexate for rheumatoid arthritis flares?", "flares"),
        ("What is the dose of sertraline for depression?", ""),
    ],
)
def test_nothing_is_missing_when_only_a_minor_word_is_absent(question: str, absent: str) -> None:
    assert analyse(question, Stats(absent=absent)).missing == []


def test_missing_asks_the_index_for_the_analysed_words() -> None:
    stats = Stats(absent="methotrexate")
    analyse("What is the dose of methotrexate?", stats)
    assert "methotrex" in stats.asked  # the stem the index stores, not the word as typed


def test_a_brand_name_is_not_missing_when_the_index_holds_the_generic() -> None:
    a = analyse("What is the dose of Zoloft for depression?", Stats(absent="Zoloft"))
    assert a.drugs == ["sertraline"]
    assert a.missing == []
    # ... but a brand is missing when the index holds neither it nor its generic.
    assert analyse("What is the dose of Zoloft?", Stats(absent="Zoloft sertraline")).missing == ["Zoloft"]


def test_the_subject_of_a_hyphenated_topic_is_written_as_in_the_question() -> None:
    a = analyse("What is the first-line treatment for community-acquired pneumonia?", Stats(pneumonia=40))
    assert a.subject and set(a.subject) <= {"community-acquired", "community", "acquired", "pneumonia"}


def test_a_hyphenated_word_is_named_once_in_the_subject() -> None:
    a = analyse("What is the first-line treatment for community-acquired pneumonia?", Stats(pneumonia=40))
    assert len(a.subject) == len(set(a.subject))


# --- comparisons ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "compares"),
    [
        ("How much diazepam is equivalent to lorazepam 1 mg?", True),
        ("Diazepam versus lorazepam for alcohol withdrawal", True),
        ("Is sertraline or escitalopram better for panic disorder?", True),
        ("Should I switch from sertraline to escitalopram?", True),
        ("Does sertraline interact with tramadol?", False),  # two drugs, not side by side
        ("Is sertraline or therapy better?", False),  # one drug
        ("What is the dose of diazepam?", False),
    ],
)
def test_compares(question: str, compares: bool) -> None:
    assert analyse(question, EVERYTHING).compares is compares


def test_an_equivalence_question_names_both_drugs() -> None:
    a = analyse("How much diazepam is equivalent to lorazepam 1 mg?", EVERYTHING)
    assert a.drugs == ["diazepam", "lorazepam"] and a.subject == ["diazepam", "lorazepam"]
    assert a.intent == "dose"


def test_population_phrase() -> None:
    assert population_phrase(["older adults", "renal"]) == "in older adults and in renal impairment"
    assert population_phrase(["pregnancy"]) == "in pregnancy or breastfeeding"
    assert population_phrase([]) == ""
