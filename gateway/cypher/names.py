# ruff: noqa: RUF001  (the folding tables hold non-Latin letters on purpose)
"""Name normalisation and match keys: the one definition that the seed loader, the
migration's backfill, the person write hook and screening (R10, R11) share.

A person's names (family, given, aliases, spelling variants, original script) become a set
of keys stored as one space-separated string, ``Person.nameKeys``, behind a full-text index
with the whitespace analyser (migration 6). Each key is an exact Lucene term, so a look-up is
exhaustive: every person holding a key is returned, whatever else the index holds (no top-k,
no fuzzy expansion limit). Keys per name token:

- the token itself, folded: lower case, diacritics and Arabic/Greek letter forms normalised;
- ``p_<skeleton>``: a transliteration skeleton (vowel runs as one ``a``, ``w`` as ``v``, ``kh``
  as ``h`` …), so that Mohammed/Muhammad/Mohamed or Sergey/Sergei/Serguei meet;
- ``d_<token minus one letter>``: one-deletion keys (the SymSpell scheme), so that one typo —
  a letter missing, added, changed or two swapped — still meets the stored token;
- the joined form of a multi-word name (de Jong → dejong), and each Han character alone;
- ``b_<yyyymmdd>`` (or ``b_none``): the date of birth, so name plus date is one index look-up.

Also here: ``lucene_query`` for the persons ``name`` filter (the ``person_names`` index),
with the same input caps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from gateway.errors import Code, GatewayError

MAX_NAME_CHARS = 200
MAX_NAME_WORDS = 8
MAX_DOCUMENT_CHARS = 40
# One-deletion keys only for tokens of these lengths: shorter ones would meet half the
# index, longer ones are rare and would make the query long.
DELETES_MIN, DELETES_MAX = 4, 16
PHONETIC_MIN = 4
MAX_CLAUSES = 512  # below Lucene's 1,024; the caps above keep a query far under it

_TOKEN = re.compile(r"[^\W_]+")
_WORDS = re.compile(r"[\s,]+")
_FOLD = str.maketrans({
    "ł": "l", "ø": "o", "ß": "ss", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th",
    "ð": "d", "ŀ": "l", "ħ": "h",
    # Arabic: hamza carriers and final forms as the bare letter, so spellings meet.
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي", "ـ": "",
    "ς": "σ",  # Greek final sigma
})  # fmt: skip
_SKELETON = (
    ("tsch", "ch"), ("sch", "sh"), ("tch", "ch"), ("dzh", "j"), ("zh", "j"), ("kh", "h"),
    ("ph", "f"), ("th", "t"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("w", "v"), ("y", "i"),
    ("j", "i"),
)  # fmt: skip
_VOWELS = re.compile(r"[aeiou]+")
_DOUBLE = re.compile(r"(.)\1+")
_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')


def bad_input(field: str, problem: str) -> GatewayError:
    return GatewayError(Code.BAD_USER_INPUT, f"{field}: {problem}", field=field)


def checked_name(text: str, field: str) -> str:
    """A name as typed, within the caps of DECISIONS item 7, or BAD_USER_INPUT naming the field."""
    if len(text) > MAX_NAME_CHARS:
        raise bad_input(field, f"is longer than {MAX_NAME_CHARS} characters")
    if len([w for w in _WORDS.split(text) if w]) > MAX_NAME_WORDS:
        raise bad_input(field, f"has more than {MAX_NAME_WORDS} words")
    return text


def checked_document(text: str, field: str = "documentNumber") -> str:
    if len(text) > MAX_DOCUMENT_CHARS:
        raise bad_input(field, f"is longer than {MAX_DOCUMENT_CHARS} characters")
    return text.strip()


def tokens(text: str) -> list[str]:
    """The words of a name, folded: lower case, no diacritics, letter forms normalised."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _TOKEN.findall(unicodedata.normalize("NFC", bare).translate(_FOLD))


def skeleton(token: str) -> str | None:
    """A transliteration skeleton of a Latin token, or None (other scripts, short tokens)."""
    if len(token) < PHONETIC_MIN or not token.isascii() or not token.isalpha():
        return None
    s = token
    for old, new in _SKELETON:
        s = s.replace(old, new)
    s = s[0] + s[1:].replace("h", "") if s else s  # h after a letter is a transliteration mark
    return _VOWELS.sub("a", _DOUBLE.sub(r"\1", s))


def deletions(token: str) -> list[str]:
    if not DELETES_MIN <= len(token) <= DELETES_MAX:
        return []
    return list(dict.fromkeys(token[:i] + token[i + 1 :] for i in range(len(token))))


def _token_keys(token: str) -> list[str]:
    keys = [token]
    if (s := skeleton(token)) is not None:
        keys.append(f"p_{s}")
    keys += [f"d_{d}" for d in deletions(token)]
    keys += _HAN.findall(token) if len(token) > 1 else []
    return keys


def _name_keys(name: str, joined: bool = False) -> list[str]:
    words = tokens(name)
    keys = [k for w in words for k in _token_keys(w)]
    if joined and len(words) > 1:  # de Jong is also typed Dejong
        keys += _token_keys("".join(words))
    return keys


def birth_key(born: date | None) -> str:
    return f"b_{born:%Y%m%d}" if born is not None else "b_none"


def name_keys(person: Mapping[str, Any]) -> str:
    """The ``nameKeys`` of a person's properties (as stored: camelCase names)."""
    names: list[str] = [person.get("familyName") or "", person.get("givenNames") or "",
                        person.get("nameOriginalScript") or ""]  # fmt: skip
    names += list(person.get("aliases") or []) + list(person.get("nameVariants") or [])
    born = person.get("dateOfBirth")
    if born is not None and not isinstance(born, date):
        born = born.to_native()  # a neo4j.time.Date read back from the graph
    keys = dict.fromkeys([*_name_keys(names[0], joined=True), *(k for n in names[1:] for k in _name_keys(n))])
    return " ".join([*keys, birth_key(born)])


# --- Queries over nameKeys ----------------------------------------------------------------


def _term(key: str) -> str:
    return _LUCENE_SPECIAL.sub(r"\\\1", key)


def query_terms(token: str) -> list[str]:
    """The keys a typed token may meet: itself and its skeleton; a stored one-deletion key
    equal to it (a letter missing); its own deletions as stored tokens (a letter added) and
    as stored deletions (a letter changed, two swapped)."""
    terms = [token]
    if DELETES_MIN <= len(token) + 1 <= DELETES_MAX:
        terms.append(f"d_{token}")
    if (s := skeleton(token)) is not None:
        terms.append(f"p_{s}")
    for d in deletions(token):
        terms += [d, f"d_{d}"]
    return list(dict.fromkeys(terms))


def keys_query(family_name: str, born: date | None = None) -> str:
    """The Lucene query over ``nameKeys``: every word of the family name (or their joined
    form) must meet a key, and the date of birth when given. Only exact terms: exhaustive."""
    words = tokens(family_name)
    if not words:
        raise bad_input("familyName", "needs at least one letter")
    groups = [" ".join(_term(t) for t in query_terms(w)) for w in words]
    clause = f"({groups[0]})" if len(groups) == 1 else "(" + " ".join(f"+({g})" for g in groups) + ")"
    if len(words) > 1:
        joined = " ".join(_term(t) for t in query_terms("".join(words)))
        clause = f"({clause} {joined})"
    query = f"+{clause}"
    if born is not None:
        query += f" +({birth_key(born)} b_none)"
    if query.count(" ") + 1 > MAX_CLAUSES:
        raise bad_input("familyName", "makes too long a search")
    return query


def rank_keys(*names: str | None) -> tuple[list[str], list[str]]:
    """(exact tokens, skeleton keys) of the typed names, for ranking the matches."""
    words = [w for n in names if n for w in tokens(n)]
    exact = list(dict.fromkeys(words))
    phon = list(dict.fromkeys(f"p_{s}" for w in words if (s := skeleton(w)) is not None))
    return exact, phon


# --- The persons name filter (the person_names full-text index) ---------------------------


def lucene_query(
    text: str, required: bool = False, fields: Sequence[str] | None = None, field: str = "filter.name"
) -> str:
    """Name tokens as a tolerant Lucene query: exact or within two edits, special characters
    escaped so that user input is always a term, never query syntax. Capped like every name
    (DECISIONS item 7): a long word would hold Neo4j building its edit automaton."""
    checked_name(text, field)
    # Lower case, so that AND, OR and NOT are words to match, never operators.
    words = [_term(t.lower()) for t in _WORDS.split(text.strip()) if t]
    if not words:
        raise bad_input(field, "a name needs at least one letter")
    prefix = "+" if required else ""

    def term(t: str) -> str:
        return f"({t} OR {t}~{1 if len(t) < 6 else 2})" if 3 < len(t) <= 40 else t

    if fields:  # only the name fields the caller may see (R13, R17)
        query = " ".join(f"{prefix}(" + " OR ".join(f"{f}:{term(t)}" for f in fields) + ")" for t in words)
    else:
        query = " ".join(f"{prefix}{term(t)}" for t in words)
    if 2 * len(words) * max(1, len(fields or ())) > MAX_CLAUSES:
        raise bad_input(field, "makes too long a search")
    return query
