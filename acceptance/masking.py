"""Secrets seen by this run, and their masking in everything the run prints or writes."""

MASK = "*****"
_known: set[str] = set()


def remember(*values: str) -> None:
    """Register secrets so that `mask` hides them; short values are ignored (too many false hits)."""
    _known.update(value for value in values if value and len(value) >= 6)


def mask(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
