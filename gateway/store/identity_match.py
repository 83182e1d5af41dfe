"""Multiple-identity detection: whether two person records may be the same person, with the
criteria they share and a score. Pure functions over stored properties; no database.

Names are compared token by token with the folding, transliteration skeletons and one-edit
tolerance of ``gateway.cypher.names`` (the keys screening uses), so Mohammed/Muhammad,
Sergey/Serguei and a one-letter typo all meet. A record's primary name, its spelling
variants and its aliases are all forms of its name; the best pair of forms counts.

The score adds the weights of the criteria met (at most 1). A pair becomes a candidate link
at ``THRESHOLD``: a name and the date of birth, or a travel document and one more criterion.
A family name and a date of birth alone do not reach it: in a large register common names
share birth dates by chance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.cypher.names import deletions, skeleton, tokens
from graph_schema.model import IdentityCriterion as C

THRESHOLD = 0.70
MAX_NAME_FORMS = 12  # primary name, variants, aliases: a bounded comparison

W_FAMILY = 0.30
W_GIVEN = 0.20
W_SWAPPED = 0.9  # of the direct weights: a swap is a little less telling than the right order
W_SCRIPT = 0.10
W_BIRTH = 0.35
W_BIRTH_NEAR = 0.15
W_DOCUMENT = 0.45
P_SEX = 0.25  # recorded as male on one record and female on the other

EXACT, PHONETIC, TYPO = 1.0, 0.9, 0.8


@dataclass(frozen=True)
class Match:
    criteria: tuple[C, ...]
    score: float

    @property
    def candidate(self) -> bool:
        return self.score >= THRESHOLD


def token_similarity(a: str, b: str) -> float:
    """1 for the same folded token, 0.9 for the same transliteration skeleton, 0.8 for one
    edit (a letter missing, added, changed, or two neighbours swapped), else 0."""
    if a == b:
        return EXACT
    sa, sb = skeleton(a), skeleton(b)
    if sa is not None and sa == sb:
        return PHONETIC
    da, db = set(deletions(a)), set(deletions(b))
    if a in db or b in da or (da & db):
        return TYPO
    return 0.0


# Particles of family names: "de Vries" and "de Jong" share "de", not a name.
PARTICLES = frozenset(
    [
        "al",
        "el",
        "de",
        "da",
        "das",
        "del",
        "della",
        "der",
        "den",
        "di",
        "do",
        "dos",
        "du",
        "la",
        "le",
        "van",
        "von",
        "bin",
        "ibn",
        "abu",
        "ben",
        "ter",
        "ten",
        "y",
    ]
)


def _significant(words: Sequence[str]) -> list[str]:
    kept = [w for w in words if w not in PARTICLES]
    return kept or list(words)


def words_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """How well two names meet: the joined forms (de Jong, Dejong), or else each significant
    word of the shorter name against its best match in the other, averaged."""
    if not a or not b:
        return 0.0
    joined = token_similarity("".join(a), "".join(b))
    left, right = _significant(a), _significant(b)
    if len(left) > len(right):
        left, right = right, left
    words = sum(max(token_similarity(x, y) for y in right) for x in left) / len(left)
    return max(joined, words)


Form = tuple[tuple[str, ...], tuple[str, ...], float]  # (given tokens, family tokens, weight)
ALIAS_WEIGHT = 0.6  # an alias is another name the person used: a weaker tie than a spelling


def name_forms(person: Mapping[str, Any]) -> list[Form]:
    """The record's names as (given, family) token pairs with the weight of a match through
    them: the primary name and its spelling variants in full, aliases less. The last word
    of a variant or alias is taken for the family name."""
    given, family = person.get("givenNames") or "", person.get("familyName") or ""
    forms: list[Form] = [(tuple(tokens(given)), tuple(tokens(family)), 1.0)]
    others = [(v, 1.0) for v in person.get("nameVariants") or []]
    others += [(a, ALIAS_WEIGHT) for a in person.get("aliases") or []]
    for full, weight in others:
        words = tokens(full)
        if len(words) >= 2:
            forms.append((tuple(words[:-1]), (words[-1],), weight))
    seen: dict[tuple[tuple[str, ...], tuple[str, ...]], Form] = {}
    for form in forms:  # the first, heaviest weight of each name
        if form[1] and form[:2] not in seen:
            seen[form[:2]] = form
    return list(seen.values())[:MAX_NAME_FORMS]


def _level(similarity: float, exact: C, variant: C) -> C | None:
    return exact if similarity >= EXACT else variant if similarity > 0 else None


def _names(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, list[C]]:
    best: tuple[float, list[C]] = (0.0, [])
    for given_a, family_a, weight_a in name_forms(a):
        for given_b, family_b, weight_b in name_forms(b):
            weight = min(weight_a, weight_b)
            family, given = words_similarity(family_a, family_b), words_similarity(given_a, given_b)
            direct = weight * (W_FAMILY * family + W_GIVEN * given)
            swapped_family = words_similarity(family_a, given_b)
            swapped_given = words_similarity(given_a, family_b)
            # Which record holds the name in the right order is unknown: both halves alike.
            swapped = weight * W_SWAPPED * (W_FAMILY + W_GIVEN) / 2 * (swapped_family + swapped_given)
            if swapped > direct and swapped_family and swapped_given:
                if swapped > best[0]:
                    best = (swapped, [C.NAMES_SWAPPED])
            elif direct > best[0] and family:
                found = [_level(family, C.FAMILY_NAME_EXACT, C.FAMILY_NAME_VARIANT)]
                found.append(_level(given, C.GIVEN_NAMES_EXACT, C.GIVEN_NAMES_VARIANT))
                best = (direct, [c for c in found if c is not None])
    return best


def _native(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return value.to_native()  # type: ignore[no-any-return]  # a neo4j.time.Date


def birth_near(a: date, b: date) -> bool:
    """Day and month swapped, or exactly one of year, month and day differs."""
    if (a.day, a.month) == (b.month, b.day) and a.year == b.year:
        return True
    return sum((a.year != b.year, a.month != b.month, a.day != b.day)) == 1


def _documents(values: Iterable[str] | None) -> set[str]:
    return {"".join(ch for ch in v.upper() if ch.isalnum()) for v in values or () if v}


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> Match:
    """The criteria two records share and their score. Each mapping holds a person's stored
    properties and ``documents``, the numbers of the travel documents it holds."""
    score, criteria = _names(a, b)
    script_a, script_b = a.get("nameOriginalScript"), b.get("nameOriginalScript")
    if script_a and script_b and tokens(script_a) and sorted(tokens(script_a)) == sorted(tokens(script_b)):
        score += W_SCRIPT
        criteria.append(C.ORIGINAL_SCRIPT)
    born_a, born_b = _native(a.get("dateOfBirth")), _native(b.get("dateOfBirth"))
    if born_a is not None and born_b is not None:
        if born_a == born_b:
            score += W_BIRTH
            criteria.append(C.DATE_OF_BIRTH)
        elif birth_near(born_a, born_b):
            score += W_BIRTH_NEAR
            criteria.append(C.DATE_OF_BIRTH_NEAR)
    if {a.get("sex"), b.get("sex")} == {"M", "F"}:
        score -= P_SEX  # a conflict, not a criterion: the records disagree
    if _documents(a.get("documents")) & _documents(b.get("documents")):
        score += W_DOCUMENT
        criteria.append(C.TRAVEL_DOCUMENT)
    return Match(tuple(criteria), round(min(max(score, 0.0), 1.0), 3))


def best(person: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> list[tuple[str, Match]]:
    """Every candidate among ``others`` (each with its ``id``), best first, ties by id. Never
    cut to the best N: hidden records would then push visible ones out, and whether a
    visible pair is linked would reveal that hidden records exist (R17). Each pair is
    decided on its own."""
    found = [(o["id"], m) for o in others if o["id"] != person["id"] and (m := compare(person, o)).candidate]
    found.sort(key=lambda x: (-x[1].score, x[0]))
    return found
