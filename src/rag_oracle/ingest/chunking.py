"""Split documents into chunks that respect sentence and section boundaries.

Chunks are sized in the embedder's tokens: sentences are packed greedily up to `max_tokens`,
never across a section boundary; the next chunk starts with the previous chunk's trailing
sentences, up to `overlap_tokens`, so a statement near a boundary keeps its context. A single
sentence longer than `max_tokens` is cut at word boundaries. Every chunk's text is exactly
`document.text[char_start:char_end]`, which is what lets a citation show the passage in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from rag_oracle.ingest.limits import Deadline
from rag_oracle.settings import ChunkSettings
from rag_oracle.text.sentences import sentence_spans
from rag_oracle.types import Chunk, Document

TokenCounter = Callable[[Sequence[str]], list[int]]
_WORD = re.compile(r"\S+")


# Text is chunked in windows of at most this many characters (cut at a paragraph break), so
# a very large file costs memory for one window's sentences and token counts, not the whole file.
# A normal document is one window: its sentences are counted in a single tokenizer call.
WINDOW_CHARS = 1 << 20


def chunk_document(
    document: Document, settings: ChunkSettings, count_tokens: TokenCounter, deadline: Deadline | None = None
) -> list[Chunk]:
    """Chunks of one document, in order. `count_tokens` measures a batch of strings."""
    return list(iter_chunks(document, settings, count_tokens, deadline))


def iter_chunks(
    document: Document, settings: ChunkSettings, count_tokens: TokenCounter, deadline: Deadline | None = None
) -> Iterator[Chunk]:
    """Chunks of one document, in order, produced window by window (see WINDOW_CHARS);
    `deadline.check()` runs before each window."""
    text = document.text
    ordinal = 0
    for window in _windows(document):
        if deadline is not None:
            deadline.check()
        sentences = [(title, sentence_spans(text, start, end)) for title, start, end in window]
        flat = [span for _, spans in sentences for span in spans]
        # One tokenizer call per window: batching is what makes counting cheap.
        counts = dict(zip(flat, count_tokens([text[a:b] for a, b in flat]), strict=True))
        for title, spans in sentences:
            for group in _pack(_split_long(text, spans, counts, settings.max_tokens, count_tokens), counts, settings):
                start, end = group[0][0], group[-1][1]
                yield Chunk(
                    id=f"{document.id}#{ordinal}",
                    doc_id=document.id,
                    ordinal=ordinal,
                    text=text[start:end],
                    section=title,
                    char_start=start,
                    char_end=end,
                    page_start=document.page_of(start),
                    page_end=document.page_of(end - 1),
                    # Sum of sentence counts: within a token or two of counting the joined text.
                    token_count=sum(counts[s] for s in group),
                )
                ordinal += 1


def _windows(document: Document) -> Iterator[list[tuple[str, int, int]]]:
    """The document's sections as (title, start, end) pieces, grouped into windows of at most
    WINDOW_CHARS; a section longer than that is cut at paragraph breaks (else line breaks, else spaces)."""
    window: list[tuple[str, int, int]] = []
    size = 0
    for section in document.sections:
        for start, end in _pieces(document.text, section.start, section.end):
            if window and size + (end - start) > WINDOW_CHARS:
                yield window
                window, size = [], 0
            window.append((section.title, start, end))
            size += end - start
    if window:
        yield window


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > WINDOW_CHARS:
        limit = start + WINDOW_CHARS
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = text.rfind(separator, start + WINDOW_CHARS // 2, limit)
            if cut != -1:
                break
        cut = limit if cut == -1 else cut + 1
        yield start, cut
        start = cut
    if end > start:
        yield start, end


def _pack(
    spans: list[tuple[int, int]], counts: dict[tuple[int, int], int], settings: ChunkSettings
) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    i = 0
    while i < len(spans):
        group = [spans[i]]
        total = counts[spans[i]]
        j = i + 1
        while j < len(spans) and total + counts[spans[j]] <= settings.max_tokens:
            group.append(spans[j])
            total += counts[spans[j]]
            j += 1
        groups.append(group)
        if j >= len(spans):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        back, overlap = j, 0
        while back - 1 > i and overlap + counts[spans[back - 1]] <= settings.overlap_tokens:
            back -= 1
            overlap += counts[spans[back]]
        i = back
    # A tiny last chunk in a section (a lone closing sentence) is merged into its neighbour when it fits.
    if len(groups) >= 2 and sum(counts[s] for s in groups[-1]) < settings.min_tokens:
        merged = sorted(set(groups[-2]) | set(groups[-1]))
        if sum(counts[s] for s in merged) <= settings.max_tokens:
            groups[-2:] = [merged]
    return groups


def _split_long(
    text: str,
    spans: list[tuple[int, int]],
    counts: dict[tuple[int, int], int],
    max_tokens: int,
    count_tokens: TokenCounter,
) -> list[tuple[int, int]]:
    """Cut sentences longer than max_tokens into word-aligned pieces that fit; `counts` gains the pieces."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if counts[(a, b)] <= max_tokens:
            out.append((a, b))
            continue
        words = [(m.start() + a, m.end() + a) for m in _WORD.finditer(text[a:b])]
        word_tokens = count_tokens([text[s:e] for s, e in words])
        piece_start, total = words[0][0], 0
        last_end = words[0][1]
        for (s, e), t in zip(words, word_tokens, strict=True):
            if total + t > max_tokens and total > 0:
                out.append((piece_start, last_end))
                counts[out[-1]] = total
                piece_start, total = s, 0
            total += t
            last_end = e
        out.append((piece_start, last_end))
        counts[out[-1]] = total
    return out
