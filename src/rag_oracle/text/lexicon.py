"""Offline clinical vocabulary: which drugs and which populations a text names.

Drugs come from the dictionary shipped inside `drug-named-entity-recognition` (DrugBank, MeSH and
Wikipedia names, synonyms and brands, resolved to one canonical name; no download, no model):
"Zoloft" and "sertraline" are one drug; "benzodiazepines" and "SSRIs" are drug classes it also
knows. Populations are a small lexicon of the words guidelines use for them.

Every function here is deterministic and memoised: the answer builder asks about the same
sentences many times per question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag_oracle.text.drugs import find_drugs

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\u2019][a-z]+)?")
# Words the drug dictionary reads as drugs but which, in clinical prose, are something else.
_NOT_DRUGS = frozenset({"oxygen", "water", "sodium", "potassium", "calcium", "iron", "alcohol", "salt", "glucose"})


@dataclass(frozen=True)
class Mention:
    """A drug named in a text: canonical name (lower case), as written, and where."""

    name: str
    surface: str
    start: int
    end: int


_TREES: dict[str, tuple[str, ...]] = {}  # canonical name -> MeSH tree numbers, filled as drugs are found


def _ensure_tree(name: str) -> None:
    """Look a name up in the dictionary (filling its MeSH tree) if no text has named it yet, so
    class answers do not depend on what was read before."""
    if name not in _TREES:
        found = find_drugs(_WORD.findall(name))
        _TREES[name] = next((tree for found_name, tree, _, _ in found if found_name == name), ())


# A name's tree is fixed once looked up (neither function below replaces one), so both are memoised.
@lru_cache(maxsize=8192)
def is_class(name: str) -> bool:
    """Whether a canonical name is a drug class rather than one drug: one of CLASS_MEMBERS (SSRIs,
    anticoagulants, "factor Xa inhibitors"), a pharmacologic-action heading in MeSH (D27), or a
    chemical class named in the plural (benzodiazepines, penicillins)."""
    if name in CLASS_MEMBERS:
        return True
    _ensure_tree(name)
    tree = _TREES.get(name, ())
    if tree and all(t[:3] == "D27" for t in tree):
        return True
    return name.endswith(
        ("ines", "ins", "ides", "ones", "oles", "agents", "inhibitors", "ants", "ics", "s")
    ) and not name.endswith("ss")


# Members of the pharmacologic classes clinical text names most, by the canonical names above. MeSH
# files these classes under "pharmacologic action" (D27), which the dictionary's drug entries do
# not carry, so membership cannot be read from the tree; chemical classes (benzodiazepines,
# penicillins, fluoroquinolones) can be, and are not listed here.
_SSRI = {"sertraline", "escitalopram", "citalopram", "fluoxetine", "paroxetine", "fluvoxamine"}
_SNRI = {"venlafaxine", "duloxetine", "desvenlafaxine"}
_DOAC = {"apixaban", "rivaroxaban", "edoxaban", "dabigatran"}
CLASS_MEMBERS: dict[str, frozenset[str]] = {
    "selective serotonin reuptake inhibitors": frozenset(_SSRI),
    "serotonin and noradrenaline reuptake inhibitors": frozenset(_SNRI),
    "antidepressive agents": frozenset(
        _SSRI | _SNRI | {"bupropion", "mirtazapine", "amitriptyline", "nortriptyline", "trazodone"}
    ),
    "factor xa": frozenset({"apixaban", "rivaroxaban", "edoxaban"}),
    "direct oral anticoagulants": frozenset(_DOAC),
    "factor xa inhibitors": frozenset({"apixaban", "rivaroxaban", "edoxaban"}),
    "anticoagulants": frozenset(_DOAC | {"warfarin", "heparin", "enoxaparin", "dalteparin", "fondaparinux"}),
    "hydroxymethylglutaryl-coa reductase inhibitors": frozenset(
        {"atorvastatin", "rosuvastatin", "simvastatin", "pravastatin", "lovastatin", "fluvastatin", "pitavastatin"}
    ),
    "anti-bacterial agents": frozenset(
        {
            "amoxicillin",
            "clavulanic acid",
            "doxycycline",
            "levofloxacin",
            "moxifloxacin",
            "azithromycin",
            "clarithromycin",
            "cefuroxime",
            "cefpodoxime",
            "cefdinir",
        }
    ),
}


@lru_cache(maxsize=16384)
def member_of(drug: str, cls: str) -> bool | None:
    """Whether `drug` belongs to the class `cls`: from CLASS_MEMBERS, else by MeSH tree (a chemical
    class); None when neither can tell."""
    if cls in CLASS_MEMBERS:
        return drug in CLASS_MEMBERS[cls]
    _ensure_tree(drug)
    _ensure_tree(cls)
    drug_tree, class_tree = _TREES.get(drug, ()), _TREES.get(cls, ())
    if not class_tree or not drug_tree or all(t[:3] == "D27" for t in class_tree):
        return None
    return any(d.startswith(c + ".") for c in class_tree for d in drug_tree)


# Class names the dictionary splits into a wrong single drug ("selective serotonin reuptake
# inhibitors" read as serotonin), matched first; canonical names as in CLASS_MEMBERS.
_CLASS_PHRASES = [
    (
        re.compile(r"\bselective serotonin reuptake inhibitors?\b|\bSSRIs?\b", re.I),
        "selective serotonin reuptake inhibitors",
    ),
    (
        re.compile(
            r"\bserotonin[- ](?:and )?(?:nor)?(?:epinephrine|adrenaline) reuptake inhibitors?\b|\bSNRIs?\b", re.I
        ),
        "serotonin and noradrenaline reuptake inhibitors",
    ),
    (re.compile(r"\bfactor Xa inhibitors?\b", re.I), "factor xa inhibitors"),
    (re.compile(r"\bdirect oral anticoagulants?\b|\bDOACs?\b", re.I), "direct oral anticoagulants"),
]


@lru_cache(maxsize=8192)
def drug_mentions(text: str) -> tuple[Mention, ...]:
    """Every drug (or drug class) named in `text`, in order."""
    words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return ()
    phrases = [Mention(name, m.group(0), m.start(), m.end()) for p, name in _CLASS_PHRASES for m in p.finditer(text)]
    found = find_drugs([w for w, _, _ in words])
    out = list(phrases)
    for name, tree, first, last in found:
        if not name or name in _NOT_DRUGS:
            continue
        _TREES.setdefault(name, tree)
        start, end = words[first][1], words[last - 1][2]
        if any(p.start <= start < p.end for p in phrases):
            continue  # inside a class phrase matched above
        out.append(Mention(name, text[start:end], start, end))
    return tuple(sorted(out, key=lambda m: m.start))


def drugs_in(text: str) -> frozenset[str]:
    """Canonical names of the drugs `text` names."""
    return frozenset(m.name for m in drug_mentions(text))


POPULATIONS: dict[str, re.Pattern] = {
    "children": re.compile(
        r"\b(?:child(?!-pugh)|children|childhood|paediatric|pediatric|infants?|neonat\w*|newborns?|adolescents?|kids?|"
        r"toddlers?|bab(?:y|ies)|teen(?:ager)?s?|"
        r"(?:aged|under|below|younger than|up to) (?:1[0-7]|[1-9]) years|"
        r"(?:1[0-7]|[1-9])[- ](?:years?|months?|weeks?)[- ]old|[1-9]\d?[- ](?:months?|weeks?|days?)[- ]old)\b",
        re.I,
    ),
    "older adults": re.compile(
        r"\b(?:older (?:adults?|people|patients|persons|or debilitated)|elderly|geriatric|frail|debilitated|"
        r"aged (?:65|70|75|80)(?: years)?(?: and| or)? (?:older|over)|(?:over|above) (?:60|65|70|75|80)|"
        r"(?:65|70|75|80) years (?:and|or) (?:older|over)|aged (?:65|70|75|80)|age (?:65|70|75|80) years or older|"
        r"(?:6[5-9]|[7-9]\d|1[01]\d)[- ]years?[- ]old)\b",
        re.I,
    ),
    "adults": re.compile(
        r"\b(?:adults?|adulthood|aged 18|18 to 64|18-64|under 65|younger than 65|below 65)\b",
        re.I,
    ),
    "pregnancy": re.compile(r"\b(?:pregnan\w*|breastfe\w*|lactat\w*|trimester|postpartum)\b", re.I),
    "renal": re.compile(
        r"\b(?:renal|kidney|creatinine clearance|crcl|egfr|h?a?emodialysis|dialysis)\b",
        re.I,
    ),
    "hepatic": re.compile(r"\b(?:hepatic|liver|cirrhosis|child-pugh)\b", re.I),
}
AGE_GROUPS = ("children", "adults", "older adults")
SPECIAL = ("pregnancy", "renal", "hepatic")
_OLDER_SPLIT = re.compile(r"\b(?:younger|18 to 64|18-64|under 65|below 65)\b", re.I)


@lru_cache(maxsize=8192)
def populations_in(text: str) -> frozenset[str]:
    """The populations `text` names. "Older adults" (or "adults aged 70") is not also "adults" unless
    younger adults are named too ("18 to 64", "under 65")."""
    found = {name for name, pattern in POPULATIONS.items() if pattern.search(text)}
    if "older adults" in found and not _OLDER_SPLIT.search(text):
        found.discard("adults")  # "adults aged 70 to 89" are older adults, not adults in general
    return frozenset(found)


# A condition or example clause names a criterion, not the population a statement is about:
# "reduce to 2.5 mg if the patient has two of: age 80 years or older, ..." is not about older adults.
_CRITERIA = re.compile(r"\b(?:if|unless|when|whether|such as|including|for example|e\.g\.)\b[^;]*", re.I)


_PARENTHESIS = re.compile(r"\([^()]*\)")


def stated_populations(text: str) -> frozenset[str]:
    """The populations a statement is *about*: those it names outside condition and example clauses,
    and outside parentheses ("Treat for 10 to 14 days in children (adults usually 5 to 7 days)" is
    about children); a population named only in a parenthesis ("argatroban (preferred in renal
    impairment)") is the statement's when it names no other."""
    plain = _CRITERIA.sub(" ", text)
    return populations_in(_PARENTHESIS.sub(" ", plain)) or populations_in(plain)


def contradicts(asked: frozenset[str] | set[str], stated: frozenset[str] | set[str]) -> bool:
    """Whether a statement about `stated` populations contradicts a question about `asked`.

    A question naming no population, or only a special one (renal, hepatic, pregnancy), is about
    adults: a statement solely about children contradicts it. A statement naming the question's population never does. Between age groups,
    a statement only about another group contradicts (adults for an older-adults question); between
    special populations (pregnancy, renal, hepatic), a statement only about another one does.
    """
    if not stated:
        return False
    if not asked:
        return "children" in stated and not stated & {"adults", "older adults"}
    if asked & stated:
        return False
    # A question naming only a special population ("in renal impairment") is about adults.
    asked_age = asked & set(AGE_GROUPS) or {"adults", "older adults"}
    stated_age = stated & set(AGE_GROUPS)
    if stated_age and not asked_age & stated_age:
        return True
    asked_special, stated_special = asked & set(SPECIAL), stated & set(SPECIAL)
    return bool(asked_special and stated_special)


_BOUND = re.compile(
    r"(?P<lo>\d+(?:\.\d+)?)\s*(?:to|-|–)\s*(?P<hi>\d+(?:\.\d+)?)\s*ml/min"
    r"|(?P<below>below|under|less than|<)\s*(?P<b>\d+(?:\.\d+)?)\s*ml/min"
    r"|(?P<a>\d+(?:\.\d+)?)\s*ml/min\s*(?:or (?:more|higher|above)|and above)"
    r"|(?P<above>above|over|more than|>|at least)\s*(?P<c>\d+(?:\.\d+)?)\s*ml/min",
    re.I,
)


def clearance_ranges(text: str) -> list[tuple[float, float]]:
    """Creatinine clearance ranges a text states, as [low, high) in mL/min: "30 to 49 mL/min" ->
    (30, 50); "below 30 mL/min" -> (0, 30); "50 mL/min or more" -> (50, inf)."""
    out = []
    for m in _BOUND.finditer(text):
        if m.group("lo"):
            out.append((float(m.group("lo")), float(m.group("hi")) + 1))
        elif m.group("below"):
            out.append((0.0, float(m.group("b"))))
        elif m.group("a"):
            out.append((float(m.group("a")), float("inf")))
        else:
            out.append((float(m.group("c")), float("inf")))
    return out
