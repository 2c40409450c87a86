"""The root of every error a user can act on.

Each package defines its own specific exceptions (``PlateTextError``, ``ImageError``,
``ConfigError``...) as subclasses of :class:`PlatewatchError`; the command line prints
their message without a traceback, and the HTTP API turns them into 4xx answers.
"""


class PlatewatchError(Exception):
    """An error caused by input or setup that the user can fix; the message says how."""
