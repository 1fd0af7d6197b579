"""A small corpus for conversation tests, written by the tests: clonazepam for depression, clonazepam
in the elderly, and distractors about the elderly that do not mention clonazepam."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag_oracle.settings import Settings, load_settings
from tests.conftest import JSONL_RECORDS, MARKDOWN

CHAT_RECORDS = [
    {
        "id": "clz-depression",
        "title": "Clonazepam as an adjunct in depression",
        "text": "The usual dose of clonazepam as an adjunct in depression is 0.5 to 1 mg at bedtime for two to "
        "four weeks, to relieve anxiety and insomnia. Clonazepam is not an antidepressant and does not "
        "treat depression on its own.",
        "year": 2020,
        "pmid": "900100001",
        "pmcid": "PMC9001001",
        "publication_types": ["Review"],
        "authors": ["Okafor A", "Lindqvist M", "Haddad R", "Moreau C"],
        "journal": "J Affect Disord",
    },
    {
        "id": "clz-elderly",
        "title": "Clonazepam in elderly patients",
        "text": "In elderly patients clonazepam increases the risk of falls, hip fracture and delirium. "
        "If clonazepam is used in the elderly, the starting dose is 0.25 mg at bedtime; review within two weeks.",
        "year": 2022,
        "doi": "10.5555/chat.elderly",
        "publication_types": ["Practice Guideline"],
        "authors": ["Brennan T", "Osei K"],
        "journal": "Age Ageing",
    },
    {
        # The same document again under another id: stored once, this id becomes an alias.
        "id": "clz-elderly-copy",
        "title": "Clonazepam in elderly patients",
        "text": "In elderly patients clonazepam increases the risk of falls, hip fracture and delirium. "
        "If clonazepam is used in the elderly, the starting dose is 0.25 mg at bedtime; review within two weeks.",
        "year": 2022,
    },
    {
        "id": "insomnia-elderly",
        "title": "Insomnia in the elderly",
        "text": "Insomnia is common in the elderly. Cognitive behavioural therapy is first line for the elderly "
        "with insomnia. Sleep hygiene helps elderly people sleep.",
        "year": 2019,
    },
    {
        "id": "bp-elderly",
        "title": "Blood pressure in the elderly",
        "text": "In the elderly a systolic target below 140 mmHg is reasonable. Frail elderly people need "
        "individual targets and the elderly should be checked for orthostatic hypotension.",
        "year": 2021,
    },
]

QUESTION = "What is the dose of clonazepam for depression?"


def write_chat_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    records = CHAT_RECORDS + JSONL_RECORDS
    (root / "records.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    (root / "guide.md").write_text(MARKDOWN, encoding="utf-8")
    return root


def fast_settings(root: Path) -> Settings:
    """The hash embedder and a private cache, whatever RAG_ORACLE_* variables the environment has."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("RAG_ORACLE_"):
                mp.delenv(key)
        base = load_settings()
    return base.with_overrides(
        {
            "embed": {"model": "hash:dim=512", "cache_dir": str(root / "cache")},
            "chunk": {"max_tokens": 40, "overlap_tokens": 10},
            "index": {"root": str(root / "indexes")},
            "answer": {"min_passage_similarity": 0.1},
        }
    )


def build_chat_index(root: Path) -> tuple[Settings, Path]:
    """(settings, index path) for the chat corpus, built under `root`."""
    from rag_oracle import ingest

    settings = fast_settings(root)
    path = root / "indexes" / "test-chat"
    report = ingest([write_chat_corpus(root / "corpus")], path, settings)
    assert report.count("failed") == 0, report.files
    return settings, path


# Environment for a `python -m rag_oracle.server` subprocess that must open the index above.
def server_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_ORACLE_")}
    env.update(
        {
            "RAG_ORACLE_EMBED__MODEL": "hash:dim=512",
            "RAG_ORACLE_EMBED__CACHE_DIR": str(root / "cache"),
            "RAG_ORACLE_ANSWER__MIN_PASSAGE_SIMILARITY": "0.1",
        }
    )
    return env
