"""The follow-up rewrite on the shipped sample corpus with the real embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.chat import ChatService, SessionStore

pytestmark = pytest.mark.slow


def _about_clonazepam_in_older_adults(text: str) -> bool:
    text = text.lower()
    return "clonazepam" in text and any(w in text for w in ("older adults", "aged 65", "elderly"))


def test_and_in_the_elderly_after_a_clonazepam_question(sample, tmp_path: Path) -> None:
    settings, index, _ = sample
    service = ChatService(RagOracle(index, settings), SessionStore(tmp_path / "s.sqlite"))
    session = service.start_session()
    service.send(session.id, "What is the dosage of clonazepam for treating depression?")
    turn = service.send(session.id, "and in the elderly?")

    assert turn.standalone_question == "What is the dosage of clonazepam for treating depression in the elderly?"
    assert any(_about_clonazepam_in_older_adults(h.chunk.text) for h in turn.answer.hits[:5])
    # asked alone, the same words find older adults in general, not clonazepam in older adults
    alone = service.search("and in the elderly?", k=5)
    assert not any(_about_clonazepam_in_older_adults(h.chunk.text) for h in alone)
