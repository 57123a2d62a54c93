"""Counts, targets and names shared by the plugin benchmark's runner and worker."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Final

#: Entry point group a provider plugin declares (issue 4).
GROUP: Final = "litellm.providers"

#: Installed provider plugins in the baseline venv and in the crowded one.
FEW: Final = 1
MANY: Final = 50

#: The provider every timed call goes to; both venvs have it.
PROVIDER: Final = "p0"
MODEL: Final = f"{PROVIDER}/m"

#: The dispatch overhead with ``MANY`` providers may be at most this times the ``FEW`` one.
DISPATCH_TARGET: Final = 1.10

#: ``llmctl providers list`` and ``llmctl --help`` must take under this share of the wall time
#: of ``litellm --help`` (whole processes).
PROCESS_TARGET: Final = 0.05


@dataclass(frozen=True)
class PluginBenchConfig:
    """How much work each round does."""

    #: Interleaved rounds; each runs every whole-process command and one worker per venv.
    rounds: int = 9
    #: Whole-process timings of each command per round.
    process_repeats: int = 2
    #: ``completion`` (and as many ``acompletion``) calls timed per worker.
    calls: int = 30_000
    #: Library and floor batches, alternated; a worker reports the fastest of each.
    batches: int = 30
    #: Untimed calls of each kind before timing, so lazy imports and caches are warm.
    warmup_calls: int = 300
    #: The bare handler call is cheap and noisy, so its batches are this many times larger.
    floor_factor: int = 10

    def to_json(self) -> str:
        """Serialize for the worker command line."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PluginBenchConfig:
        """Inverse of :meth:`to_json`."""
        return cls(**json.loads(text))

    def scaled(self, factor: int) -> PluginBenchConfig:
        """Return this configuration with the timed call count multiplied by ``factor``."""
        return dataclasses.replace(self, calls=self.calls * factor)


#: The default run: a couple of minutes, most of it ``litellm --help``.
FULL: Final = PluginBenchConfig()

#: ``--quick``: checks that everything works, in well under a minute once the venvs exist.
#: Three rounds, not two: a median of three survives one round hit by a noisy neighbour.
QUICK: Final = PluginBenchConfig(
    rounds=3, process_repeats=1, calls=3_000, batches=10, warmup_calls=50, floor_factor=10
)
