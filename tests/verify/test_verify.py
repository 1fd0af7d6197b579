"""Citation verification catches a fabricated marker, an unsupported sentence and an invented dose;
conflicting dose ranges in two passages are reported as a conflict."""

from __future__ import annotations

from rag_oracle.answer.builder import AnswerBuilder
from rag_oracle.settings import AnswerSettings
from rag_oracle.testing.hits import passage_hit
from rag_oracle.text.markers import markers_in, parse_marker, strip_markers
from rag_oracle.text.quantities import quantities, unsupported_quantities
from rag_oracle.types import DraftSection as _Section
from rag_oracle.types import DraftSentence, Hit
from rag_oracle.verify.citations import verify


class Stats:
    """Term statistics from a function (the index's document frequencies, made up)."""

    def __init__(self, df):
        self.df = df

    def document_frequency(self, term: str) -> int:
        return self.df(term)


def DraftSection(kind, title, sentences):
    return _Section(kind=kind, title=title, sentences=sentences)


def S(text: str, citations: list[int]) -> DraftSentence:
    return DraftSentence(text=text, citations=citations)


def answer_from(generator, question, passages, settings, statistics=None):
    """What the pipeline does after retrieval: select, draft, finish (passages stand in for the hits)."""
    builder = AnswerBuilder(settings, embedder=generator.embedder, statistics=statistics)
    selection = builder.select(question, passages)
    return builder.finish(question, generator.draft(question, selection.passages), selection)


def hit(doc: str, text: str, rank: int = 1, title: str = "") -> Hit:
    return passage_hit(doc, text, rank=rank, title=title)


PASSAGES = [
    hit("guide", "Stop warfarin 5 days before surgery. Check the INR the day before surgery."),
    hit("trial", "In the trial, adjunctive clonazepam 0.5 to 1 mg/day at bedtime eased insomnia in depression."),
]


def test_markers_parse_lists_and_ranges() -> None:
    assert parse_marker("1, 3-5") == [1, 3, 4, 5]
    assert markers_in("A [1]. B [2, 3]. C [4–5][6].") == [1, 2, 3, 4, 5, 6]
    assert markers_in("no markers, [a] or [] here") == []
    assert strip_markers("Stop warfarin 5 days before surgery [1, 2].") == "Stop warfarin 5 days before surgery."
    assert parse_marker("1-500") == []  # absurd ranges are refused


def test_quantities_normalise() -> None:
    [q] = quantities("give 0.5mg twice")
    assert (q.low, q.high, q.unit) == (0.5, 0.5, "mg")
    [r] = quantities("0.5 to 1 mg/day")
    assert (r.low, r.high, r.unit) == (0.5, 1.0, "mg/day")
    assert [x.unit for x in quantities("5 days, 48 hours, 20%, 10 x 10^9/L, 130 mmHg")] == [
        "day",
        "hour",
        "%",
        "x10^9/l",
        "mmhg",
    ]
    assert unsupported_quantities("take 1 mg/day", ["0.5 to 1 mg/day"]) == []  # an end of a stated range
    assert [q.text for q in unsupported_quantities("take 3 mg/day", ["0.5 to 1 mg/day"])] == ["3 mg/day"]


def test_fabricated_marker_is_removed_and_recorded() -> None:
    draft = [DraftSection("direct", "Answer", [S("Stop warfarin 5 days before surgery.", [1, 7])])]
    result = verify(draft, PASSAGES)
    [check] = result.checks
    assert check.invalid_markers == [7] and check.status == "supported"
    assert result.sections[0].sentences[0].citations == [1]
    assert [r.chunk_id for r in result.references] == ["guide#0"]


def test_unsupported_sentence_is_removed_or_flagged() -> None:
    made_up = S("Aspirin prevents migraines in marathon runners.", [1])
    draft = [DraftSection("direct", "Answer", [S("Stop warfarin 5 days before surgery.", [1]), made_up])]
    removed = verify(draft, PASSAGES, policy="remove")
    assert [s.text for s in removed.sections[0].sentences] == ["Stop warfarin 5 days before surgery."]
    assert removed.checks[1].status == "removed" and "content words" in removed.checks[1].reasons[0]
    flagged = verify(draft, PASSAGES, policy="flag")
    assert flagged.checks[1].status == "unsupported"
    assert [s.supported for s in flagged.sections[0].sentences] == [True, False]


def test_invented_dose_is_caught() -> None:
    draft = [
        DraftSection(
            "dosing",
            "Dosing",
            [S("In the trial, adjunctive clonazepam 2 to 4 mg/day at bedtime eased insomnia.", [2])],
        )
    ]
    result = verify(draft, PASSAGES)
    [check] = result.checks
    assert check.status == "removed" and check.unsupported_numbers == ["2 to 4 mg/day"]
    assert result.sections == [] and result.references == []


def test_uncited_sentence_is_unsupported() -> None:
    result = verify([DraftSection("direct", "Answer", [S("Stop warfarin 5 days before surgery.", [])])], PASSAGES)
    assert result.checks[0].status == "removed" and "no valid citation" in result.checks[0].reasons


def test_negation_flip_is_caught() -> None:
    draft = [DraftSection("direct", "Answer", [S("Do not stop warfarin before surgery.", [1])])]
    assert verify(draft, PASSAGES).checks[0].status == "removed"


def test_citations_renumbered_in_order_of_first_appearance() -> None:
    draft = [
        DraftSection(
            "direct",
            "Answer",
            [S("In the trial, adjunctive clonazepam eased insomnia in depression.", [2])],
        ),
        DraftSection(
            "key_points",
            "Key points",
            [
                S("Stop warfarin 5 days before surgery.", [1]),
                S("Clonazepam 0.5 to 1 mg/day at bedtime eased insomnia.", [2]),
            ],
        ),
    ]
    result = verify(draft, PASSAGES)
    assert [r.chunk_id for r in result.references] == ["trial#0", "guide#0"]
    assert [s.citations for sec in result.sections for s in sec.sentences] == [[1], [2], [1]]


# The rules of conflict detection are tested in tests/verify/test_conflicts.py; here: a real
# disagreement reaches the answer, cited on both sides.


def test_conflict_reaches_the_answer(tmp_path, monkeypatch) -> None:
    from rag_oracle.answer.render import render_markdown
    from rag_oracle.embed.hashing import HashEmbedder
    from rag_oracle.generate.extractive import ExtractiveGenerator

    passages = [
        hit(
            "review",
            "In the studies summarized here, the usual adjunctive clonazepam dose was 0.5 to 1 mg/day, typically given at bedtime.",
            1,
            "Clonazepam for depression",
        ),
        hit(
            "meta",
            "Clonazepam doses across the included trials ranged from 0.5 to 2 mg/day, usually given at bedtime.",
            2,
            "Clonazepam augmentation trials in depression",
        ),
    ]
    settings = AnswerSettings(min_passage_similarity=0.0)
    gen = ExtractiveGenerator(HashEmbedder(512), settings)
    stats = Stats(lambda t: 2 if t == "clonazepam" else 5)
    answer = answer_from(gen, "What is the dosage of clonazepam for depression?", passages, settings, stats)
    [conflict] = answer.conflicts
    assert sorted(conflict.values) == ["0.5 to 1 mg/day", "0.5 to 2 mg/day"]
    cited = {answer.references[n - 1].doc_id for n in conflict.references}
    assert cited == {"review", "meta"}
    assert conflict.quantity == "clonazepam dose range (mg/day)" and len(conflict.contexts) == 2
    assert "different values for clonazepam dose range (mg/day)" in render_markdown(answer)


# Related questions are tested in tests/answer/test_related.py.


def test_micro_sign_and_greek_mu_both_read_as_mcg() -> None:
    assert [q.unit for q in quantities("5 \u03bcg or 5 \u00b5g or 5 mcg")] == ["mcg", "mcg", "mcg"]


def test_quoted_sentences_never_carry_the_sources_own_bracket_citations(tmp_path) -> None:
    from rag_oracle.embed.hashing import HashEmbedder
    from rag_oracle.generate.extractive import ExtractiveGenerator

    passages = [
        hit(
            "p",
            "Warfarin is stopped 5 days before surgery [12]. Warfarin is resumed after surgery when bleeding is controlled.",
            1,
            "Warfarin",
        )
    ]
    settings = AnswerSettings(min_passage_similarity=0.0)
    gen = ExtractiveGenerator(HashEmbedder(512), settings)
    answer = answer_from(gen, "When is warfarin stopped before surgery?", passages, settings)
    assert "[12]" not in answer.text


def test_cited_spans_have_one_order_whatever_the_input_order() -> None:
    """A heading quoted as a sentence's scope starts where the sentence does; the order of the two
    used to follow set order, so two runs of one question could list them differently."""
    from rag_oracle.types import CitedSpan
    from rag_oracle.verify.citations import ordered_spans

    heading = CitedSpan(text="Sertraline", char_start=10, char_end=20)
    sentence = CitedSpan(text="Sertraline: start 50 mg once daily.", char_start=10, char_end=45)
    earlier = CitedSpan(text="Dosing.", char_start=0, char_end=7)
    assert ordered_spans([sentence, heading, earlier, sentence]) == [earlier, heading, sentence]
    assert ordered_spans([heading, earlier, sentence]) == [earlier, heading, sentence]
