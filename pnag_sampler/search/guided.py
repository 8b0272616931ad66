"""PNAG's guided search loop (paper Stage 2/3), the one brain behind every adapter.

``propose`` generates candidates under a high-performance condition, drops the ones already
evaluated or pending, and ranks the rest by expected improvement under a surrogate. With the
model's task-aware surrogate (tabulated spaces), the results so far are its support set: from
the first proposal on (zero-shot: the prior's predicted quantile), each result moves its
predictions toward the task. Without one (custom and sampled spaces), a few-shot ridge ensemble
ranks once ``n_startup`` results exist; before that, how often the generator produced each
candidate does (its own belief of what a top architecture is).

Once ``LOCAL_MOVES_AFTER`` results exist, the best result's one-change neighbours join the
candidates, ranked by the same surrogate: a generated pool holds the generator's belief of the
top region, and refining the best result so far is what a pool drawn once cannot do
(``benchmarks/local_moves.py`` measures what it adds).

It keeps no memory of results: callers pass what was evaluated and what is pending, so several
processes sharing one study make decisions from the same data. Its caches are pure functions of
model and seed: the generated candidate pools (not conditioned on the task, for that reason),
the parsed architectures and the surrogate features of each architecture.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Collection, Iterator, Mapping

import numpy as np

from pnag_sampler.errors import InvalidScoreError
from pnag_sampler.generator import GENERATION_CHUNK, PNAG
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.search.pool_cache import locked, pool_key, read_pool, store_pool
from pnag_sampler.spaces.base import Dag
from pnag_sampler.surrogates.ridge import BootstrapRidgeSurrogate, architecture_features, expected_improvement

#: results before the best one's neighbours join the candidates (the first proposals explore)
LOCAL_MOVES_AFTER = 10


def require_finite_scores(evaluated: Mapping[str, float]) -> None:
    """Reject a NaN or infinite score, naming the architecture it belongs to."""
    scores = np.fromiter(evaluated.values(), dtype=np.float64, count=len(evaluated))
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        text = list(evaluated)[bad[0]]
        raise InvalidScoreError(f"the score of {text} is {evaluated[text]}; scores must be finite")


class GuidedSearch:
    """Proposals from one model: generated pools, ranked by a surrogate (see the module)."""

    def __init__(
        self, model: PNAG, options: SearchOptions, *, online: bool = False, max_pool_rounds: int = 8, allow_repeats: bool = False
    ) -> None:
        self.model = model
        self.space = model.space
        self.options = options
        self.seed = options.drawn_seed
        self.pool_size = options.pool_size_for(online=online)
        self.max_pool_rounds = max_pool_rounds
        #: for spaces where one string stands for many configurations (binned continuous
        #: parameters), seen strings may be proposed again once no unseen one is left
        self.allow_repeats = allow_repeats
        #: ``PNAG.generate`` keyword arguments of every pool round
        self._generation_settings = options.generation_settings(model.generation_defaults())
        #: each round's canonical strings in generation order; the last grows until it holds
        #: ``pool_size``
        self._rounds: list[list[str]] = []
        #: the growing round's next chunks, from where its samples end (rebuilt when needed)
        self._chunks: Iterator[list[str]] | None = None
        #: per round: how many samples were counted, and the counted candidates
        self._counted: dict[int, tuple[int, list[tuple[str, Dag, int]]]] = {}
        #: surrogate feature rows of every architecture seen so far (row index by canonical string)
        self._feature_index: dict[str, int] = {}
        self._feature_matrix: np.ndarray | None = None
        #: the task-aware surrogate's feature row of every architecture it was asked about
        self._surrogate_row: dict[str, int] = {}
        self._warned_uniform = False
        self._dags: dict[str, Dag] = {}
        #: the one-change neighbours of each best result so far, as candidates
        self._neighbours: dict[str, list[tuple[str, Dag, int]]] = {}

    def __getstate__(self) -> dict:
        """A copy (Syne Tune pickles its searcher) keeps the samples; the chunk iterator, which
        cannot be pickled, is rebuilt where they end when the copy needs more."""
        return {**self.__dict__, "_chunks": None}

    def _visible(self, round_index: int, results: int) -> int:
        """How many of a round's samples a proposal ranks, ``results`` being evaluated or
        pending: the first round opens a quarter at a time plus one generation chunk per
        result, so the first proposal pays for a quarter of a round; later rounds whole."""
        if round_index > 0:
            return self.pool_size
        return min(self.pool_size, -(-self.pool_size // 4) + GENERATION_CHUNK * results)

    def _growing(self) -> bool:
        """Whether the last round is still short of ``pool_size`` samples."""
        return bool(self._rounds) and len(self._rounds[-1]) < self.pool_size

    def _round_key(self, round_index: int) -> str | None:
        """A round's name in the pool cache; None where rounds are not shared (a model trained
        in this process, the uniform control)."""
        if self.model.fingerprint is None or self.options.candidate_source == "uniform":
            return None
        seed = self.seed + round_index
        return pool_key(self.model.fingerprint, seed=seed, size=self.pool_size, settings=self._generation_settings)

    def _samples(self, round_index: int, count: int) -> list[str]:
        """The first ``count`` samples of a round (fewer only if the round is shorter), drawing
        the chunks still missing. Rounds are a pure function of model, seed and settings, so a
        loaded checkpoint's rounds are shared on disk between processes (``pool_cache``): what
        another process generated is read instead of generated again."""
        while len(self._rounds) <= round_index:
            if self._growing():
                self._draw_chunk()
                continue
            key = self._round_key(len(self._rounds))
            self._rounds.append((read_pool(key) if key is not None else None) or [])
            self._chunks = None
        while round_index == len(self._rounds) - 1 and self._growing() and len(self._rounds[-1]) < count:
            self._draw_chunk()
        return self._rounds[round_index][:count]

    def _draw_chunk(self) -> None:
        """Extend the growing round by what another process stored, else by one chunk generated
        here and stored for the others (one process at a time)."""
        round_index = len(self._rounds) - 1
        key = self._round_key(round_index)
        with locked(key) if key is not None else contextlib.nullcontext():
            samples = self._rounds[-1]
            stored = read_pool(key) if key is not None else None
            if stored is not None and len(stored) > len(samples):
                self._rounds[-1], self._chunks = stored, None
                return
            if self._chunks is None:
                self._chunks = self._round_chunks(self.seed + round_index, len(samples) // GENERATION_CHUNK)
            samples.extend(next(self._chunks))
            if key is not None:
                store_pool(key, samples)
            if not self._growing():
                self._chunks = None  # it holds the round's sampling noise

    def _is_whole(self, round_index: int, results: int) -> bool:
        """Whether a round is generated to its end and every sample of it is ranked."""
        growing = round_index == len(self._rounds) - 1 and self._growing()
        return not growing and self._visible(round_index, results) >= len(self._rounds[round_index])

    def _pool(self, round_index: int, count: int) -> list[tuple[str, Dag, int]]:
        """Valid distinct candidates among a round's first ``count`` samples, most frequently
        generated first (ties: first generated first)."""
        samples = self._samples(round_index, count)
        counted, pool = self._counted.get(round_index, (-1, []))
        if counted != len(samples):
            pool = [(text, self._dag(text), n) for text, n in Counter(samples).most_common()]
            self._counted[round_index] = (len(samples), pool)
        return pool

    def _round_chunks(self, seed: int, first_chunk: int) -> Iterator[list[str]]:
        """One pool round's canonical strings, chunk by chunk from ``first_chunk`` on: generated
        under the top-performance condition (settings decided by
        ``SearchOptions.generation_settings``), or, for the ``uniform`` control, uniform samples
        of the space (one chunk)."""
        if self.options.candidate_source == "uniform":
            yield [self.space.to_string(dag) for dag in self.space.sample(np.random.default_rng(seed), self.pool_size)]
            return
        chunks = self.model.generate_chunks(self.pool_size, **self._generation_settings, seed=seed, first_chunk=first_chunk)
        for generation in chunks:
            yield [self.space.to_string(dag) for dag in generation.architectures]

    def candidates(self, seen: Collection[str]) -> list[str]:
        """Unseen candidates in the generator's order (most often generated first)."""
        return [text for text, _, _ in self._unseen_candidates(set(seen))]

    def _unseen_candidates(self, seen: set[str]) -> list[tuple[str, Dag, int]]:
        """Unseen candidates of the pool rounds opened so far (see ``_visible``); a new round
        is used once the last is whole and fewer than a quarter of a pool remain unseen, so
        choice never narrows to a few. It is built ahead of need, one chunk per call once fewer
        than half a pool remain, so that no single call pays for a whole round (the rounds are
        the same either way). With no unseen valid candidate: the first round again if repeats
        are allowed and it holds any, else uniform samples of the space (unseen ones unless
        repeats are allowed)."""
        first: list[tuple[str, Dag, int]] = []  # the first round's, most frequent first already
        fresh: dict[str, tuple[str, Dag, int]] = {}  # from the second round on: counts summed over rounds
        results = len(seen)
        for round_index in range(self.max_pool_rounds):
            unseen = [candidate for candidate in self._pool(round_index, self._visible(round_index, results)) if candidate[0] not in seen]
            if round_index == 0:
                first = unseen
            else:
                fresh = fresh or {candidate[0]: candidate for candidate in first}
                for text, dag, count in unseen:
                    previous = fresh.get(text)
                    fresh[text] = (text, dag, count + (previous[2] if previous else 0))
            found = len(fresh) if round_index else len(first)
            if found >= self.pool_size // 4 or not self._is_whole(round_index, results):
                break
        ahead = round_index + 1
        if ahead < self.max_pool_rounds and found < self.pool_size // 2 and self._is_whole(round_index, results):
            self._samples(ahead, len(self._rounds[ahead]) + 1 if ahead < len(self._rounds) else 1)
        if found:
            return first if round_index == 0 else sorted(fresh.values(), key=lambda c: -c[2])
        if self.allow_repeats and (repeats := self._pool(0, self.pool_size)):
            return list(repeats)
        if not self._warned_uniform:
            self._warned_uniform = True
            warnings.warn(
                f"{self.max_pool_rounds} generated pools hold no unseen valid {self.space.name} architecture; "
                "proposing uniform samples of the space instead",
                stacklevel=1,
            )
        rng = np.random.default_rng(self.seed + len(seen))
        for dag in self.space.sample(rng, 4 * self.pool_size):
            text = self.space.to_string(dag)
            if text not in seen or self.allow_repeats:
                fresh.setdefault(text, (text, self.space.from_string(text), 0))  # canonical, as in pools
        return list(fresh.values())

    def _feature_rows(self, texts: list[str], dags: list[Dag] | None = None) -> np.ndarray:
        """Surrogate features of architectures by canonical string, each computed once and kept
        in one matrix, so that a proposal gathers rows instead of stacking them."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._feature_index))
        if missing:
            given = dict(zip(texts, dags)) if dags is not None else {}
            rows = architecture_features(self.space, [given.get(t) or self.space.from_string(t) for t in missing])
            for text in missing:
                self._feature_index[text] = len(self._feature_index)
            self._feature_matrix = rows if self._feature_matrix is None else np.vstack([self._feature_matrix, rows])
        assert self._feature_matrix is not None  # every caller asks about at least one architecture
        return self._feature_matrix[[self._feature_index[text] for text in texts]]

    def propose(self, evaluated: Mapping[str, float], pending: Collection[str] = (), n: int = 1) -> list[str]:
        """Up to ``n`` canonical strings to evaluate next (higher scores are better)."""
        require_finite_scores(evaluated)
        seen = set(evaluated) | set(pending)
        candidates = self._unseen_candidates(seen)
        if len(evaluated) >= LOCAL_MOVES_AFTER:
            candidates = candidates + self._unseen_neighbours(max(evaluated, key=evaluated.__getitem__), seen, candidates)
        if not candidates:
            warnings.warn(f"every architecture of {self.space.name} was proposed already; repeating the best one", stacklevel=1)
            best = max(evaluated, key=evaluated.__getitem__) if evaluated else next(iter(pending))
            return [best] * n
        scores = None
        if self.model.surrogate is not None:
            scores = self._task_aware_scores(candidates, evaluated)
        elif evaluated and len(evaluated) >= self.options.n_startup:
            surrogate = BootstrapRidgeSurrogate(seed=self.seed + len(evaluated))
            surrogate.fit(self._feature_rows(list(evaluated)), list(evaluated.values()))
            mean, std = surrogate.predict(self._feature_rows([c[0] for c in candidates], [c[1] for c in candidates]))
            scores = expected_improvement(mean, std, max(evaluated.values()))
        if scores is None:
            return [text for text, _, _ in candidates[:n]]
        order = np.lexsort((-np.fromiter((c[2] for c in candidates), dtype=np.int64, count=len(candidates)), -scores))
        return [candidates[i][0] for i in order[:n]]

    def _unseen_neighbours(self, best: str, seen: set[str], candidates: list[tuple[str, Dag, int]]) -> list[tuple[str, Dag, int]]:
        """The best result's neighbours that are neither seen nor candidates already (count 0:
        the generator did not propose them)."""
        if best not in self._neighbours:
            self._neighbours[best] = [(self.space.to_string(dag), dag, 0) for dag in self.space.neighbours(self._dag(best))]
        unseen = [neighbour for neighbour in self._neighbours[best] if neighbour[0] not in seen]
        if not unseen:
            return []
        listed = {text for text, _, _ in candidates}
        return [neighbour for neighbour in unseen if neighbour[0] not in listed]

    def _task_aware_scores(self, candidates: list[tuple[str, Dag, int]], evaluated: Mapping[str, float]) -> np.ndarray:
        """Zero-shot: the predicted quantile. With results: expected improvement over the
        prediction at the best result so far (the incumbent, in the model's own units)."""
        surrogate = self.model.surrogate
        assert surrogate is not None  # only called for a model with a task-aware surrogate
        texts = [text for text, _, _ in candidates]
        if evaluated:
            texts.append(max(evaluated, key=evaluated.__getitem__))  # the incumbent
        queries = self._surrogate_rows(texts)
        scores = np.fromiter(evaluated.values(), dtype=np.float64, count=len(evaluated))
        mean, std = surrogate.predict_rows(queries, self._surrogate_rows(list(evaluated)), scores)
        if not evaluated:
            return mean
        return expected_improvement(mean[:-1], std[:-1], float(mean[-1]))

    def _surrogate_rows(self, texts: list[str]) -> np.ndarray:
        """Rows of architectures in the task-aware surrogate's feature matrix, by canonical
        string (a proposal looks up the same candidates again: strings keep their hash)."""
        surrogate = self.model.surrogate
        assert surrogate is not None
        known = self._surrogate_row
        rows = [known.get(text) for text in texts]
        if None in rows:
            missing = list(dict.fromkeys(text for text, row in zip(texts, rows) if row is None))
            known.update(zip(missing, surrogate.rows([self._dag(text) for text in missing]).tolist()))
            rows = [known[text] for text in texts]
        return np.array(rows, dtype=np.int64)

    def _dag(self, text: str) -> Dag:
        """The canonical DAG of a string, parsed once."""
        if text not in self._dags:
            self._dags[text] = self.space.from_string(text)
        return self._dags[text]
