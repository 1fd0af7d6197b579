"""LLM generation through LangChain chat models, held to the same citation checks as the extractive one.

Backends (chosen by the [llm] settings, per run):
- `openai`: any OpenAI-compatible endpoint via `langchain-openai` (OpenAI, vLLM, Ollama,
  llama.cpp's server, LM Studio). The API key is read from the environment variable named by
  `llm.api_key_env`; it is never written anywhere.
- `llamacpp`: a local GGUF file run in-process via `langchain-community`'s ChatLlamaCpp.

The model sees the relevant passages numbered [1]..[n] and a versioned prompt. Its output is
parsed into a `Draft` of sections and sentences; the answer builder then verifies it like every
draft (fabricated markers removed, unsupported sentences and invented numbers removed or
flagged, citations renumbered). Timeouts and retries with backoff come from the client; an
unreachable endpoint or a missing model is a clear error.

The in-process llama.cpp model is not safe to call from two threads at once, so its calls are
serialised; an HTTP endpoint is called concurrently.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import nullcontext

from rag_oracle.errors import LlmError, RagOracleError
from rag_oracle.generate.base import OnToken
from rag_oracle.generate.prompts import Prompt, load_prompt
from rag_oracle.optional import require
from rag_oracle.settings import AnswerSettings, LlmSettings
from rag_oracle.text.markers import markers_in, strip_markers
from rag_oracle.text.sentences import sentence_spans
from rag_oracle.text.untrusted import is_instruction, strip_source_markers
from rag_oracle.types import Draft, DraftSection, DraftSentence, Hit

_SECTION_KINDS = [
    (re.compile(r"answer|summary|bottom line", re.I), "direct", "Answer"),
    (re.compile(r"dos(e|ing|age)|administration", re.I), "dosing", "Dosing and administration"),
    (re.compile(r"safety|monitor|warning|risk", re.I), "safety", "Safety and monitoring"),
    (re.compile(r"key point|takeaway", re.I), "key_points", "Key points"),
    (re.compile(r"related|follow", re.I), "related", "Related questions"),
]
_HEADING = re.compile(r"^\s*(?:#{1,6}\s*|\*\*)(.+?)(?:\*\*)?\s*:?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_NO_ANSWER = re.compile(r"passages do not answer", re.I)


def parse_draft(text: str, generator: str = "llm") -> Draft:
    """Sections of cited sentences, and related questions, from the model's Markdown-ish output."""
    sections: dict[str, tuple[str, list[tuple[str, list[int]]]]] = {}  # kind -> (title, [(sentence, cites)])
    related: list[str] = []
    kind, title = "direct", "Answer"
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        lines.clear()
        if not body:
            return
        if kind == "related":
            for line in body.splitlines():
                q = _BULLET.sub("", line).strip()
                if q.endswith("?"):
                    related.append(strip_markers(q))
            return
        sentences: list[tuple[str, list[int]]] = []
        for raw_line in body.splitlines():
            line = _BULLET.sub("", raw_line).strip()
            for a, b in sentence_spans(line):
                piece = line[a:b].strip()
                cites = markers_in(piece)
                clean = strip_markers(piece)
                # a marker standing alone after the period ("... surgery. [1]") belongs to the sentence before
                if not clean and cites and sentences:
                    sentences[-1][1].extend(cites)
                    continue
                if clean and not _NO_ANSWER.search(clean):
                    sentences.append((clean, cites))
        if sentences:
            sections.setdefault(kind, (title, []))[1].extend(sentences)

    for line in text.splitlines():
        heading = _HEADING.match(line) if (line.lstrip().startswith("#") or line.strip().startswith("**")) else None
        if heading:
            flush()
            name = heading.group(1)
            kind, title = next(
                ((k, t) for pattern, k, t in _SECTION_KINDS if pattern.search(name)), ("key_points", name.strip())
            )
        else:
            lines.append(line)
    flush()
    return Draft(
        sections=[
            DraftSection(
                kind=k,
                title=t,
                sentences=[DraftSentence(text=sentence, citations=cites) for sentence, cites in items],
            )
            for k, (t, items) in sections.items()
        ],
        related_questions=related[:5],
        raw_text=text,
        generator=generator,
    )


def format_passages(passages: list[Hit]) -> str:
    """The passages as the model reads them: numbered, with title, year and section, the source's own
    citation markers stripped (they would read as ours), and instruction-like or self-referential
    sentences ("ignore previous instructions", "this is medical advice") left out: a passage is
    data to quote, never an instruction."""
    blocks = []
    for i, hit in enumerate(passages, 1):
        doc = hit.document
        head = doc.title or doc.id
        if doc.year:
            head += f" ({doc.year})"
        if hit.chunk.section:
            head += f" \u2014 section: {hit.chunk.section}"
        text = hit.chunk.text
        kept = [text[a:b] for a, b in sentence_spans(text) if not (is_instruction(text[a:b]))]
        body = (
            strip_source_markers(" ".join(kept))
            if len(kept) < len(sentence_spans(text))
            else strip_source_markers(text)
        )
        blocks.append(f"[{i}] {head}\n{body}")
    return "\n\n".join(blocks)


def make_chat_model(settings: LlmSettings, prompt: Prompt):
    temperature = (
        settings.temperature if settings.temperature is not None else prompt.parameters.get("temperature", 0.1)
    )
    max_tokens = settings.max_tokens or prompt.parameters.get("max_tokens", 800)
    if settings.backend == "openai":
        ChatOpenAI = require(
            "langchain_openai", extra="llm", purpose="The OpenAI-compatible LLM backend", package="langchain-openai"
        ).ChatOpenAI
        if not settings.model:
            raise LlmError(
                "llm.model is empty: name the model the endpoint serves (--llm-model or RAG_ORACLE_LLM__MODEL)"
            )
        return ChatOpenAI(
            base_url=settings.base_url,
            model=settings.model,
            api_key=os.environ.get(settings.api_key_env) or "not-needed",
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            temperature=temperature,
            # langchain-openai sends max_tokens as "max_completion_tokens", which llama.cpp's server,
            # vLLM and Ollama ignore (the model then writes until its context is full); the plain
            # "max_tokens" field is what every OpenAI-compatible server understands.
            extra_body={"max_tokens": max_tokens},
        )
    require("llama_cpp", extra="llm-local", purpose="The in-process llama.cpp backend", package="llama-cpp-python")
    ChatLlamaCpp = require(
        "langchain_community.chat_models",
        extra="llm-local",
        purpose="The in-process llama.cpp backend",
        package="langchain-community",
    ).ChatLlamaCpp
    if not settings.model_path or not os.path.isfile(settings.model_path):
        raise LlmError(f"llm.model_path {settings.model_path!r} is not a GGUF file; point it at a local model file")
    return ChatLlamaCpp(
        model_path=settings.model_path,
        n_ctx=settings.n_ctx,
        n_threads=settings.threads,
        temperature=temperature,
        max_tokens=max_tokens,
        verbose=False,
    )


def explain_llm_error(exc: Exception, settings: LlmSettings) -> LlmError:
    """A clear LlmError for whatever a client library raised (timeout, connection, model, key)."""
    # Matched by class name: openai, httpx and langchain wrappers name these alike across versions.
    name = type(exc).__name__
    where = settings.base_url if settings.backend == "openai" else settings.model_path
    if "Timeout" in name:
        return LlmError(f"the LLM endpoint {where} did not answer within {settings.timeout:.0f}s (llm.timeout)")
    if "Connect" in name:
        return LlmError(f"cannot reach the LLM endpoint {where} ({exc}); is the server running and the URL right?")
    if "NotFound" in name:
        return LlmError(f"the endpoint {where} does not serve model {settings.model!r} ({exc}); check llm.model")
    if name in {"AuthenticationError", "PermissionDeniedError"}:
        return LlmError(f"the endpoint {where} refused the API key from ${settings.api_key_env} ({exc})")
    return LlmError(f"LLM call to {where} failed: {name}: {exc}")


class LlmGenerator:
    """Draft with a chat model; the answer builder verifies the draft like every generator's.

    >>> gen = LlmGenerator(answer_settings, llm_settings)   # doctest: +SKIP
    >>> gen.draft("How long to hold apixaban?", passages, on_token=print)  # doctest: +SKIP
    """

    name = "llm"

    def __init__(self, settings: AnswerSettings, llm: LlmSettings, chat_model=None) -> None:
        self.settings = settings
        self.llm = llm
        self.prompt = load_prompt(settings.prompt)
        self._chat_model = chat_model
        self._model_lock = threading.Lock()
        # llama.cpp in-process keeps one context: one call at a time.
        self._call_lock = threading.Lock() if llm.backend == "llamacpp" and chat_model is None else None

    @property
    def version(self) -> str:
        return self.prompt.ref

    @property
    def label(self) -> str:
        return f"llm:{self.prompt.ref}"

    @property
    def identity(self) -> dict[str, object]:
        model = self.llm.model if self.llm.backend == "openai" else os.path.basename(self.llm.model_path)
        return {
            "name": self.name,
            "version": self.version,
            "prompt": self.prompt.ref,
            "prompt_id": self.prompt.id,
            "prompt_version": self.prompt.version,
            "prompt_sha256": self.prompt.sha256,
            "backend": self.llm.backend,
            "model": model,
            "audience": self.settings.audience,
        }

    @property
    def chat_model(self):
        with self._model_lock:
            if self._chat_model is None:
                self._chat_model = make_chat_model(self.llm, self.prompt)
        return self._chat_model

    def draft(self, question: str, passages: list[Hit], on_token: OnToken | None = None) -> Draft:
        messages = self.prompt.messages(
            question=question, passages=format_passages(passages), audience=self.settings.audience
        )
        try:
            with self._call_lock or nullcontext():
                if on_token is None:
                    text = str(self.chat_model.invoke(messages).content)
                else:
                    parts = []
                    for chunk in self.chat_model.stream(messages):
                        piece = str(chunk.content)
                        parts.append(piece)
                        on_token(piece)
                    text = "".join(parts)
        except RagOracleError:
            raise
        except Exception as exc:  # client libraries raise their own hierarchies
            raise explain_llm_error(exc, self.llm) from None
        return parse_draft(text, generator=self.label)
