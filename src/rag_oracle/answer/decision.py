"""A yes / no / maybe verdict for yes-no questions, given only when the answer's own statements decide it.

No model. Each sentence of the direct answer is read for its polarity *relative to the question*
(`polarity`):

1. Sentences that state no finding carry none: aims ("To assess whether ..."), methods ("...
   were randomized", unless they also report a test's result), hypotheses, questions, earlier
   work and definitions ("It has been suggested ...", "X is the most frequent complication of Y").
2. Parentheses are left out (abbreviations, counts and group labels) except for a p value;
   concessions are dropped ("Although X, Y" asserts Y); contrasted clauses (";", "but",
   "whereas", "while") are cut apart and the clause sharing most content words with the question
   is read. A sentence sharing none does not answer it.
3. The clause's stance. A negation that applies to its predicate (the next few words: "did not
   increase", "no significant difference", "not recommended", "not needed", "failed to"), a word
   that denies it ("avoid", "contraindicated", "unnecessary", "no benefit", "ineffective" as the
   predicate, not as a modifier) or a p value above 0.05 makes it "no", whatever else it says.
   Otherwise a stated finding ("recommended", "effective", "improved", "reduced", "associated
   with", "should be used", "higher than", "p < 0.01") makes it "yes", and a hedge ("unclear",
   "inconclusive", "a trend towards", "may or may not") "maybe". A negated negative word is
   positive ("not contraindicated"); a negated harm ("no complications") is a finding of safety
   unless the question asks about a harm, and a harm the clause states ("increases the risk of
   falls") answers a question whether something is safe "no". "No difference" ("similar", "as clear as") denies a
   question asking for a difference or an effect, and affirms one asking whether something
   suffices or works.
4. Relative to the question: a question whose own predicate is negative ("Is X contraindicated
   in Y?", "Is X unnecessary?") or that asks whether things are alike ("Are they the same?") turns
   the stance over, and so does a clause that moves what the question asks about the other way
   ("Does X reduce Y?" answered "X increased Y").

`decide` gives a verdict only when the direct answer's polar sentences agree: none carrying a
polarity, or a "yes" beside a "no", gives no verdict (None), as does an abstained answer; a
hedge among them makes it "maybe". So the verdict is never the opposite of the lead sentence.
A verdict is withdrawn when a conclusion-like sentence elsewhere in the answer ("In conclusion,
...", "These results suggest ...") says the opposite; other sections cannot give a verdict.

Measured on PubMedQA dev, 500 questions (benchmarks/decision_replay.py; a question without a
verdict counts as wrong): on the extractive generator's answers, whose leads are mostly the
abstracts' aims and methods, the rule decides 41% and is right on 60% of those (macro-F1 0.22,
the majority class's 0.24); with the abstract's own conclusion in the lead it decides 68% and is
right on 81% of those (macro-F1 0.50). It reads a verdict well where the lead states one; how
often the lead does is the generator's part.
"""

from __future__ import annotations

import re
from typing import Literal

from rag_oracle.text.analyzer import content_terms
from rag_oracle.types import Answer

Verdict = Literal["yes", "no", "maybe"]

_AUXILIARY = r"\s*(?:is|are|was|were|does|do|did|can|could|should|would|will|has|have|had|may|might|must)\b"
_YES_NO_START = re.compile(_AUXILIARY, re.I)  # used with .match: at the start, or at a given position

# A title-style lead-in before the question proper: "Biliary atresia: should all patients ...?",
# "Metered-dose inhalers. Do health care providers know what to teach?"
_LEAD_IN = re.compile(r"(?:^|[:;?]\s+|\.\s+|\s[-\u2013\u2014]\s+)")


def is_yes_no_question(question: str) -> bool:
    """Whether the question (or its last clause, after a title-style lead-in) asks yes or no.

    >>> is_yes_no_question("Is clonazepam approved for depression?")
    True
    >>> is_yes_no_question("Biliary atresia: should all patients undergo a portoenterostomy?")
    True
    >>> is_yes_no_question("What is the dose of clonazepam?")
    False
    """
    if _YES_NO_START.match(question):
        return True
    text = question.strip()
    if not text.endswith("?"):
        return False
    return any(_YES_NO_START.match(text, m.end()) for m in _LEAD_IN.finditer(text) if m.end() > 0)


# --- what carries no finding ----------------------------------------------------------------------

_NOT_A_FINDING = re.compile(
    r"^\s*(?:to|in order to)\s+\w+"  # "To assess ..."
    r"|\bwhether\b|\?\s*$|^\s*if\b"
    r"|\b(?:aims?|aimed|purpose|objectives?|goals?|hypothes[ie]s|hypothesi[sz]ed)\b"
    r"|\b(?:we|this (?:study|paper|report|trial|review)|the (?:present |current )?study|our study)\s+"
    r"(?:\w+\s+){0,2}?(?:investigat|examin|evaluat|assess|sought|compar|analy[sz]|review|measur|determin|"
    r"test|explor|describ|report|present|design|undert|conduct|perform|studied|enrolled|recruited)\w*"
    # earlier work and the state of knowledge before the study
    r"|\b(?:has|have) been (?:\w+ly )?(?:reported|suggested|proposed|described|thought|advocated|"
    r"debated|questioned|claimed|hypothesi[sz]ed|speculated)\b"
    r"|\b(?:is|are) (?:widely |generally |often |commonly |still )?(?:thought|believed|advocated|"
    r"claimed|characteri[sz]ed by|embracing)\b"
    r"|\b(?:previous|prior|recent|earlier|several|many|some|few) (?:studies|reports|investigators|authors|trials)\b"
    r"|\b(?:little|less|nothing|much) is known\b|\bis (?:unknown|not known)\b|\bcontrovers\w*|\bdebate\w*"
    r"|\bpoorly understood\b|\bnot (?:well |fully |yet )?(?:understood|known|established|clarified|elucidated)\b"
    # definitions: "X is the most frequent complication of Y", "the leading cause of", "the standard test"
    r"|\b(?:is|are|was|were|remains?) (?:currently |still )?(?:the|a|an|one of the) (?:most (?:common|frequent|"
    r"threatening|serious|prevalent|widely)|leading|main|commonest|(?:gold )?standard|well[- ]known)\b",
    re.I,
)
# What was done, not what was found (unless the same sentence reports a test's result).
_METHOD = re.compile(
    r"\b(?:was|were) (?:\w+ly )?(?:randomi[sz]ed|enrolled|recruited|reviewed|surveyed|interviewed|administered|"
    r"allocated|assigned|divided|collected|abstracted|compared|obtained|recorded|measured|examined|calculated|"
    r"studied|evaluated|assessed|analy[sz]ed|investigated|tested|selected|included|excluded|followed|"
    r"monitored|documented|classified|estimated|performed|used|treated|retrieved|identified|given|taken)\b"
    r"|\b(?:included|includes|consisted of|comprised|constituted|underwent)\b",
    re.I,
)
# A method-looking sentence that reports a test's result is a finding all the same.
_STATISTIC = re.compile(r"\bsignifican\w*|\bp\s*[<>=≤≥]|\b(?:no|not) (?:\w+ ){0,2}differ", re.I)

# --- clauses --------------------------------------------------------------------------------------

_PARENTHESIS = re.compile(r"\s*\([^()]*\)|\s*\[[^\[\]]*\]")
# A concessive clause is not what the sentence asserts: "Although X is not new, it works" asserts
# that it works. Dropped when it opens the sentence (up to its comma) or closes it.
_CONCESSIVE_OPENING = re.compile(
    r"^\s*(?:although|though|even though|while|whilst|despite|in spite of|notwithstanding|whereas)\b[^,]*,\s*", re.I
)
_CONCESSIVE_TAIL = re.compile(r",?\s+\b(?:although|though|even though|despite|in spite of)\b.*$", re.I)
# Contrasted clauses are both asserted; the one about what the question asks is read.
_CONTRAST = re.compile(r";|,?\s+\b(?:but|whereas|however|yet|except|while)\b,?", re.I)

# --- the stance of a clause -----------------------------------------------------------------------

# Negations and the words they apply to (the next few words, up to punctuation or a conjunction).
_NEGATOR = re.compile(
    r"\b(?:did not|does not|do not|was not|were not|is not|are not|has not|have not|had not|could not|"
    r"can not|cannot|should not|must not|will not|would not|not|no|never|neither|nor|none|nothing|unlikely|"
    r"failed to|fails? to|unable to|lack(?:ed|s|ing)? (?:of )?|absence of|absent|without)\b|n't\b",
    re.I,
)
_NOT_NEGATION = re.compile(
    r"\b(?:not only|whether or not|if not|no\.|not least|no doubt|no longer than|no more than|no less than|"
    r"no later than|not withstanding|notwithstanding|with or without|no matter)\b",
    re.I,
)
_SCOPE_WORDS = 5
_SCOPE_END = re.compile(r"[,;:()]|\b(?:and|or|but|than|because|since|when|which|who|whereas)\b", re.I)

# Words that themselves deny a predicate: negative without a negator ("avoid", "unnecessary").
_NEGATIVE_WORD = re.compile(
    r"\b(?:avoid\w*|contraindicat\w*|unnecessar\w*|needless\w*|ineffective\w*|inefficient|useless|unhelpful|"
    r"inappropriate\w*|unreliabl\w*|inaccura\w*|insensitive|unrelated|unaffected|unchanged|unsafe|insufficient\w*|"
    r"inadequate\w*|unjustified|unwarranted|harmful|detrimental|discourag\w*|abandon\w*|omit\w*|obsolete|"
    r"preclud\w*|premature|erroneous\w*|incorrect\w*|wrong\w*|unaware|fail(?:ed|s|ure)? to|waste|"
    r"independent(?:ly)? of|regardless of|irrespective of|non-?significant\w*|insignificant|"
    r"(?:little|limited|low|minimal|small|modest|minor|poor|weak) (?:or no )?(?:\w+ )?(?:evidence|benefit|effect|"
    r"impact|value|yield|role|use|difference|change|influence|association|correlation|advantage|contribution|"
    r"knowledge|awareness|agreement|accuracy|sensitivity|specificity|predictive|performance|reliability|"
    r"concordance|validity|understanding|efficacy|need)\w*)\b",
    re.I,
)
# Adjectives that deny only as the predicate ("X is unsafe"), not as a modifier ("unsafe sex",
# "ineffective treatment" in a sentence about something else).
_PREDICATE_ONLY = re.compile(
    r"(?:ineffective|inefficient|useless|unhelpful|inappropriate|unreliabl|inaccura|insensitive|unsafe|insufficient|"
    r"inadequate|unjustified|unwarranted|harmful|detrimental|premature|erroneous|incorrect|wrong|unnecessar|needless)",
    re.I,
)
# In a question the predicate adjective ends it or is followed by a preposition ("Is X harmful for Y?"),
# unlike a modifier ("in premature birth"); qualifiers ("independently of") deny nothing there.
_QUESTION_PREDICATE_END = re.compile(
    r"\s*(?:[?.]|$|(?:for|in|to|among|during|after|before|when|with|at|as|on|if|than)\b)", re.I
)
_QUALIFIER = re.compile(r"independent(?:ly)? of|regardless of|irrespective of", re.I)
_PREDICATE_POSITION = re.compile(
    r"\b(?:is|are|was|were|be|been|being|seems?|seemed|appears?|appeared|remains?|remained|proved|proven|deemed|"
    r"considered|found)\s+(?:\w+ly\s+)?(?:to be\s+)?$",
    re.I,
)
# "No difference": negative, like the words above, and the answer to a question asking whether
# things are alike; so a question asking that is read the other way round (see _reversed_question).
_ALIKE = re.compile(
    r"\b(?:similar\w*|comparable|equivalent\w*|identical\w*|equal(?:ly)?|same|as \w+ as|concordan\w*)\b", re.I
)
_ASKS_ALIKE = re.compile(
    r"\b(?:similar\w*|comparable|equivalent\w*|identical|equal\w*|same|as (?:\w+ ){1,2}as|non-?inferior\w*|"
    r"interchangeabl\w*)\b",
    re.I,
)

# Questions asking for a difference or an effect, which "no difference" denies; a question asking
# whether something suffices, is safe or works is answered "yes" by "as good as" (see _alike_reading).
_ASKS_DIFFERENCE = re.compile(
    r"\b(?:differ\w*|affect\w*|influenc\w*|chang\w*|improv\w*|increas\w*|reduc\w*|decreas\w*|impact\w*|"
    r"effects?|better|worse|more|less|superior|advantage\w*|benefit\w*|associat\w*|relat\w*|predict\w*|"
    r"depend\w*|risk factors?|lead to|cause|higher|lower)\b",
    re.I,
)

# Harms: a negated harm ("no complications") is a finding of safety, unless the question asks about one.
_HARM = re.compile(
    r"\b(?:complications?|adverse|side[- ]effects?|toxicit\w*|deaths?|died|mortality|morbidity|recurren\w*|"
    r"relapse\w*|harm\w*|injur\w*|infections?|leak\w*|bleeding|haemorrhage|hemorrhage|failures?|damag\w*|"
    r"risks?|problems?|difficult\w*|pain|impair\w*|deficit\w*|falls?|fractures?|delirium|sedation|dependence|"
    r"overdose|respiratory depression)\b",
    re.I,
)
# A question whether something is needed at all ("Do I need antibiotics?", "Should I give ...?").
_ASKS_NEED = re.compile(
    r"\b(?:need|needs|needed|necessary|required|should (?:i|we|you) (?:give|use|start|prescribe))\b", re.I
)
# A question whether something is safe: a harm the clause states (not denies) answers it "no".
_ASKS_SAFE = re.compile(r"\b(?:safe|safely|safety|well[- ]tolerated|tolerable)\b", re.I)

# A stated finding.
_POSITIVE_WORD = re.compile(
    r"\b(?:recommend\w*|effective\w*|efficac\w*|improv\w*|reduc\w*|decreas\w*|increas\w*|benefi\w*|useful|helpful|"
    r"valuable|reliabl\w*|accura\w*|sensitiv\w*|specific|valid\w*|safe|safely|feasib\w*|possible|viable|"
    r"successful\w*|able to|justified|warranted|appropriate|adequate\w*|sufficient|preferr\w*|promising|"
    r"necessary|needed|required|essential|important|indispensable|mandatory|good|preserv\w*|restor\w*|maintain\w*|"
    r"achiev\w*|"
    r"associat\w*|correlat\w*|predict\w*|relat(?:ed|ionship)|linked|influenc\w*|affect(?:s|ed)?|contribut\w*|"
    r"impact\w*|differ\w*|depend(?:s|ed|ing)? on|significant\w*|detect\w*|caus(?:e|es|ed|ing)|"
    r"resulted in|led to|leads? to|protect\w*|prevent\w*|indicated|should be|can be|risk factors?|"
    r"elevat\w*|rais\w*|enhanc\w*|promot\w*|facilitat\w*|(?:odds|hazard|risk) ratio|(?-i:OR|RR|HR))\b",
    re.I,
)
# Comparatives state a finding when they compare ("higher than", "was lower", "more likely"), not
# when they name something ("lower limb", "higher dose").
_COMPARATIVE = re.compile(
    r"\b(?:higher|lower|greater|more|less|fewer|longer|shorter|better|worse|poorer|superior|inferior|"
    r"heavier|larger|smaller|faster|slower)\b",
    re.I,
)
_COMPARING_BEFORE = re.compile(
    r"\b(?:significantly|substantially|markedly|was|were|is|are|be|been|had|have|has|showed|much|far)\s+$", re.I
)
_COMPARING_AFTER = re.compile(
    r"^(?:\s+\S+){0,8}?\s+(?:than|compared|versus|vs\b|relative to)|^\s+(?:likely|frequent\w*|often|common\w*)", re.I
)
# A statistic: significant (positive) or not (negative).
_P_SIGNIFICANT = re.compile(r"\bp\s*(?:<|≤|<=)\s*0?\.0[0-5]\d*|\bp\s*=\s*0?\.0(?:[0-4]\d*|50*)\b", re.I)
_P_NOT_SIGNIFICANT = re.compile(r"\bp\s*(?:>|≥|>=)\s*0?\.0[5-9]|\bp\s*=\s*0?\.(?:[1-9]\d*|0[5-9]\d*)\b|\bn\.?s\.?\b")

# The evidence is unsettled. The phrases with a negation are read before negations are.
_HEDGE_PHRASE = re.compile(
    r"\b(?:not clear|not necessarily|may or may not|did not reach|does not reach|not always|not conclusive)\b", re.I
)
_HEDGE = re.compile(
    r"\b(?:unclear|uncertain\w*|inconclusive|conflicting|equivocal|remains? to be|trend\w*|tend(?:s|ed)?|tendency|"
    r"marginal\w*|borderline|inconsistent\w*)\b",
    re.I,
)

# The direction of a change, for questions that ask for one ("Does X reduce Y?").
_UP = re.compile(
    r"\b(?:increas\w*|higher|more|greater|elevat\w*|rais\w*|enhanc\w*|worsen\w*|promot\w*|prolong\w*)\b", re.I
)
_DOWN = re.compile(
    r"\b(?:reduc\w*|decreas\w*|lower\w*|less|fewer|declin\w*|diminish\w*|shorten\w*|attenuat\w*|prevent\w*)\b", re.I
)
_OBJECT_WORDS = 4

_CONCLUSION = re.compile(
    r"^\s*(?:in conclusion|in summary|overall|taken together|we conclude|our (?:results|findings|data)|"
    r"(?:these|the|our) (?:results|findings|data) (?:suggest|indicate|show|demonstrate|support|confirm)|"
    r"this study (?:shows|showed|demonstrates|demonstrated|suggests|indicates|confirms))",
    re.I,
)


def _parenthesis(m: re.Match[str]) -> str:
    """A parenthesis is left out (abbreviations, counts, group labels: "no" in "(No: 16%)" is a label),
    except for what it says of significance."""
    if _P_SIGNIFICANT.search(m.group(0)):
        return " with p < 0.05"
    if _P_NOT_SIGNIFICANT.search(m.group(0)):
        return " with p = 0.5"
    return ""


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[\w'-]+", text)]


def _scope(clause: str, end: int) -> str:
    """The words a negation ending at `end` applies to: the next few, up to punctuation or a conjunction."""
    rest = clause[end:]
    stop = _SCOPE_END.search(rest)
    if stop is not None:
        rest = rest[: stop.start()]
    words = _word_spans(rest)[:_SCOPE_WORDS]
    return rest[: words[-1][1]] if words else ""


def _negations(clause: str) -> list[tuple[int, int, str]]:
    """(start, end, scope text) of each negation in the clause."""
    ignored = [m.span() for m in _NOT_NEGATION.finditer(clause)]
    found: list[tuple[int, int, str]] = []
    for m in _NEGATOR.finditer(clause):
        if any(a <= m.start() < b for a, b in ignored) or any(a <= m.start() < b for a, b, _ in found):
            continue
        scope = _scope(clause, m.end())
        found.append((m.start(), m.end() + len(scope), scope))
    return found


def _comparisons(text: str) -> int:
    return sum(
        bool(_COMPARING_BEFORE.search(text[: m.start()]) or _COMPARING_AFTER.search(text[m.end() :]))
        for m in _COMPARATIVE.finditer(text)
    )


def _stance(clause: str, question: str) -> Verdict | None:
    """Whether the clause states its predicate ("yes"), denies it ("no") or hedges it ("maybe");
    None when it does neither. A negation that applies to the predicate decides."""
    if _HEDGE_PHRASE.search(clause):
        return "maybe"
    asks_harm = bool(_HARM.search(question))
    negative = positive = 0
    negations = _negations(clause)
    for start, _, scope in negations:
        without = clause[start:].lower().startswith("without")
        if without and not _HARM.search(scope):
            if _ASKS_NEED.search(question) and (content_terms(scope) & (content_terms(question) - _PREDICATE_TERMS)):
                negative += 1  # "Do I need antibiotics?" - "watchful waiting without immediate antibiotics is ..."
            continue  # "with and without diabetes", "without first adding saline": not a denial of the predicate
        head = scope[: _word_spans(scope)[1][1]] if len(_word_spans(scope)) > 1 else scope
        if _NEGATIVE_WORD.search(head) or _ALIKE.search(head):
            positive += 1  # "not contraindicated", "did not fail to", "not similar" (different)
        elif _HARM.search(scope) and not asks_harm and not _POSITIVE_WORD.search(scope):
            positive += 1  # "no complications": safe
        else:
            negative += 1
    rest = clause
    for a, b, _ in sorted(negations, reverse=True):
        rest = rest[:a] + " " * (b - a) + rest[b:]
    if _HEDGE.search(rest):
        return "maybe"
    negative += _negative_words(rest)
    alike = len(_ALIKE.findall(rest))
    if _alike_reading(question) == "no":
        negative += alike
    elif not _ASKS_NEED.search(question):
        # (whether something is needed is not answered by two regimens of it being alike:
        # "a 5-day course is as effective as a 10-day course")
        positive += alike
    if _P_NOT_SIGNIFICANT.search(clause) and not _P_SIGNIFICANT.search(clause):
        negative += 1
    if negative:
        return "no"
    if _ASKS_SAFE.search(question) and not asks_harm and not positive and _HARM.search(rest):
        return "no"  # "Is clonazepam safe in the elderly?" - "it increases the risk of falls"
    positive += len(_POSITIVE_WORD.findall(rest)) + _comparisons(rest) + bool(_P_SIGNIFICANT.search(clause))
    if not positive:
        return None
    return "no" if _opposite_direction(rest, question) else "yes"


def _negative_words(text: str) -> int:
    """Words in `text` that deny a predicate; the adjectives among them only as the predicate."""
    return sum(
        not _PREDICATE_ONLY.match(m.group(0)) or bool(_PREDICATE_POSITION.search(text[: m.start()]))
        for m in _NEGATIVE_WORD.finditer(text)
    )


def _alike_reading(question: str) -> Verdict:
    """How "no difference" ("similar", "as clear as") reads for this question before any reversal:
    a denial ("no") for a question asking whether things differ or whether something has an effect,
    and for one asking whether they are alike (which `_reversed_question` turns round); an
    affirmation ("yes") for one asking whether something suffices, is safe or works."""
    return "no" if _ASKS_ALIKE.search(question) or _ASKS_DIFFERENCE.search(question) else "yes"


def _directions(text: str) -> dict[str, set[str]]:
    """The content words changed upwards and downwards in `text` ("reduced mortality": down {mortal})."""
    moved: dict[str, set[str]] = {"up": set(), "down": set()}
    for way, pattern in (("up", _UP), ("down", _DOWN)):
        for m in pattern.finditer(text):
            after = text[m.end() :]
            words = _word_spans(after)[:_OBJECT_WORDS]
            moved[way] |= content_terms(after[: words[-1][1]]) if words else set()
    return moved


def _opposite_direction(clause: str, question: str) -> bool:
    """Whether the clause moves what the question asks about the other way ("Does X reduce Y?": "X increased Y")."""
    asked, stated = _directions(question), _directions(clause)
    return bool((asked["up"] & stated["down"]) - stated["up"]) or bool((asked["down"] & stated["up"]) - stated["down"])


def _reversed_question(question: str) -> bool:
    """Whether a "yes" to the question is a denial in the answer's words: its own predicate is negative
    ("Is X contraindicated?", "Is X not needed?") or it asks whether things are alike ("Are they the same?")."""
    # Only the main clause counts: in "Are patients aware of when they do not understand?" the negation is not asked.
    text = re.split(
        r"\b(?:when|if|whether|that|who|which|because|although|unless)\b", _NOT_NEGATION.sub(" ", question)
    )[0]
    negated = bool(re.search(r"\b(?:not|no|never|cannot)\b|n't\b", text, re.I))
    denying = any(
        not _QUALIFIER.fullmatch(m.group(0))
        and (not _PREDICATE_ONLY.match(m.group(0)) or _QUESTION_PREDICATE_END.match(text[m.end() :]))
        for m in _NEGATIVE_WORD.finditer(text)
    )
    return (negated != denying) != bool(_ASKS_ALIKE.search(text))


def _flip(verdict: Verdict) -> Verdict:
    return {"yes": "no", "no": "yes", "maybe": "maybe"}[verdict]  # type: ignore[return-value]


def _clauses(sentence: str) -> list[str]:
    """The clauses the sentence asserts (concessions dropped), each at least two words long."""
    main = _CONCESSIVE_TAIL.sub("", _CONCESSIVE_OPENING.sub("", sentence))
    parts = [p.strip() for p in _CONTRAST.split(main)]
    return [p for p in parts if len(_word_spans(p)) >= 2]


def polarity(sentence: str, question: str) -> Verdict | None:
    """How `sentence` answers the yes/no `question`: "yes", "no", "maybe", or None when it states
    no finding on what the question asks.

    >>> polarity("Warfarin is contraindicated in pregnancy.", "Is warfarin contraindicated in pregnancy?")
    'yes'
    >>> polarity("Do not start warfarin until the platelet count has recovered.",
    ...          "Should warfarin be started before the platelet count recovers?")
    'no'
    >>> polarity("Heparin bridging did not reduce stroke.", "Is heparin bridging needed?")
    'no'
    >>> polarity("Statins increased the risk of diabetes.", "Do statins increase the risk of diabetes?")
    'yes'
    >>> polarity("Statins did not increase the risk of diabetes.", "Do statins increase the risk of diabetes?")
    'no'
    >>> polarity("To assess whether statins increase the risk of diabetes.", "Do statins increase diabetes?") is None
    True
    """
    if _NOT_A_FINDING.search(sentence) or (_METHOD.search(sentence) and not _STATISTIC.search(sentence)):
        return None
    # What the question is about, without the predicate it asks of it: "Urgent referral is needed for
    # ..." shares only "needed" with "Is amoxicillin needed ...?" and does not answer it.
    asked = content_terms(question) - _PREDICATE_TERMS or content_terms(question)
    best, best_overlap = None, 0
    sentence = _PARENTHESIS.sub(_parenthesis, sentence)
    for clause in _clauses(sentence):
        overlap = len(asked & content_terms(clause))
        if overlap > best_overlap:
            best, best_overlap = clause, overlap
    if best is None:
        return None
    stance = _stance(best, question)
    if stance is None:
        return None
    return _flip(stance) if _reversed_question(question) else stance


def decide(question: str, answer: Answer) -> Verdict | None:
    """The answer's verdict on a yes/no question, or None when its direct answer does not decide it.

    None when the answer abstained or when the direct answer's sentences disagree (a "yes" beside a
    "no"); "maybe" when one of them is hedged; None also when a conclusion-like sentence elsewhere in
    the answer says the opposite of the verdict. When no sentence of the direct answer carries a
    polarity, the other sections decide, if their polarities agree (None when they disagree or
    carry none).
    """
    if answer.abstained or not answer.sections:
        return None
    direct = [s.text for section in answer.sections if section.kind == "direct" for s in section.sentences]
    found = {p for p in (polarity(s, question) for s in direct) if p is not None}
    if {"yes", "no"} <= found:
        return None
    if not found:
        # The lead states no finding (a study's setting, say): the answer's other statements decide
        # it when they agree with one another; the verdict can then contradict no lead sentence.
        rest = [s.text for section in answer.sections if section.kind != "direct" for s in section.sentences]
        votes = [p for p in (polarity(s, question) for s in rest) if p is not None]
        if not votes or ("yes" in votes and "no" in votes):
            return None
        return "maybe" if "maybe" in votes else votes[0]
    # A hedge beside a "yes" (or a "no") makes the verdict "maybe": hedged, never the opposite of the lead.
    verdict: Verdict = "maybe" if "maybe" in found else ("yes" if "yes" in found else "no")
    others = [
        s.text
        for section in answer.sections
        if section.kind != "direct"
        for s in section.sentences
        if _CONCLUSION.search(s.text)
    ]
    opposite = _flip(verdict)
    if verdict != "maybe" and any(polarity(s, question) == opposite for s in others):
        return None
    return verdict


_PREDICATE_TERMS = frozenset(
    content_terms(
        "needed need needs necessary required require requires recommended recommend safe safely indicated "
        "contraindicated effective appropriate useful beneficial should"
    )
)


# The predicate a yes/no question asks about, as a badge would word it, most specific first, and
# the words with which a statement speaks to it ("not needed", "unnecessary"; "avoid" for safety).
_PREDICATES = [
    (re.compile(r"\bcontraindicated\b", re.I), "contraindicated", re.compile(r"\bcontraindicat\w*", re.I)),
    (re.compile(r"\brecommended\b|\brecommend\b", re.I), "recommended", re.compile(r"\brecommend\w*", re.I)),
    (
        re.compile(r"\b(?:needed|necessary|required|need|needs|require|requires)\b", re.I),
        "needed",
        re.compile(r"\b(?:need\w*|necessary|unnecessary|required?|requires)\b", re.I),
    ),
    (re.compile(r"\bsafe(?:ly)?\b", re.I), "safe", re.compile(r"\b(?:safe\w*|unsafe|avoid\w*)\b", re.I)),
    (re.compile(r"\bindicated\b", re.I), "indicated", re.compile(r"\bindicat\w*", re.I)),
    (
        re.compile(r"\b(?:effective|work|works|help|helps|beneficial|benefit)\b", re.I),
        "effective",
        re.compile(r"\b(?:effective|ineffective|benefit\w*|beneficial)\b", re.I),
    ),
]


def verdict_label(question: str, verdict: Verdict | None, answer: Answer | None = None) -> str:
    """The badge for a decided yes/no question, in the question's own terms: "Is amoxicillin needed
    ...?" decided "no" is "Not needed"; "Is X contraindicated ...?" decided "yes" is
    "Contraindicated". Empty (no badge) for no verdict or "maybe", for a question whose predicate
    is none of these, and, given the answer, unless a sentence of its direct answer speaks to the
    predicate in those words ("is not needed", "unnecessary", "avoid"): a badge says only what the
    lead says, never what a rule read into it."""
    if verdict not in ("yes", "no"):
        return ""
    for pattern, word, evidence in _PREDICATES:
        if found := pattern.search(question):
            if answer is not None:
                direct = [s.text for sec in answer.sections if sec.kind == "direct" for s in sec.sentences]
                if not any(evidence.search(text) for text in direct):
                    return ""
            # "Is X not needed?" answered yes is "Not needed"
            before = question[: found.start()]
            negated = bool(re.search(r"\b(?:not|never)\s+(?:\w+\s+)?$|n't\s+(?:\w+\s+){0,2}$", before))
            positive = (verdict == "yes") != negated
            return word.capitalize() if positive else f"Not {word}"
    return ""
