"""The one base class of the errors newstag raises for a person to read.

Library code raises a subclass whose message says what went wrong and how to fix it; the
command line turns any of them into one line on stderr and exit status 1, the service into a
JSON error. Nothing else needs to know the subclasses.
"""

from __future__ import annotations


class NewstagError(Exception):
    """Something a user or operator can fix: a bad file, a damaged model, a refused setting."""
