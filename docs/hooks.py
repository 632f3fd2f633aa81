"""MkDocs hook: Sphinx cross-reference roles in docstrings become links.

tabgan's docstrings name other objects the Sphinx way (:class:`tabgan.Metadata`,
:meth:`sample`). mkdocstrings renders them as the role's name followed by code; this
hook turns each into an mkdocs-autorefs reference, which becomes a link where the
target is documented on the site and stays plain code where it is not.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:class|meth|func|data|attr|mod|exc|obj):<code>~?\.?([\w.]+)(\(\))?</code>")


def _autoref(match: re.Match) -> str:
    identifier = match.group(1)
    return f'<autoref identifier="{identifier}" optional><code>{identifier}</code></autoref>'


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub(_autoref, html)
