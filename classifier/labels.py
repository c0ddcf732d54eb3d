"""The default cooperation-area label set, display names and alias normalisation."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from coopclf.errors import InvalidInput

DEFAULT_LABELS: tuple[str, ...] = (
    "counterterrorism",
    "human_trafficking",
    "narcotics",
    "trade",
    "information_technology",
    "tourism",
)

DISPLAY_NAMES: dict[str, str] = {
    "counterterrorism": "Counterterrorism",
    "human_trafficking": "Human trafficking",
    "narcotics": "Narcotics",
    "trade": "Trade and investment",
    "information_technology": "Information technology",
    "tourism": "Tourism",
}

# Names that labelled data in the wild uses for the default labels (compared case-insensitively).
ALIASES: dict[str, str] = {
    "ct": "counterterrorism",
    "terrorism": "counterterrorism",
    "counter-terrorism": "counterterrorism",
    "trafficking": "human_trafficking",
    "anti-human trafficking": "human_trafficking",
    "human smuggling": "human_trafficking",
    "drugs": "narcotics",
    "anti-narcotics": "narcotics",
    "counter-narcotics": "narcotics",
    "commerce": "trade",
    "investment": "trade",
    "trade and investment": "trade",
    "it": "information_technology",
    "ict": "information_technology",
    "information technology": "information_technology",
    "tech": "information_technology",
    "digital": "information_technology",
    "travel": "tourism",
}


def display_name(label: str) -> str:
    """Human-readable name of a label id, for tables and the web page."""
    return DISPLAY_NAMES.get(label, label.replace("_", " ").capitalize())


def _key(raw: str) -> str:
    return " ".join(raw.strip().lower().split())


def normalise_label(raw: str, known: Sequence[str] = DEFAULT_LABELS) -> str:
    """Map a raw label (an id, an alias, any case) to a label id of `known`, or raise InvalidInput."""
    key = _key(raw)
    by_key = {_key(label): label for label in known}
    if key in by_key:
        return by_key[key]
    if key.replace(" ", "_") in by_key:
        return by_key[key.replace(" ", "_")]
    alias = ALIASES.get(key)
    if alias in known:
        return alias
    hint = suggest_label(raw, known)
    message = f"unknown label {raw.strip()!r}"
    if hint:
        message += f" (did you mean {hint!r}?)"
    raise InvalidInput(message + f"; known labels: {', '.join(known)}")


def suggest_label(raw: str, known: Sequence[str] = DEFAULT_LABELS) -> str | None:
    """The known label (or alias target) closest in spelling to `raw`, if any is close."""
    candidates = {label: label for label in known}
    candidates.update({alias: target for alias, target in ALIASES.items() if target in known})
    match = difflib.get_close_matches(_key(raw), list(candidates), n=1, cutoff=0.6)
    return candidates[match[0]] if match else None


def normalise_labels(raws: Iterable[str], known: Sequence[str] = DEFAULT_LABELS) -> frozenset[str]:
    """Normalise several raw labels at once; blanks are ignored."""
    return frozenset(normalise_label(raw, known) for raw in raws if raw.strip())
