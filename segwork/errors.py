"""The errors segwork raises on purpose, under one base class.

``except segwork.SegworkError`` catches every refusal segwork explains (bad data, a report that
cannot run, a command-line mistake) and nothing else.  Each subclass lives with the code that
raises it and adds what its caller needs:

- :class:`segwork.DataContractError` (also a ``ValueError``): a table breaks the data contract;
  it names the table, column, rule, number of rows and the first five rows;
- ``segwork.report.ReportError``: a scheduled report cannot run; ``cause`` and ``hint``;
- the command line's own error, printed as one line with a hint.
"""

from __future__ import annotations

__all__ = ["SegworkError"]


class SegworkError(Exception):
    """Base class of the errors segwork raises to say why it refuses (never a bug's traceback).

    Examples
    --------
    >>> import segwork
    >>> issubclass(segwork.DataContractError, segwork.SegworkError)
    True
    """
