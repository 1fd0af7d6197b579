"""Follow-up rewriting: "and for dabigatran?" becomes a question retrieval can answer on its own.

Two rewriters, chosen by `make_rewriter` from the settings.

`TurnRewriter` (no LLM; used with the extractive generator) reads the previous turn's standalone
question ("previous" below) and the follow-up with the question analysis (answer/question.py):
the drugs, the population and the intent of each, and the previous question's *parts*, found in
its words as written: the drug mentions, the population phrase ("most adults", "adults aged 65
and older"), the condition or setting phrases ("for panic disorder", "before surgery", "with
hypertension") and, when it names no drug, its topic ("blood pressure"). Then, in this order:

1. **Self-contained.** A first message, or a follow-up that is a question of its own (it names
   a drug, or a topic the previous question does not, and asks something of it), is unchanged:
   "What is the usual dose of sertraline?".
2. **"What if ..."** is a condition on the previous question: "What if creatinine clearance is
   30 to 49 mL/min?" gives "<previous> if creatinine clearance is 30 to 49 mL/min?".
3. **Ellipsis** ("and for dabigatran?", "what about children?", "and in older adults?", "And for
   neurosurgery?"): a fragment without a verb of its own. A new drug *replaces* the old one in
   the previous question ("How long should dabigatran be held before surgery?"); a new population
   replaces the old population phrase, or is added when there was none ("... in children?"); a
   new condition or setting replaces the previous question's last one ("What platelet count is
   needed before neurosurgery?"). A fragment naming an intent ("Interactions?", "Maximum?", "How
   long?", "Side effects?") is a new question about the same subject (rule 4).
4. **A new intent about the same subject** ("What is the maximum?", "how long?", "Interactions?",
   "when can I restart it?"): a fresh standalone question from the intent's template, with the
   previous subject, condition and population: "What is the maximum dose of clonazepam for panic
   disorder?", "What are the interactions of clonazepam?", "When can apixaban be restarted after
   surgery?" (a restart is after what the hold was before).
5. **Reference.** Pronouns resolve: "it", "its", "this drug" to the subject (the drug, or the
   topic: "how should I measure it?" after a blood-pressure-target question measures blood
   pressure); "it" asking whether a quantity differs ("Is it different for patients over 60?")
   to the quantity asked before ("the maximum dose of citalopram"); "them", "they", "their" to the
   population when the previous question had one ("Is lorazepam safe for them?" -> "... in older
   adults"). "Which is preferred ...?" names the previous subject ("Which antidepressant is
   preferred ...?"). The previous condition and population are kept unless the follow-up names
   its own: "Is lorazepam safe for insomnia in older adults?". A follow-up naming a new drug and
   nothing else to ask about ("Can I give warfarin?") keeps the previous condition and population.
   "How would I switch?" after a question naming two drugs switches from the earlier to the newer.

Nothing is ever rewritten to a stem: every word put in comes from the previous question or the
follow-up as written, or from the intent templates. What cannot be resolved is returned as typed.

`LlmRewriter` asks the configured chat model with the versioned prompt `rewrite@1`
(prompts/rewrite/v1.yaml) and falls back to the rule-based rewriter when the reply is empty
or not a single line of reasonable length.

Measured on evals/clinical/followups.jsonl (`rag-oracle eval followups`, tests/evaluation/test_followups.py).

Example::

    rewriter = TurnRewriter(oracle.index)
    rewriter.rewrite([Exchange(question="How long should apixaban be held before surgery?")], "and for dabigatran?")
    # 'How long should dabigatran be held before surgery?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag_oracle.answer.question import DOSE_INTENTS, INTENTS, QUANTITY_INTENTS, analyse, topic_terms
from rag_oracle.chat.base import QuestionRewriter
from rag_oracle.errors import RagOracleError
from rag_oracle.settings import LlmSettings, Settings
from rag_oracle.text.analyzer import TermStatistics, tokenize_one
from rag_oracle.text.lexicon import POPULATIONS, drug_mentions
from rag_oracle.types import Exchange, QuestionAnalysis

REWRITE_PROMPT = "rewrite@1"
# An LLM reply longer than this is not a question.
_MAX_COMBINED = 300
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'\u2019/.][A-Za-z0-9]+)*")
_CONJUNCTION = re.compile(r"^(?:and|but|or|also|so|then|ok(?:ay)?|now)\b[\s,]*", re.I)
_ABOUT = re.compile(r"^(?:what|how)\s+about\b\s*", re.I)
_WHAT_IF = re.compile(r"^what\s+if\b\s*", re.I)
_IF = re.compile(r"^(?:even\s+)?if\b\s*", re.I)
# "for an adult with penicillin allergy, how should it be taken?": the question after the comma
_FRONT_CLAUSE = re.compile(
    r"^(?P<front>(?:for|in|with|during|after|before)\b[^,?]{2,80}),\s*(?P<question>(?:what|which|how|when|is|are|can|"
    r"could|should|does|do|would|will)\b.*)$",
    re.I,
)
_QUESTION_WORD = re.compile(
    r"^(?:what|which|how|when|why|who|whom|whose|where|is|are|was|were|does|do|did|can|could|should|"
    r"would|will|may|might|must|has|have|shall|tell|list|give|explain|describe)\b",
    re.I,
)
PREPOSITIONS = frozenset("for in with without before after during among on at from under in vs versus".split())
# Words that end a prepositional phrase: auxiliaries and verbs ("before surgery should warfarin ...").
_STOP = frozenset(
    "should is are was were be been being can could would will may might must do does did has have had "
    "shall to if when whether that which who and or but".split()
)
_LEFT_OF_POPULATION = frozenset("most all the many some frail very a an".split())
_RIGHT_OF_POPULATION = frozenset(
    "patients people persons individuals residents impairment failure disease insufficiency function".split()
)
_PRONOUN = re.compile(
    r"\b(?:(?:this|that|the)\s+(?:drug|medication|medicine|treatment|agent)|its|it|their|they|them)\b", re.I
)
_PLURAL_PRONOUN = re.compile(r"\b(?:(?P<prep>for|in|among|with|to)\s+)?(?P<word>them|they|their)\b", re.I)
# a condition added to a question by "what if ..." ("... before surgery if CrCl is 40?"): last, after a word
_IF_CLAUSE = re.compile(r"(?<=[A-Za-z0-9)] )if\s+(?P<rest>[^?,]+?)(?=\s*\?*\s*$)", re.I)
_PREPOSITION_START = re.compile(r"^(?:" + "|".join(sorted(PREPOSITIONS)) + r")\b", re.I)
_WHICH = re.compile(r"^which\s+(?=(?:is|are|one|ones|would|should|do|does|of)\b)", re.I)
_DIFFERS = re.compile(r"\b(?:different|differ|same|change[sd]?|higher|lower|adjusted|adjust)\b", re.I)
_COMPARES = re.compile(r"\b(?:equivalent|equal|compared?|corresponds?)\b", re.I)
_DOSE = re.compile(r"\b(?:doses?|dosage|dosing)\b", re.I)
_PATIENT_PRONOUN = re.compile(r"\b(?:he|she|him|her|the patient|my patient)\b", re.I)
_INSTEAD = re.compile(r"\binstead\b(?!\s+of\b)", re.I)
_SWITCH = re.compile(r"\bswitch\w*\b", re.I)
_RESTART = re.compile(r"\b(?:restart\w*|resum\w*)\b", re.I)
_QUANTITY_NOUN = re.compile(r"\b(?:dose|dosage|target|threshold|goal)\b", re.I)
_QUANTITY_ADJECTIVE = frozenset(
    "the usual maximum max starting initial recommended typical oral daily total blood pressure".split()
)
# Analysed words that say what is asked or done, not what it is about ("how should I measure it?").
_NOT_SUBJECT = frozenset(
    tokenize_one(
        "measure check take use give start stop prefer preferred switch treat manage safe different change "
        "better work help need restart avoid combine recommend know happen mean think consider continue "
        "else instead again also possible okay fine it its they them their this that these those drug "
        "medication medicine tell explain describe me about please do does did can could would should will "
        "may might must is are was were be been get got"
    )
)
_RELATED_INTENTS = QUANTITY_INTENTS | {"interactions", "adverse_effects", "monitoring", "taper", "choice"}
_TRAILING = " ?.!\t\n"
_SHORT_QUESTION = 5  # words: "what dose of sertraline?" continues the conversation; a longer one stands alone
_MARK = "\ue000"  # a private-use character marking an insertion point while a question is rewritten


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass
class Parts:
    """The previous question's parts, found in its words as written (offsets into its text)."""

    text: str
    analysis: QuestionAnalysis
    drugs: list[Span] = field(default_factory=list)  # drug mentions, in order
    populations: list[tuple[Span, str, set[str]]] = field(default_factory=list)  # span, preposition, kinds
    conditions: list[tuple[Span, str, Span]] = field(default_factory=list)  # whole phrase, preposition, object
    topic: str = ""  # the subject when no drug is named ("blood pressure")

    @property
    def subject(self) -> str:
        names: list[str] = []
        seen: set[str] = set()
        for m in drug_mentions(self.text):
            if m.name not in seen:
                seen.add(m.name)
                names.append(m.surface)
        return " and ".join(names) if names else self.topic

    def population_phrase(self) -> str:
        """The population phrases with their prepositions, as written ("for most adults")."""
        return " ".join(span.text for span, _, _ in self.population_phrases())

    def population_phrases(self) -> list[tuple[Span, str, set[str]]]:
        out = []
        for span, prep, kinds in self.populations:
            start = span.start - len(prep) - 1 if prep else span.start
            out.append((Span(start, span.end, self.text[start : span.end]), prep, kinds))
        return out

    def condition_phrases(self, restart: bool = False) -> list[tuple[int, str]]:
        """(offset, phrase) of each condition or setting; a restart is after what a hold was before."""
        out = []
        for whole, prep, obj in self.conditions:
            out.append((whole.start, f"after {obj.text}" if restart and prep.lower() == "before" else whole.text))
        return out

    def condition_phrase(self, restart: bool = False) -> str:
        return " ".join(text for _, text in self.condition_phrases(restart))


def _words(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]


def population_spans(text: str) -> list[tuple[Span, set[str]]]:
    """The population phrases of `text` ("most adults", "adults aged 65 and older", "the elderly")."""
    raw = sorted((m.start(), m.end(), name) for name, p in POPULATIONS.items() for m in p.finditer(text))
    merged: list[list] = []
    for start, end, name in raw:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].add(name)
        else:
            merged.append([start, end, {name}])
    out = []
    words = _words(text)
    for start, end, kinds in merged:
        left = [w for w in words if w.end <= start]
        while left and left[-1].text.lower() in _LEFT_OF_POPULATION and text[left[-1].end : start].strip() == "":
            start = left.pop().start
        right = [w for w in words if w.start >= end]
        while right and right[0].text.lower() in _RIGHT_OF_POPULATION and text[end : right[0].start].strip() == "":
            end = right.pop(0).end
        out.append((Span(start, end, text[start:end]), kinds))
    return out


def _kind(kinds: set[str]) -> str:
    """Which population a phrase replaces: an age group or pregnancy replace each other (a pregnant
    patient is an adult; "pregnancy?" after "in children" asks about pregnancy instead); renal and
    hepatic impairment sit beside an age group ("older adults with renal impairment")."""
    return "organ" if kinds <= {"renal", "hepatic"} else "person"


def parse(text: str, statistics: TermStatistics) -> Parts:
    analysis = analyse(text, statistics)
    parts = Parts(text=text, analysis=analysis)
    parts.drugs = [Span(m.start, m.end, m.surface) for m in drug_mentions(text)]
    words = _words(text)
    taken = [(s.start, s.end) for s in parts.drugs]
    clause = _IF_CLAUSE.search(text)
    if clause:  # "... if CrCl is 40?": one condition, kept whole; its words are not parts of their own
        whole = Span(clause.start(), clause.end(), clause.group(0))
        parts.conditions.append((whole, "if", Span(clause.start("rest"), clause.end(), clause.group("rest"))))
        taken.append((clause.start(), clause.end()))
    for span, kinds in population_spans(text):
        if clause and span.start >= clause.start():
            continue
        before = [w for w in words if w.end <= span.start]
        prep = before[-1].text if before and before[-1].text.lower() in PREPOSITIONS else ""
        if prep and text[before[-1].end : span.start].strip():
            prep = ""
        parts.populations.append((span, prep, kinds))
        taken.append((span.start - (len(prep) + 1 if prep else 0), span.end))

    def inside(w: Span) -> bool:
        return any(a <= w.start < b for a, b in taken)

    for i, w in enumerate(words):
        if w.text.lower() not in PREPOSITIONS or w.text.lower() in {"vs", "versus"} or inside(w):
            continue
        obj: list[Span] = []
        for nxt in words[i + 1 :]:
            if nxt.text.lower() in PREPOSITIONS or nxt.text.lower() in _STOP or inside(nxt):
                break
            obj.append(nxt)
        if obj:
            o = Span(obj[0].start, obj[-1].end, text[obj[0].start : obj[-1].end])
            parts.conditions.append((Span(w.start, o.end, text[w.start : o.end]), w.text, o))
    parts.conditions.sort(key=lambda c: c[0].start)
    if not parts.drugs:
        known = [t for t in analysis.topic_terms if t not in _NOT_SUBJECT and statistics.document_frequency(t) > 0]
        parts.topic = _topic_phrase(text, words, analysis.model_copy(update={"topic_terms": known}), inside)
    return parts


def _topic_phrase(text: str, words: list[Span], analysis: QuestionAnalysis, inside) -> str:
    """The run of topic words holding the question's most specific one ("blood pressure")."""
    topic = set(analysis.topic_terms)
    runs: list[list[Span]] = []
    for w in words:
        analysed = tokenize_one(w.text)
        if analysed and analysed[0] in topic and not inside(w):
            if runs and runs[-1] and text[runs[-1][-1].end : w.start].strip() == "":
                runs[-1].append(w)
            else:
                runs.append([w])
        elif w.text.lower() in {"count", "level", "levels", "score"} and runs and runs[-1]:
            runs[-1].append(w)
        else:
            runs.append([])
    runs = [r for r in runs if r]
    if not runs:
        return ""
    rank = {t: i for i, t in enumerate(analysis.subject)}

    def best(run: list[Span]) -> int:
        return min((rank.get(" ".join(tokenize_one(w.text)), len(rank)) for w in run), default=len(rank))

    chosen = min(runs, key=lambda r: (best(r), -len(r)))
    phrase = text[chosen[0].start : chosen[-1].end]
    return phrase if phrase.isupper() else phrase.lower()


def _front_clause_last(text: str) -> str:
    """'for an adult, how should it be taken?' -> 'how should it be taken for an adult?'"""
    m = _FRONT_CLAUSE.match(text)
    if not m:
        return text
    return f"{m.group('question').rstrip(_TRAILING)} {m.group('front')}?"


def _bare(phrase: str) -> str:
    """'in older adults' -> 'older adults': a population as the subject of a sentence."""
    return re.sub(r"^(?:" + "|".join(sorted(PREPOSITIONS)) + r")\s+", "", phrase, flags=re.I)


def _singular(noun: str) -> str:
    """'antidepressants' -> 'antidepressant' for "Which ... is"; other words unchanged."""
    return noun[:-1] if noun.endswith("s") and not noun.endswith(("ss", "us", "is")) and " " not in noun else noun


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip(_TRAILING)
    text = re.sub(r"\s+([,;:])", r"\1", text)
    return (text[:1].upper() + text[1:] + "?") if text else text


def _splice(text: str, span: Span, replacement: str) -> str:
    return text[: span.start] + replacement + text[span.end :]


class TurnRewriter:
    """The rule-based rewriter (no LLM); the module docstring states its rules."""

    name = "turn-rules"

    def __init__(self, statistics: TermStatistics) -> None:
        self.statistics = statistics

    def rewrite(self, history: Sequence[Exchange], message: str) -> str:
        message = " ".join(message.split())
        if not history or not message:
            return message
        previous = self._previous(history)
        parts = parse(previous.strip(), self.statistics)
        if not parts.subject and not parts.populations and not parts.conditions:
            return message  # nothing to carry over
        body = message
        while (conjunction := _CONJUNCTION.match(body)) and conjunction.end():
            body = body[conjunction.end() :]
        body = _front_clause_last(body)
        about = _ABOUT.match(body)
        if about:
            body = body[about.end() :]
        if what_if := _WHAT_IF.match(body) or _IF.match(body):
            return _sentence(f"{previous.strip(_TRAILING)} if {body[what_if.end() :].strip(_TRAILING)}")
        body = body.strip(_TRAILING)
        if not body:
            return message
        mine = analyse(body, self.statistics)
        fragment = bool(about) or not _QUESTION_WORD.match(body)
        own_topic = self._own_topic(body, mine, parts)  # names something besides drugs, population, intent
        if fragment:
            if mine.intent in _RELATED_INTENTS and not own_topic:
                return self._template(parts, mine, body) or self._replace(parts, body, mine)
            head = re.split(r"\b(?:" + "|".join(sorted(PREPOSITIONS)) + r")\b", body, maxsplit=1, flags=re.I)[0]
            if mine.drugs and self._own_topic(head, analyse(head, self.statistics), parts):
                return message  # "Warfarin bridging?": a new subject of its own ("and sertraline for anxiety?" is not)
            return self._replace(parts, body, mine)
        if not mine.drugs and parts.drugs and (patient := _PATIENT_PRONOUN.search(body)):
            # "does he need bridging?": he is a patient on the drug asked about
            said = f"{body[: patient.start()]}a patient on {parts.subject}{body[patient.end() :]}"
            return _sentence(_insert_before_population(said, self._context(parts, body)))
        if parts.subject and (instead := _INSTEAD.search(body)) and not mine.drugs:
            # "what can I prescribe instead?": instead of the previous subject, for the same patient
            said = f"{body[: instead.end()]} of {parts.subject}{body[instead.end() :]}"
            return _sentence(_insert_before_population(said, self._context(parts, body)))
        if _SWITCH.search(body) and not mine.drugs and len(parts.drugs) >= 2:
            return self._switch(history, parts, body)
        if _COMPARES.search(body) and mine.drugs and set(mine.drugs) - set(parts.analysis.drugs):
            quantity = self._quantity_phrase(parts)
            if quantity:
                return _sentence(f"{body} to {quantity} {parts.condition_phrase()}")
        anaphoric = _PRONOUN.search(body) or _WHICH.match(body)
        own = bool(mine.drugs) or own_topic
        if not mine.drugs and parts.drugs and mine.intent in DOSE_INTENTS and not anaphoric and _DOSE.search(body):
            return self._dose_of(parts, body)  # "what dose is used as an adjunct?": of the same drug
        if own and not anaphoric:
            new_drug = set(mine.drugs) - set(parts.analysis.drugs)
            short = len(body.split()) <= _SHORT_QUESTION and not population_spans(body)
            if new_drug and not own_topic and (mine.intent in {"general", "yes_no"} or short):
                return self._carry(parts, body)  # "Can I give warfarin?": same setting, new drug
            return message  # a question of its own
        if not anaphoric and mine.intent in _RELATED_INTENTS and parts.drugs:
            return self._template(parts, mine, body) or message
        if anaphoric and not mine.drugs and mine.intent in _RELATED_INTENTS and parts.drugs and not own:
            made = self._template(parts, mine, body)
            if made:
                return made
        return self._resolve(parts, body, mine)

    # --- the rules ---------------------------------------------------------------------------

    def _previous(self, history: Sequence[Exchange]) -> str:
        """The last turn's standalone question, resolving earlier turns first when it is unknown."""
        last = history[-1]
        if last.standalone:
            return last.standalone
        return self.rewrite(history[:-1], last.question)

    def _own_topic(self, body: str, mine: QuestionAnalysis, parts: Parts) -> bool:
        """Whether the message names something to ask about besides drugs, populations and intent words."""
        known = set(parts.analysis.question_terms)
        drug_words = set(tokenize_one(" ".join(m.surface for m in drug_mentions(body))))
        for _, pattern in INTENTS:  # "Interactions?", "Side effects?" name what is asked, not a subject
            body = pattern.sub(" ", body)
        for term in topic_terms(body):
            if term in _NOT_SUBJECT or term in known or term in drug_words:
                continue
            if self.statistics.document_frequency(term) > 0:
                return True
        return False

    def _replace(self, parts: Parts, body: str, mine: QuestionAnalysis) -> str:
        """An elliptical fragment: its drugs, population or setting replace the previous ones."""
        text = parts.text
        edits: list[tuple[Span, str]] = []
        appended: list[str] = []
        mentioned = drug_mentions(body)
        new_drugs = [m for m in mentioned if m.name not in parts.analysis.drugs]
        narrows = bool(mentioned) and not new_drugs and {m.name for m in mentioned} < set(parts.analysis.drugs)
        if (new_drugs or narrows) and parts.drugs:
            # the new drug replaces the old one's whole name ("amoxicillin-clavulanate" -> "doxycycline");
            # a drug already named, alone, narrows it ("what about plain amoxicillin?")
            replacement = _drug_phrase(body, list(mentioned if narrows else new_drugs))
            edits.append((_drug_group(parts.text, parts.drugs), replacement))
        elif new_drugs:
            appended.append("with " + " and ".join(m.surface for m in new_drugs))
        rest = body
        if mentioned:
            group = _drug_group(body, [Span(m.start, m.end, m.surface) for m in mentioned], modifiers=True)
            rest = rest[: group.start] + rest[group.end :]
        for span, kinds in population_spans(body):
            kind = _kind(kinds)
            target = next((p for p in parts.populations if _kind(p[2]) == kind), None)
            if target is not None:
                edits.append((target[0], span.text))
            else:
                appended.append(_population_with_preposition(body, span))
            prep = self._preposition_before(body, span)
            rest = re.sub(rf"(?:\b{prep}\s+)?{re.escape(span.text)}", " ", rest, count=1, flags=re.I)
        rest = " ".join(w for w in rest.split() if w.strip(",")).strip(" ,")
        rest_words = _words(rest)
        # what is left after the drugs and populations: a setting or condition ("for neurosurgery")
        while rest_words and rest_words[-1].text.lower() in PREPOSITIONS:
            rest = rest[: rest_words[-1].start].strip()
            rest_words.pop()
        if rest_words and any(tokenize_one(w.text) for w in rest_words):
            prep = rest_words[0].text if rest_words[0].text.lower() in PREPOSITIONS else ""
            obj = rest[rest_words[1].start :] if prep and len(rest_words) > 1 else ("" if prep else rest)
            if obj:
                same = [c for c in parts.conditions if c[1].lower() == prep.lower()]
                target = (
                    same[-1]
                    if same
                    else (parts.conditions[-1] if parts.conditions and prep.lower() in {"", "for"} else None)
                )
                if target is not None:
                    edits.append((target[2], obj))
                else:
                    appended.append(f"{prep or 'for'} {obj}")
        if not edits and not appended:
            return message_or(body, parts)
        out = text.strip().rstrip(_TRAILING)
        for span, replacement in sorted(edits, key=lambda e: -e[0].start):
            out = _splice(out, span, replacement)
        return _sentence(" ".join([out, *appended]))

    @staticmethod
    def _preposition_before(text: str, span: Span) -> str:
        before = _words(text[: span.start])
        if before and before[-1].text.lower() in PREPOSITIONS and text[before[-1].end : span.start].strip() == "":
            return before[-1].text.lower()
        return ""

    def _context(self, parts: Parts, mine_text: str, *, restart: bool = False, condition: bool = True) -> str:
        """The previous condition and population, unless the message names its own population."""
        extra: list[tuple[int, str]] = []
        if condition:
            extra += parts.condition_phrases(restart=restart)
        if not population_spans(mine_text):
            extra += [(span.start, span.text) for span, _, _ in parts.population_phrases()]
        return " ".join(text for _, text in sorted(extra))

    def _template(self, parts: Parts, mine: QuestionAnalysis, body: str) -> str:
        """A fresh standalone question for a new intent about the previous subject."""
        subject = " and ".join(m.surface for m in drug_mentions(body)) or parts.subject
        if not subject or not (parts.drugs or drug_mentions(body)):
            return ""
        own_population = " ".join(_population_with_preposition(body, sp) for sp, _ in population_spans(body))
        restart = bool(_RESTART.search(body))
        context = self._context(parts, body, restart=restart)
        if own_population:
            context = f"{context} {own_population}".strip()
        if mine.intent == "duration" and parts.analysis.intent == "taper":
            return _sentence(f"How long does a {subject} taper take {context}")  # "how long does it take?"
        templates = {
            "max_dose": f"What is the maximum dose of {subject} {context}",
            "start_dose": f"What is the starting dose of {subject} {context}",
            "dose": f"What is the dose of {subject} {context}",
            "duration": f"How long should {subject} be given {context}",
            "interactions": f"What are the interactions of {subject} {own_population or parts.population_phrase()}",
            "adverse_effects": f"What are the side effects of {subject} {context}",
            "monitoring": f"What monitoring is needed for {subject} {context}",
            "taper": f"How should {subject} be tapered {context}",
            "hold": (
                f"When can {subject} be restarted {context}"
                if restart
                else f"How long should {subject} be held {context}"
            ),
            "choice": f"Which {_singular(subject)} is preferred {context}",
        }
        if mine.intent == "adverse_effects" and re.search(r"\brisks?\b", body, re.I):
            return _sentence(f"What are the risks of {subject} {context}")
        made = templates.get(mine.intent, "")
        return _sentence(made) if made else ""

    def _dose_of(self, parts: Parts, body: str) -> str:
        """The message's dose made the previous drug's, with the previous setting and population."""
        dose = _DOSE.search(body)
        out = f"{body[: dose.end()]} of {parts.subject}{body[dose.end() :]}" if dose else f"{body} of {parts.subject}"
        own_topic = self._own_topic(body, analyse(body, self.statistics), parts)
        context = self._context(parts, body, condition=not own_topic)
        return _sentence(_insert_before_population(out, context))

    def _carry(self, parts: Parts, body: str) -> str:
        """The message with the previous setting and population (before its own population, if any)."""
        return _sentence(_insert_before_population(body, self._context(parts, body)))

    def _quantity_phrase(self, parts: Parts) -> str:
        """The quantity the previous question asked for, as written ("the maximum dose of citalopram")."""
        text = parts.text
        m = _QUANTITY_NOUN.search(text)
        if m is None:
            return ""
        words = _words(text)
        idx = next(i for i, w in enumerate(words) if w.start == m.start())
        start = idx
        while start > 0 and words[start - 1].text.lower() in _QUANTITY_ADJECTIVE:
            start -= 1
        end = idx
        if end + 2 < len(words) and words[end + 1].text.lower() == "of" and drug_mentions(words[end + 2].text):
            end += 2
        phrase = text[words[start].start : words[end].end]
        if not phrase.lower().startswith("the "):
            phrase = "the " + phrase
        return phrase[:1].lower() + phrase[1:]

    def _switch(self, history: Sequence[Exchange], parts: Parts, body: str) -> str:
        newer = {m.name for m in drug_mentions(history[-1].question)}
        mentions = list({m.name: m for m in drug_mentions(parts.text)}.values())
        to = [m for m in mentions if m.name in newer] or mentions[-1:]
        source = [m for m in mentions if m not in to] or mentions[:1]
        return _sentence(
            f"{body} from {' and '.join(m.surface for m in source)} to {' and '.join(m.surface for m in to)} "
            f"{parts.condition_phrase()}"
        )

    @staticmethod
    def _refers_back(text: str, pronoun: re.Match) -> bool:
        """Whether a pronoun means the previous subject: not an expletive ("is it safe to combine ..."),
        and not when the message names its own drug before it."""
        after = text[pronoun.end() :]
        if re.match(r"\s*(?:safe|ok|okay|possible|true|reasonable|necessary|worth)\s+(?:to|that)\b", after, re.I):
            return False
        first_drug = min((m.start for m in drug_mentions(text)), default=None)
        return first_drug is None or first_drug > pronoun.start()

    def _resolve(self, parts: Parts, body: str, mine: QuestionAnalysis) -> str:
        """Pronouns resolved, then the previous setting and population kept."""
        out = body
        used_population = False
        population = parts.population_phrase()
        if population:
            plural = _PLURAL_PRONOUN.search(out)
            if plural and (plural.group("prep") or plural.group("word").lower() in {"them", "they"}):
                # a mark where the population goes: the kept setting is put before it
                said = (
                    population if plural.group("prep") or plural.group("word").lower() == "them" else _bare(population)
                )
                out = out[: plural.start()] + _MARK + said + out[plural.end() :]
                used_population = True
        if re.fullmatch(r"which\s+ones?", out.strip(), re.I) and parts.drugs:
            made = self._template(parts, mine.model_copy(update={"intent": "choice"}), body)
            if made:
                return made
        if which := _WHICH.match(out):
            subject = parts.subject
            if re.match(r"is\b", out[which.end() :], re.I):
                subject = _singular(subject)
            out = f"Which {subject} {out[which.end() :]}"
        elif (pronoun := _PRONOUN.search(out)) and self._refers_back(out, pronoun):
            word = pronoun.group(0).lower()
            if word in {"it", "this", "that"} and _DIFFERS.search(out) and parts.analysis.intent in QUANTITY_INTENTS:
                replacement = self._quantity_phrase(parts) or parts.subject
            elif word in {"its", "their"}:
                replacement = f"{parts.subject}'s"
            else:
                replacement = parts.subject
            if replacement:
                out = out[: pronoun.start()] + replacement + out[pronoun.end() :]
        elif not mine.drugs and parts.subject and not self._own_topic(body, mine, parts):
            out = f"{out} about {parts.subject}"
        own_topic = self._own_topic(body, mine, parts)
        extra = parts.condition_phrases() if not own_topic else []
        if not used_population and not population_spans(body):
            extra += [(span.start, span.text) for span, _, _ in parts.population_phrases()]
        insert = " ".join(text for _, text in sorted(extra))
        if used_population:
            out = out.replace(_MARK, f"{insert} " if insert else "")
        else:
            out = _insert_before_population(out, insert)
        return _sentence(out)


_DRUG_JOINER = re.compile(r"^(?:\s*[-/+]\s*|\s+(?:and|with|plus)\s+)$", re.I)
_DRUG_MODIFIERS = frozenset("plain oral iv intravenous high-dose low-dose standard".split())


def _population_with_preposition(text: str, span: Span) -> str:
    """'in children', 'over 75', 'during breastfeeding': the preposition written, else 'in'."""
    words = span.text if span.text.isupper() else span.text[:1].lower() + span.text[1:]
    prep = TurnRewriter._preposition_before(text, span)
    if prep:
        return f"{prep.lower()} {words}"
    if re.match(r"(?:over|under|above|below|aged|younger|older than)\b", words, re.I):
        return words
    return f"in {words}"


def _drug_group(text: str, drugs: list[Span], *, modifiers: bool = False) -> Span:
    """The first drug mention with the ones joined to it ("amoxicillin-clavulanate", "A and B") and,
    with `modifiers`, the words that qualify it ("plain amoxicillin")."""
    start, end = drugs[0].start, drugs[0].end
    for nxt in drugs[1:]:
        if _DRUG_JOINER.match(text[end : nxt.start]):
            end = nxt.end
        else:
            break
    if modifiers:
        before = _words(text[:start])
        while before and before[-1].text.lower() in _DRUG_MODIFIERS and not text[before[-1].end : start].strip():
            start = before.pop().start
    return Span(start, end, text[start:end])


def _drug_phrase(text: str, mentions: list) -> str:
    """The drugs as the message names them: joined as written when adjacent, else by "and"."""
    spans = [Span(m.start, m.end, m.surface) for m in mentions]
    group = _drug_group(text, spans)
    if group.end == spans[-1].end:
        return group.text
    return " and ".join(m.surface for m in mentions)


def _insert_before_population(text: str, insert: str) -> str:
    """`insert` put before the text's first population phrase (with its preposition), else at the end."""
    if not insert:
        return text
    spans = population_spans(text)
    if not spans:
        return f"{text} {insert}"
    at = spans[0][0].start
    prep = TurnRewriter._preposition_before(text, spans[0][0])
    if prep:
        at -= len(prep) + 1
    return f"{text[:at].rstrip()} {insert} {text[at:]}"


def message_or(body: str, parts: Parts) -> str:
    """A fragment with nothing to replace: asked about the previous subject ("and why?")."""
    subject = parts.subject
    return _sentence(f"{body} about {subject}") if subject else _sentence(body)


def _first_line(reply: str) -> str:
    for line in reply.splitlines():
        line = re.sub(r"^\s*(?:standalone question\s*:\s*)", "", line, flags=re.I).strip().strip("\"'`").strip()
        if line:
            return line
    return ""


class LlmRewriter:
    """Rewrites follow-ups with the configured chat model and the versioned prompt `rewrite@1`.

    >>> rewriter = LlmRewriter(settings.llm, fallback=TurnRewriter(oracle.index))  # doctest: +SKIP
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
    rules = TurnRewriter(statistics)
    if settings.answer.generator == "llm":
        return LlmRewriter(settings.llm, fallback=rules)
    return rules


# The earlier name of the rule-based rewriter (issue 7's subject-carrying rules), kept for callers.
SubjectCarryRewriter = TurnRewriter
