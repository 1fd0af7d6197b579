from rag_oracle.text.sentences import sentence_spans


def split(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_abbreviations_decimals_and_units() -> None:
    text = "Start 0.25 mg twice daily, e.g. in adults. Smith et al. found a 25% response. The dose was 10 mg. Patients improved."
    assert split(text) == [
        "Start 0.25 mg twice daily, e.g. in adults.",
        "Smith et al. found a 25% response.",
        "The dose was 10 mg.",
        "Patients improved.",
    ]


def test_paragraphs_and_list_items_end_sentences() -> None:
    text = "Background without a period\n\nNext paragraph.\n- first item\n- second item"
    assert split(text) == ["Background without a period", "Next paragraph.", "- first item", "- second item"]


def test_spans_are_offsets_into_the_text() -> None:
    text = "  One sentence here. Two sentences here!  "
    for a, b in sentence_spans(text, 2, len(text)):
        assert text[a:b] == text[a:b].strip()
    assert split(text) == ["One sentence here.", "Two sentences here!"]


def test_initials_do_not_split() -> None:
    assert split("Reported by J. Doe in 2020. Confirmed later.") == ["Reported by J. Doe in 2020.", "Confirmed later."]
