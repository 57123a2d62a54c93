"""A provider plugin whose import fails, as one with a missing dependency does."""

from __future__ import annotations

import llmctl_missing_dependency  # noqa: F401  # the point: no such module is installed

handler = None
