"""Views kept beside the figures they are views of (`flsdb.kept.Kept`, at the ground floor so
that the KPI and disclosure layers keep their own bounded answers the same way)."""

from __future__ import annotations

from flsdb.kept import Kept

__all__ = ["Kept"]
