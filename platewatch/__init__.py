"""platewatch: live licence-plate search and watchlist service."""

__version__ = "0.1.0"
