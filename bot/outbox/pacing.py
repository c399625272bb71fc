"""Per-channel pacing of ``chat.postMessage``: about one post a second to each channel.

Slack allows roughly one message per second per channel and answers a burst with 429s. Instead
of sleeping, the worker remembers when each channel may be posted to again and asks storage
only for rows whose channel is free (``busy_channels``), so one busy or throttled channel never
holds up the others. Times are monotonic seconds: pacing must not follow the injectable clock,
which tests and the sandbox move forward.

Only the worker thread touches a pacer, so it needs no lock.
"""

from __future__ import annotations

import time


class ChannelPacer:
    """When each channel may next be posted to."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next_post: dict[str, float] = {}  # channel -> monotonic time it may post again

    def busy(self, mono: float) -> dict[str, float]:
        """Channels that may not be posted to at ``mono``, with the seconds left for each."""
        busy = {c: t - mono for c, t in self._next_post.items() if t > mono}
        if len(self._next_post) > 2 * len(busy) + 100:  # forget channels long quiet
            self._next_post = {c: mono + w for c, w in busy.items()}
        return busy

    def posting(self, channel: str) -> None:
        """A post to ``channel`` is about to go out: the next waits ``interval`` seconds."""
        self.hold(channel, self.interval)

    def hold(self, channel: str, seconds: float) -> None:
        """Keep ``channel`` free of posts for ``seconds`` (Slack's ``Retry-After``)."""
        self._next_post[channel] = time.monotonic() + seconds
