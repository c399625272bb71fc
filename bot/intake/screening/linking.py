"""One issue, one card: link a report to the open card of the same issue from another platform.

A resident tweets a broken fence, posts it on Reddit and files a 311 request: three cards in
three channels would be answered three times, or by nobody because each looks like someone
else's. Before a mention gets a card of its own, ingest asks :meth:`Linking.find` whether it
is another report of an open card's issue:

1. **By 311 id.** A text naming a stored 311 request ("case 101003262787", a link to it)
   joins the card that request is on. A 311 request arriving after posts that named its id
   joins the earliest of them.
2. **By place and wording.** Otherwise, within ``window_hours``, a report from another
   platform than the one it is compared with joins an open card when both are at the same
   place (the same street or configured place name, with no clashing house numbers; or, when
   both have coordinates, within ``radius_m``, and then only the coordinates decide) *and*
   share at least ``min_shared_words`` content words besides the place, which are at least
   ``min_overlap`` of the shorter text's words. Two 311 requests never join each other (the
   city gave them two ids), nor does a text that names one 311 id join a card that has
   another.

A card is compared through every report already linked to it, so a Reddit post can join a
Mastodon post's card through the 311 request linked there. Only open cards (new or claimed)
take links: a report of an issue that was answered or closed gets a card of its own.

The linked mention is stored with status ``folded`` and ``folded_into`` the root, like a
near-duplicate (so it is never nudged, and counts as received but not as open or answered:
the root's answer is its answer), plus ``extra["linked_into"]``; the root's card lists every
source. The rules here are deliberately strict: a missed link costs a second card, a wrong
one hides a citizen's report.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.config.service import LinkingConfig
from bot.intake.screening.linking_text import Features, Gazetteer, distance_m, features
from storage.intake import linking as stored
from storage.intake.linking import Ref
from storage.models import OPEN_STATUSES, Mention

LINKED_INTO = stored.LINKED_INTO
CACHE_SIZE = 4096
BY_REFERENCE = "311 request named"
BY_PLACE = "same place and wording"


@dataclass(frozen=True)
class Link:
    root: int  # the mention whose card shows this one
    matched: int  # the mention it was found through (the root or one linked to it)
    how: str  # BY_REFERENCE or BY_PLACE
    score: float = 1.0


def same_place(a: Features, b: Features, *, radius_m: float) -> bool:
    if a.point is not None and b.point is not None:
        return distance_m(a.point, b.point) <= radius_m
    for place in a.places & b.places:
        here, there = a.numbers.get(place), b.numbers.get(place)
        if not (here and there and here.isdisjoint(there)):
            return True
    return False


def wording(a: Features, b: Features, *, min_shared: int, min_overlap: float) -> float | None:
    """The share of the shorter text's words the other has too, if it is enough."""
    shared = len(a.words & b.words)
    if shared < min_shared:
        return None
    overlap = shared / min(len(a.words), len(b.words))
    return overlap if overlap >= min_overlap else None


def names_request(a: Features, b: Features) -> bool:
    """Whether one names the other's 311 request by its id."""
    return bool(a.refs & b.request_ids or b.refs & a.request_ids)


def clash(a: Features, b: Features) -> bool:
    """Whether the two are bound to be different issues whatever they say."""
    if a.request_ids and b.request_ids:
        return True  # two 311 requests: the city gave them two ids
    if a.refs and b.request_ids and a.refs.isdisjoint(b.request_ids):
        return True  # names another request
    if b.refs and a.request_ids and b.refs.isdisjoint(a.request_ids):
        return True
    return bool(a.refs and b.refs and a.refs.isdisjoint(b.refs))


def match(new: Features, old: Features, *, config: LinkingConfig) -> tuple[str, float] | None:
    """Why ``new`` reports the same issue as ``old`` (and how sure), or None.

    Pure: window, open status and the rest of the card's reports are the caller's business.
    """
    if clash(new, old):
        return None
    if names_request(new, old):
        return BY_REFERENCE, 1.0
    if new.source == old.source or not same_place(new, old, radius_m=config.radius_m):
        return None
    score = wording(new, old, min_shared=config.min_shared_words, min_overlap=config.min_overlap)
    return (BY_PLACE, score) if score is not None else None


class Linking:
    def __init__(self, config: LinkingConfig) -> None:
        self.config = config
        self.gazetteer = Gazetteer(config.places)
        self._cache: OrderedDict[tuple[str, str], Features] = OrderedDict()
        self._lock = threading.Lock()

    def features(
        self,
        *,
        source: str,
        text: str,
        title: str | None,
        external_id: str,
        extra: Mapping[str, Any],
    ) -> Features:
        return features(
            source=source,
            text=text,
            title=title,
            external_id=external_id,
            extra=extra,
            gazetteer=self.gazetteer,
        )

    def find(self, session: Session, *, new: Features, now: datetime) -> Link | None:
        """The open card ``new`` belongs on, if it is another report of that card's issue."""
        if not self.config.enabled:
            return None
        since = now - timedelta(hours=self.config.window_hours)
        if new.refs:
            found = self._named_request(session, new)
            if found is not None:
                return found
        if new.request_ids:
            found = self._posts_naming(session, new, since)
            if found is not None:
                return found
        if new.places or new.point is not None:
            return self._same_place(session, new, since)
        return None

    # The three ways in, each a few bounded queries.
    def _named_request(self, session: Session, new: Features) -> Link | None:
        requests = stored.open311_requests(session=session, keys=new.refs)
        found = {_root(r): _id(r) for r in requests if names_request(new, self._of(r))}
        roots = self._open(session, found)
        if len(roots) != 1:
            return None  # none open, or two different cards: not ours to choose
        return Link(root=roots[0], matched=found[roots[0]], how=BY_REFERENCE)

    def _posts_naming(self, session: Session, new: Features, since: datetime) -> Link | None:
        numbers = {key for key in new.request_ids if key.isdigit()}
        found: dict[int, int] = {}
        for post in stored.naming(session=session, numbers=numbers, since=since):  # oldest first
            if names_request(new, self._of(post)):
                found.setdefault(_root(post), _id(post))
        for root in self._open(session, found):
            known = [self._of(m) for m in stored.by_ids(session=session, ids=[root])]
            members = stored.members(session=session, root_ids=[root])
            known += self._features(session, members).values()
            if not any(clash(new, f) for f in known):
                return Link(root=root, matched=found[root], how=BY_REFERENCE)
        return None

    def _same_place(self, session: Session, new: Features, since: datetime) -> Link | None:
        roots = stored.open_roots(session=session, since=since, limit=self.config.max_candidates)
        groups: dict[int, list[Ref]] = {root.id: [root] for root in roots}
        for member in stored.members(session=session, root_ids=list(groups)):
            if member.root in groups:
                groups[member.root].append(member)
        known = self._features(session, [ref for group in groups.values() for ref in group])
        best: Link | None = None
        for root, group in groups.items():  # newest first: the newest wins a tie
            reports = [(ref.id, known[ref.id]) for ref in group if ref.id in known]
            if any(clash(new, f) for _, f in reports):
                continue
            for mention, old in reports:
                found = match(new, old, config=self.config)
                if found is not None and (best is None or found[1] > best.score):
                    best = Link(root=root, matched=mention, how=found[0], score=found[1])
        return best

    # Helpers.
    def _open(self, session: Session, roots: Iterable[int]) -> list[int]:
        """Those of ``roots`` that still have an open card of their own, in the order given."""
        wanted = list(dict.fromkeys(roots))
        now = stored.states(session=session, ids=wanted)
        return [r for r in wanted if r in now and now[r][1] is None and now[r][0] in OPEN_STATUSES]

    def _features(self, session: Session, refs: Sequence[Ref]) -> dict[int, Features]:
        """Features of stored mentions by id: from the cache, the rest read in one query."""
        with self._lock:
            cached = [self._cache.get((ref.source, ref.external_id)) for ref in refs]
            for ref, known in zip(refs, cached, strict=True):
                if known is not None:
                    self._cache.move_to_end((ref.source, ref.external_id))
        missing = [ref.id for ref, known in zip(refs, cached, strict=True) if known is None]
        found = {ref.id: known for ref, known in zip(refs, cached, strict=True) if known}
        # A row purged meanwhile is simply not there to compare with.
        found |= {_id(m): self._of(m) for m in stored.by_ids(session=session, ids=missing)}
        return found

    def _of(self, mention: Mention) -> Features:
        """A stored mention's features, kept a while: ``(source, external_id)`` fixes its text."""
        key = (mention.source, mention.external_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        computed = self.features(
            source=mention.source,
            text=mention.text,
            title=mention.title,
            external_id=mention.external_id,
            extra=mention.extra,
        )
        with self._lock:
            self._cache[key] = computed
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return computed


def _root(mention: Mention) -> int:
    return mention.folded_into if mention.folded_into is not None else _id(mention)


def _id(mention: Mention) -> int:
    assert mention.id is not None
    return mention.id
