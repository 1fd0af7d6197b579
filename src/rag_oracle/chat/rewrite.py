"""Follow-up rewriting: "and in the elderly?" becomes a question retrieval can answer on its own.

Two rewriters, chosen by `make_rewriter` from the settings:

`SubjectCarryRewriter` (no LLM; used with the extractive generator) works on the form of the
message and the previous turn's standalone question ("previous question" below):

1. The subject of the previous question is its most specific content word: the stemmed word
   (stopwords and generic clinical words such as "dose" or "patient" left out) found in the
   fewest chunks of the index (`rag_oracle.text.analyzer.subject_term`). A message that already names
   that subject, or a first message, is returned unchanged.
2. Ellipsis. A message that, after an optional leading "and", "but", "or", "also", "so" or
   "then", starts with "what about" / "how about" / "what if" or a preposition ("in the
   elderly?", "with alcohol?"), or that is a bare noun phrase after such a conjunction ("and
   children?"), is joined onto the previous question: "What is the dose of clonazepam for
   depression?" + "and in the elderly?" gives "What is the dose of clonazepam for depression
   in the elderly?". A noun phrase is joined with ", and", "what if" with "if".
3. Reference. Otherwise a message containing "it", "its", "they", "them", "their" or "this/that
   drug" has the first of them replaced by the subject as written in the previous question:
   "Is it safe in pregnancy?" gives "Is clonazepam safe in pregnancy?".
4. A message of at most three words that names nothing at least as specific as the subject
   ("Side effects?") is joined as in 2.
5. Anything else is self-contained and returned unchanged ("What is the usual dose of
   sertraline?").

Known limits: "what about sertraline?" is joined ("... for depression, and sertraline?"), so
retrieval looks for both drugs rather than swapping one for the other; an expletive "it" ("is
it true that ...") is read as a reference. The LLM rewriter has neither limit.

`LlmRewriter` asks the configured chat model with the versioned prompt `rewrite@1`
(prompts/rewrite/v1.yaml) and falls back to the rule-based rewriter when the reply is empty
or not a single line of reasonable length.

Example::

    rewriter = SubjectCarryRewriter(oracle.index)
    rewriter.rewrite([Exchange(question="What is the dose of clonazepam for depression?")], "and in the elderly?")
    # 'What is the dose of clonazepam for depression in the elderly?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag_oracle.chat.base import QuestionRewriter
from rag_oracle.errors import RagOracleError
from rag_oracle.settings import LlmSettings, Settings
from rag_oracle.text.analyzer import TermStatistics, content_terms, subject_term, surface_form
from rag_oracle.types import Exchange

REWRITE_PROMPT = "rewrite@1"
# A combined question longer than this keeps only the subject and the new words.
_MAX_COMBINED = 300
_SHORT_WORDS = 3

_CONJUNCTION = re.compile(r"^(?:and|but|or|also|so|then)\b[\s,]*", re.I)
_ABOUT = re.compile(r"^(?:what|how)\s+about\b\s*", re.I)
_WHAT_IF = re.compile(r"^what\s+if\b\s*", re.I)
_PREPOSITION = re.compile(
    r"^(?:in|for|with|without|during|among|after|before|at|on|from|under|over|while|when|vs\.?|versus)\b", re.I
)
_QUESTION_WORD = re.compile(
    r"^(?:what|which|how|when|why|who|whom|whose|where|is|are|was|were|does|do|did|can|could|should|"
    r"would|will|may|might|must|has|have)\b",
    re.I,
)
_PRONOUN = re.compile(
    r"\b(?:(?:this|that|the)\s+(?:drug|medication|medicine|treatment|agent)|its|their|it|they|them)\b", re.I
)
_TRAILING = " ?.!\t\n"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


class SubjectCarryRewriter:
    """The rule-based rewriter (no LLM); the module docstring states its rules."""

    name = "subject-carry"

    def __init__(self, statistics: TermStatistics) -> None:
        self.statistics = statistics

    def rewrite(self, history: Sequence[Exchange], message: str) -> str:
        message = " ".join(message.split())
        if not history or not message:
            return message
        previous = self._previous(history)
        stem = subject_term(previous, self.statistics)
        if stem is None or stem in content_terms(message):
            return message
        subject = surface_form(previous, stem)
        body = _CONJUNCTION.sub("", message)
        had_conjunction = body != message
        if about := _ABOUT.match(body):
            return self._join(previous, body[about.end() :], subject)
        if what_if := _WHAT_IF.match(body):
            return self._join(previous, "if " + body[what_if.end() :], subject)
        if _PREPOSITION.match(body):
            return self._join(previous, body, subject)
        if pronoun := _PRONOUN.search(body):
            word = pronoun.group(0).lower()
            replacement = f"{subject}'s" if word in {"its", "their"} else subject
            return _sentence_case(body[: pronoun.start()] + replacement + body[pronoun.end() :])
        if _QUESTION_WORD.match(body):
            return message
        if had_conjunction or (len(body.split()) <= _SHORT_WORDS and not self._names_own_subject(body, stem)):
            return self._join(previous, body, subject)
        return message

    def _previous(self, history: Sequence[Exchange]) -> str:
        """The last turn's standalone question, resolving earlier turns first when it is unknown."""
        last = history[-1]
        if last.standalone:
            return last.standalone
        return self.rewrite(history[:-1], last.question)

    def _names_own_subject(self, text: str, subject_stem: str) -> bool:
        """Whether `text` has a word at least as specific (in as few chunks) as the carried subject."""
        limit = self.statistics.document_frequency(subject_stem)
        return any(0 < self.statistics.document_frequency(t) <= limit for t in content_terms(text))

    @staticmethod
    def _join(previous: str, addition: str, subject: str) -> str:
        addition = addition.strip(_TRAILING)
        first_word = addition.split(" ", 1)[0]
        if not first_word.isupper():  # "In pregnancy?" continues a sentence; "HIV" stays as written
            addition = addition[:1].lower() + addition[1:]
        base = previous.strip(_TRAILING)
        if not addition:
            return base + "?"
        separator = " " if _PREPOSITION.match(addition) or addition.lower().startswith("if ") else ", and "
        combined = f"{base}{separator}{addition}?"
        if len(combined) > _MAX_COMBINED:
            combined = f"{_sentence_case(subject)} {addition}?"
        return combined


def _first_line(reply: str) -> str:
    for line in reply.splitlines():
        line = re.sub(r"^\s*(?:standalone question\s*:\s*)", "", line, flags=re.I).strip().strip("\"'`").strip()
        if line:
            return line
    return ""


class LlmRewriter:
    """Rewrites follow-ups with the configured chat model and the versioned prompt `rewrite@1`.

    >>> rewriter = LlmRewriter(settings.llm, fallback=SubjectCarryRewriter(oracle.index))  # doctest: +SKIP
    """

    name = "llm"

    def __init__(
        self,
        llm: LlmSettings,
        *,
        fallback: QuestionRewriter,
        prompt: str = REWRITE_PROMPT,
        history_turns: int = 3,
        chat_model=None,
    ) -> None:
        from rag_oracle.generate.prompts import load_prompt

        self.llm = llm
        self.prompt = load_prompt(prompt)
        self.fallback = fallback
        self.history_turns = history_turns
        self._chat_model = chat_model

    @property
    def chat_model(self):
        if self._chat_model is None:
            from rag_oracle.generate.llm import make_chat_model

            self._chat_model = make_chat_model(self.llm, self.prompt)
        return self._chat_model

    def rewrite(self, history: Sequence[Exchange], message: str) -> str:
        message = " ".join(message.split())
        if not history or not message:
            return message
        lines = []
        for exchange in history[-self.history_turns :]:
            lines.append(f"User: {exchange.question}")
            if exchange.answer:
                answer = " ".join(exchange.answer.split())
                lines.append(f"Assistant: {answer[:400]}{'…' if len(answer) > 400 else ''}")
        messages = self.prompt.messages(conversation="\n".join(lines), message=message)
        try:
            reply = str(self.chat_model.invoke(messages).content)
        except RagOracleError:
            raise
        except Exception as exc:  # client libraries raise their own hierarchies
            # The generator's explanation names the endpoint, the timeout or the model, whichever failed.
            from rag_oracle.generate.llm import explain_llm_error

            raise explain_llm_error(exc, self.llm) from None
        line = _first_line(reply)
        if not line or len(line) > _MAX_COMBINED * 2:
            return self.fallback.rewrite(history, message)
        return line


def make_rewriter(settings: Settings, statistics: TermStatistics) -> QuestionRewriter:
    """The LLM rewriter when the answer generator is the LLM, else the rule-based one."""
    rules = SubjectCarryRewriter(statistics)
    if settings.answer.generator == "llm":
        return LlmRewriter(settings.llm, fallback=rules)
    return rules
