"""Kubernetes-safe names: DNS labels (RFC 1123) of at most 63 characters, stable across machines.

Kubernetes object names, Argo template and task names and label values all have to be short, lower
case and made of ``[a-z0-9-]``. A name that has to be changed to fit (case folded, characters
replaced, shortened) gets a short hash of the *original* text as a suffix, so two different inputs
never end up with the same name and the same input always gives the same name.
See https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["DNS_LABEL_MAX", "dns_label", "is_dns_subdomain", "label_value", "stable_hash"]

#: RFC 1123 label length limit (Kubernetes names, label values).
DNS_LABEL_MAX = 63
_HASH_LENGTH = 8
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def stable_hash(text: str, length: int = _HASH_LENGTH) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text`` (same on every machine)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def is_dns_subdomain(name: str) -> bool:
    """True if ``name`` is a valid RFC 1123 subdomain (Secret and most object names), <= 253 chars."""
    return len(name) <= 253 and bool(_DNS_SUBDOMAIN.match(name))


def dns_label(*parts: str, max_length: int = DNS_LABEL_MAX) -> str:
    """A DNS label made of ``parts`` joined by ``-``.

    Lower-casing, underscores and dots need no marking (``MyFlow`` -> ``myflow``, ``join_cols`` ->
    ``join-cols``: the mapping users expect; callers that may see two names differing only so must
    check for collisions). Any other change (other characters, shortening) appends ``-<hash>`` of
    the original text so the result stays unique.

    Args:
        parts: name fragments, e.g. ``("myproject", "user.alice", "MyFlow")``.
        max_length: the limit (63 for labels; 52 for CronWorkflow names, which Argo suffixes).

    Returns:
        A valid DNS label of at most ``max_length`` characters.
    """
    original = "-".join(parts)
    simple = original.replace("_", "-").replace(".", "-").lower()
    cleaned = re.sub(r"[^a-z0-9-]+", "-", simple)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-") or "x"
    if cleaned == simple and len(cleaned) <= max_length and _DNS_LABEL.match(cleaned):
        return cleaned
    suffix = stable_hash(original)
    keep = max(1, max_length - len(suffix) - 1)
    return f"{cleaned[:keep].rstrip('-') or 'x'}-{suffix}"


def label_value(text: str) -> str:
    """A valid Kubernetes label value for ``text`` (<= 63 chars of ``[A-Za-z0-9-_.]``), hashed if changed."""
    if _LABEL_VALUE.match(text) and len(text) <= DNS_LABEL_MAX:
        return text
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.") or "x"
    suffix = stable_hash(text)
    return f"{cleaned[: DNS_LABEL_MAX - len(suffix) - 1].rstrip('-_.') or 'x'}-{suffix}"
