"""The call guard: deadlines and the watchdog that spares quick answers a timer of their own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from llmctl.exceptions import Timeout
from llmctl.proxy.guard import WATCH_AFTER, CallGuard


async def _never_disconnects() -> dict[str, Any]:
    await asyncio.Event().wait()
    return {"type": "http.disconnect"}


async def _answer(value: str, delay: float = 0.0) -> str:
    await asyncio.sleep(delay)
    return value


def test_a_quick_answer_arms_no_timer_of_its_own() -> None:
    async def main() -> None:
        guard = CallGuard(_never_disconnects, "m")
        assert await guard.wait(_answer("ok"), 600.0) == "ok"
        assert guard._timer is None and guard._watcher is None
        guard.close()

    asyncio.run(main())


def test_a_long_wait_gets_its_own_timer_and_the_disconnect_watch() -> None:
    async def main() -> None:
        guard = CallGuard(_never_disconnects, "m")
        assert await guard.wait(_answer("late", 2.5 * WATCH_AFTER), 600.0) == "late"
        assert guard._timer is not None and guard._watcher is not None
        guard.close()

    asyncio.run(main())


@pytest.mark.parametrize("timeout", [0.06, 0.3], ids=["own-timer", "watchdog"])
def test_the_deadline_holds_whoever_times_it(timeout: float) -> None:
    async def main() -> float:
        guard = CallGuard(_never_disconnects, "m")
        start = time.monotonic()
        try:
            with pytest.raises(Timeout, match="did not answer within"):
                await guard.wait(_answer("never", 10), timeout)
        finally:
            guard.close()
        return time.monotonic() - start

    elapsed = asyncio.run(main())
    assert timeout <= elapsed < timeout + 0.2


def test_the_watchdog_lets_go_of_guards_not_waiting() -> None:
    async def main() -> None:
        guard = CallGuard(_never_disconnects, "m")
        await guard.wait(_answer("ok"), 600.0)  # never closed
        await asyncio.sleep(2.5 * WATCH_AFTER)
        assert guard._watchdog is None and guard._timer is None

    asyncio.run(main())
