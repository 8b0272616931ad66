"""PNAG for one search space: train both stages, generate, save and load.

This is the object the search loop and every adapter use. It knows a space, an architecture
autoencoder (stage 1) and a conditional scale transformer (stage 2), and nothing about any
framework.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from pnag_sampler.errors import CheckpointError, InvalidScoreError
from pnag_sampler.model.autoencoder import ArchitectureAutoencoder, AutoencoderConfig
from pnag_sampler.model.checkpoint import checkpoint_fingerprint, load_checkpoint, load_state, require_sizes, save_checkpoint
from pnag_sampler.model.condition import ConditionLayout
from pnag_sampler.model.graph_tensors import dags_to_tensors, tensors_to_dags
from pnag_sampler.model.predictor import PredictorConfig
from pnag_sampler.model.sampling import sample_index_chunks
from pnag_sampler.model.scales import scale_structures
from pnag_sampler.model.training import EpochCallback, EpochState, timed, train_autoencoder, train_decoder, train_transformer
from pnag_sampler.model.transformer import ScaleTransformer, TransformerConfig
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.base import Dag, SearchSpace
from pnag_sampler.surrogates.meta import MetaSurrogate

#: rows generated together: memory holds one chunk's key/value cache (the result does not
#: depend on it; see ``model.sampling``)
GENERATION_CHUNK = 32


@dataclass(eq=False)
class Generation:
    """What one call of ``PNAG.generate`` produced, at every scale (coarse to fine): the
    delivered architectures, each the most likely valid one under the decoder's own scores,
    and beside them the decoder's raw, unconstrained output, so that neither hides the other.

    Architectures and their checks are built on first use: generating stays cheap."""

    space: SearchSpace
    #: per scale, the delivered (ops (B, n), adjacency (B, n, n))
    delivered: list[tuple[torch.Tensor, torch.Tensor]]
    #: per scale, the raw argmax (ops, adjacency) with the space's fixed structure
    raw: list[tuple[torch.Tensor, torch.Tensor]]
    #: the whole call, sampling and decoding
    seconds: float
    #: of which turning scores into the most likely valid architectures
    projection_seconds: float

    def _dags(self, scales: list[tuple[torch.Tensor, torch.Tensor]]) -> list[list[Dag]]:
        return [tensors_to_dags(self.space.node_types, ops, adjacency) for ops, adjacency in scales]

    @cached_property
    def sub_architectures(self) -> list[list[Dag]]:
        """``sub_architectures[t][i]``: the t-th scale of the i-th sample, as delivered."""
        return self._dags(self.delivered)

    @cached_property
    def raw_sub_architectures(self) -> list[list[Dag]]:
        return self._dags(self.raw)

    @property
    def architectures(self) -> list[Dag]:
        return self.sub_architectures[-1]

    @property
    def raw_architectures(self) -> list[Dag]:
        return self.raw_sub_architectures[-1]

    @cached_property
    def problems(self) -> list[str | None]:
        """The space's full check of each delivered architecture (None: valid)."""
        return [self.space.problem(dag) for dag in self.architectures]

    @cached_property
    def raw_problems(self) -> list[str | None]:
        """The space's full check of the decoder's raw output."""
        return [self.space.problem(dag) for dag in self.raw_architectures]

    @cached_property
    def raw_operations_problems(self) -> list[str | None]:
        """DiffusionNAG's operations-only check (the paper's Table 6) of the raw output."""
        return [self.space.operations_problem(dag) for dag in self.raw_architectures]

    @cached_property
    def sub_problems(self) -> list[list[str | None]]:
        return [[self.space.sub_architecture_problem(d) for d in scale] for scale in self.sub_architectures[:-1]] + [self.problems]

    @cached_property
    def raw_sub_problems(self) -> list[list[str | None]]:
        return [[self.space.sub_architecture_problem(d) for d in scale] for scale in self.raw_sub_architectures[:-1]] + [self.raw_problems]

    @property
    def valid(self) -> list[bool]:
        return [problem is None for problem in self.problems]

    @property
    def changed(self) -> list[bool]:
        """Per sample: did the projection change the raw full architecture?"""
        (ops, adjacency), (raw_ops, raw_adjacency) = self.delivered[-1], self.raw[-1]
        same = (ops == raw_ops).all(1) & (adjacency == raw_adjacency).flatten(1).all(1)
        return (~same).tolist()


@dataclass
class TrainingReport:
    stage1_seconds: float
    stage2_seconds: float
    stage1_history: dict[str, list[float]] = field(default_factory=dict)
    stage2_history: dict[str, list[float]] = field(default_factory=dict)
    surrogate_seconds: float = 0.0
    surrogate_history: dict[str, list[float]] = field(default_factory=dict)


class PNAG:
    """Progressive neural architecture generator for one search space, with the task-aware
    surrogate that ranks its output (``surrogate``; None for checkpoints without one)."""

    def __init__(
        self,
        space: SearchSpace,
        *,
        autoencoder_config: AutoencoderConfig | None = None,
        transformer_options: Mapping[str, Any] | None = None,
        condition_layout: ConditionLayout | None = None,
        metadata: Mapping[str, Any] | None = None,
        surrogate: MetaSurrogate | None = None,
    ):
        self.space = space
        self.surrogate = surrogate
        self.autoencoder_config = autoencoder_config or AutoencoderConfig(
            num_nodes=space.num_nodes, num_node_types=len(space.node_types), scales=space.generation_scales
        )
        if (self.autoencoder_config.num_nodes, self.autoencoder_config.num_node_types) != (space.num_nodes, len(space.node_types)):
            raise ValueError(f"autoencoder config does not match space '{space.name}'")
        self.condition_layout = condition_layout or ConditionLayout()
        self.autoencoder = ArchitectureAutoencoder(
            self.autoencoder_config, scale_structures(space, self.autoencoder_config.resolved_scales)
        )
        self.transformer_config = TransformerConfig(
            scales=self.autoencoder.scales,
            codebook_size=self.autoencoder_config.codebook_size,
            channels=self.autoencoder_config.channels,
            condition_dim=self.condition_layout.dim,
            **dict(transformer_options or {}),
        )
        self.transformer = ScaleTransformer(self.transformer_config)
        self.metadata: dict[str, Any] = dict(metadata or {})
        #: a hash of the checkpoint files this model was loaded from (None once trained here):
        #: what its generated pools are a pure function of, with the seed and settings
        self.fingerprint: str | None = None
        self.eval()

    def eval(self) -> PNAG:
        self.autoencoder.eval()
        self.transformer.eval()
        return self

    def with_condition_layout(self, layout: ConditionLayout) -> PNAG:
        """A copy conditioned on ``layout``, which must start with this model's own fields: the
        new fields' input weights start at zero, so the copy generates exactly as this model
        until stage 2 is trained further (how older checkpoints gain task and cost fields)."""
        if layout.fields[: len(self.condition_layout.fields)] != self.condition_layout.fields:
            raise ValueError(f"condition fields {layout.names} do not extend {self.condition_layout.names}")
        extended = PNAG(
            self.space,
            autoencoder_config=self.autoencoder_config,
            transformer_options=self._transformer_options(),
            condition_layout=layout,
            metadata=self.metadata,
            surrogate=self.surrogate,
        )
        extended.autoencoder.load_state_dict(self.autoencoder.state_dict())
        state = self.transformer.state_dict()
        old_weight = state["condition_embedding.0.weight"]
        new_weight = torch.zeros(old_weight.shape[0], layout.dim)
        new_weight[:, : old_weight.shape[1]] = old_weight
        extended.transformer.load_state_dict({**state, "condition_embedding.0.weight": new_weight})
        return extended.eval()

    def _transformer_options(self) -> dict[str, Any]:
        """The transformer settings of this model's own (the rest follows from stage 1 and the
        condition layout)."""
        return {
            k: v for k, v in asdict(self.transformer_config).items() if k not in ("scales", "codebook_size", "channels", "condition_dim")
        }

    # -- training ---------------------------------------------------------------------------
    def fit(
        self,
        architectures: Sequence[Dag],
        performance: np.ndarray | None = None,
        *,
        costs: Mapping[str, np.ndarray] | None = None,
        autoencoder_epochs: int = 60,
        transformer_epochs: int = 60,
        batch_size: int = 256,
        seed: int = 0,
        progress: bool = True,
    ) -> TrainingReport:
        """Train stage 1 on ``architectures`` and stage 2 on them with their ``performance``
        quantiles and ``costs`` (both None: unconditional, only the null condition is learned)."""
        self._condition_fields(architectures, performance, costs, seed)  # bad scores fail before stage 1
        stage1, seconds1 = timed(
            self.fit_autoencoder,
            architectures,
            epochs=autoencoder_epochs,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
        )
        stage2, seconds2 = timed(
            self.fit_transformer,
            architectures,
            performance,
            costs=costs,
            epochs=transformer_epochs,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
        )
        self.metadata.update(
            trained_architectures=len(architectures),
            autoencoder_epochs=autoencoder_epochs,
            transformer_epochs=transformer_epochs,
            seed=seed,
        )
        return TrainingReport(seconds1, seconds2, stage1, stage2)

    def fit_autoencoder(
        self,
        architectures: Sequence[Dag],
        *,
        epochs: int,
        batch_size: int = 256,
        seed: int = 0,
        progress: bool = True,
        decoder_only: bool = False,
        device: str = "cpu",
        resume: EpochState | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> dict[str, list[float]]:
        """Stage 1 alone: it needs architectures only, never scores (the space's structure).

        ``decoder_only`` trains the decoder on the frozen encoder's and quantizer's tokens: it
        learns to read what the quantizer encodes while the tokens, and so stage 2, stay valid.
        ``resume`` continues a run from the state ``on_epoch`` was given after an epoch."""
        self.fingerprint = None  # no longer the checkpoint it was loaded from
        for dag in architectures:
            self.space.require_valid(dag)
        if resume is None:
            torch.manual_seed(seed)
        ops, adjacency = dags_to_tensors(self.space.node_types, architectures)
        train = train_decoder if decoder_only else train_autoencoder
        history = train(
            self.autoencoder,
            ops,
            adjacency,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
            device=device,
            resume=resume,
            on_epoch=on_epoch,
        )
        self.eval()
        return history

    def fit_transformer(
        self,
        architectures: Sequence[Dag],
        performance: np.ndarray | None = None,
        *,
        costs: Mapping[str, np.ndarray] | None = None,
        tasks: np.ndarray | None = None,
        unconditioned: Sequence[Dag] = (),
        epochs: int,
        batch_size: int = 256,
        seed: int = 0,
        progress: bool = True,
        device: str = "cpu",
        resume: EpochState | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> dict[str, list[float]]:
        """Stage 2 alone, on the frozen stage-1 tokens of ``architectures`` conditioned on their
        ``performance`` quantiles, ``costs`` (more condition fields of this model's layout,
        e.g. a latency quantile; NaN: absent in that row) and ``tasks`` (one task embedding per
        row); ``unconditioned`` architectures (scores unknown, e.g. samples of the space) train
        only the null condition."""
        self.fingerprint = None  # no longer the checkpoint it was loaded from
        fields = self._condition_fields(architectures, performance, costs, seed, tasks)
        everything = list(architectures) + list(unconditioned)
        for dag in everything:
            self.space.require_valid(dag)
        ops, adjacency = dags_to_tensors(self.space.node_types, everything)
        indices = self.autoencoder.tokenize(ops, adjacency)
        conditions = self.condition_layout.encode(
            {name: torch.cat([column, torch.zeros(len(unconditioned), column.shape[1])]) for name, column in fields.items()},
            len(everything),
        )
        null_rows = torch.ones(len(everything), dtype=torch.bool)
        if fields:
            null_rows[: len(architectures)] = False
        history = train_transformer(
            self.transformer,
            self.autoencoder,
            indices,
            conditions,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
            null_rows=null_rows,
            device=device,
            resume=resume,
            on_epoch=on_epoch,
        )
        self.eval()
        return history

    def _checked_field(self, architectures: Sequence[Dag], values: Any, name: str, allow_absent: bool) -> torch.Tensor:
        """One field's values as a (len(architectures), width) tensor; NaN rows mean absent
        where ``allow_absent`` (cost fields), never for performance."""
        width = dict(self.condition_layout.fields).get(name)
        if width is None:
            raise ValueError(f"unknown condition field {name!r}; this model knows {list(self.condition_layout.names)}")
        values = np.asarray(values, dtype=np.float64)
        expected = (len(architectures),) if width == 1 else (len(architectures), width)
        absent = np.isnan(values) if allow_absent else np.zeros(values.shape, dtype=bool)
        if values.shape != expected or not (np.isfinite(values) | absent).all():
            raise InvalidScoreError(f"{name} must hold one finite value (width {width}) per architecture")
        return torch.as_tensor(values, dtype=torch.float32).reshape(len(architectures), width)

    def _condition_fields(
        self,
        architectures: Sequence[Dag],
        performance: np.ndarray | None,
        costs: Mapping[str, np.ndarray] | None,
        seed: int,
        tasks: np.ndarray | None = None,
    ) -> dict[str, torch.Tensor]:
        """Each given condition field as a (len(architectures), width) tensor.

        With several fields, each one is hidden (NaN: absent, flag 0) from a random quarter of
        the rows, so that generation may give any subset: a latency budget alone, say.
        """
        given = {"performance": (performance, False), "task": (tasks, False)}
        given.update({name: (values, True) for name, values in (costs or {}).items()})
        fields = {
            name: self._checked_field(architectures, values, name, allow_absent)
            for name, (values, allow_absent) in given.items()
            if values is not None
        }
        if len(fields) > 1:
            generator = torch.Generator().manual_seed(seed)
            fields = {
                name: torch.where(torch.rand(len(architectures), 1, generator=generator) < 0.25, torch.nan, column)
                for name, column in fields.items()
            }
        return fields

    # -- generation -------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        n: int,
        *,
        performance: float | None = None,
        costs: Mapping[str, float | Sequence[float]] | None = None,
        task: Sequence[float] | None = None,
        cfg_scale: float = 1.0,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Generation:
        """Generate ``n`` architectures for a target performance quantile in [0, 1], cost
        conditions (``costs``, e.g. ``{"latency": 0.1}``: as fast as the fastest tenth of the
        space; see ``conditioning.budgets.budget_conditions``) and a ``task`` embedding (from the surrogate's
        ``task_embedding``), any subset of them, or, with none, unconditionally (from the
        learned null condition; no guidance)."""
        parts = list(
            self.generate_chunks(
                n,
                performance=performance,
                costs=costs,
                task=task,
                cfg_scale=cfg_scale,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                seed=seed,
            )
        )
        return Generation(
            self.space,
            [
                (torch.cat([p.delivered[t][0] for p in parts]), torch.cat([p.delivered[t][1] for p in parts]))
                for t in range(len(parts[0].delivered))
            ],
            [(torch.cat([p.raw[t][0] for p in parts]), torch.cat([p.raw[t][1] for p in parts])) for t in range(len(parts[0].raw))],
            sum(p.seconds for p in parts),
            sum(p.projection_seconds for p in parts),
        )

    def generate_chunks(
        self,
        n: int,
        *,
        performance: float | None = None,
        costs: Mapping[str, float | Sequence[float]] | None = None,
        task: Sequence[float] | None = None,
        cfg_scale: float = 1.0,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        chunk_size: int = GENERATION_CHUNK,
        first_chunk: int = 0,
    ) -> Iterator[Generation]:
        """``generate``'s ``n`` architectures as consecutive chunks of ``chunk_size``, each
        produced when asked for: memory holds one chunk, a caller can spread the work, and
        the architectures are those of ``generate`` with the same arguments. ``first_chunk``
        skips the chunks before it without computing them (another process made them)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if first_chunk < 0:
            raise ValueError(f"first_chunk must be at least 0, got {first_chunk}")
        given = {"performance": performance, "task": task, **(costs or {})}
        fields = {name: value for name, value in given.items() if value is not None}
        widths = dict(self.condition_layout.fields)
        for name, value in fields.items():
            if name not in widths:
                raise ValueError(f"this model has no condition {name!r}; it knows {list(self.condition_layout.names)}")
            if widths[name] == 1 and not (np.ndim(value) == 0 and 0.0 <= cast(float, value) <= 1.0):  # ndim 0: a scalar
                raise ValueError(f"{name} is a quantile in [0, 1], got {value}")
            if widths[name] > 1 and (np.shape(value) != (widths[name],) or not np.all(np.isfinite(value))):
                raise ValueError(f"{name} must be {widths[name]} finite values (the task: surrogate.task_embedding())")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        condition = self.condition_layout.encode(fields, n) if fields else None
        chunks = sample_index_chunks(
            self.transformer,
            self.autoencoder.quantizer,
            condition,
            batch=n,
            chunk_rows=chunk_size,
            first_row=first_chunk * chunk_size,
            cfg_scale=cfg_scale,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            generator=generator,
        )
        return self._decoded(chunks)

    @torch.no_grad()
    def _decoded(self, chunks: Iterator[list[torch.Tensor]]) -> Iterator[Generation]:
        """Each chunk's code indices decoded: raw and projected onto the valid architectures."""
        start = time.perf_counter()
        for indices in chunks:
            logits = self.autoencoder.decoder_logits(indices)
            raw = [structure.raw(*scale) for structure, scale in zip(self.autoencoder.structures, logits)]
            projection_start = time.perf_counter()
            delivered = self._project(logits)
            end = time.perf_counter()
            yield Generation(self.space, delivered, raw, end - start, end - projection_start)
            start = time.perf_counter()

    def _project(self, logits: list[tuple[torch.Tensor, torch.Tensor]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Decoder logits per scale -> the most likely valid (sub-)architecture at each."""
        coarse = [structure.project(*scale) for structure, scale in zip(self.autoencoder.structures[:-1], logits[:-1])]
        return [*coarse, self.space.project(*logits[-1])]

    def generation_defaults(self) -> dict[str, Any]:
        """``generate`` keyword arguments this checkpoint was measured with, for callers that
        do not choose (the CLI without options, the guided search); empty: no preference.

        Chain-space checkpoints record theirs (docs: Benchmarks, "More search spaces"): their raw
        validity depends on the sampling settings far more than NB201's does."""
        return dict(self.metadata.get("generation_defaults", {}))

    @torch.no_grad()
    def reconstruct(self, architectures: Sequence[Dag], *, projected: bool = True) -> list[list[Dag]]:
        """Encode, quantize and decode: what stage 1 makes of known architectures at every
        scale (coarse to fine; the last is the full architecture), projected onto the valid
        ones or, with ``projected=False``, the decoder's raw output."""
        ops, adjacency = dags_to_tensors(self.space.node_types, architectures)
        logits = self.autoencoder.decoder_logits(self.autoencoder.tokenize(ops, adjacency))
        scales = self._project(logits) if projected else [s.raw(*scale) for s, scale in zip(self.autoencoder.structures, logits)]
        return [tensors_to_dags(self.space.node_types, *scale) for scale in scales]

    def scale_targets(self, architectures: Sequence[Dag]) -> list[list[Dag]]:
        """The sub-architecture each scale of each architecture is trained to decode to."""
        ops, adjacency = dags_to_tensors(self.space.node_types, architectures)
        return [tensors_to_dags(self.space.node_types, *scale) for scale in self.autoencoder.scale_targets(ops, adjacency)]

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        return save_checkpoint(path, *self.checkpoint_parts())

    def checkpoint_parts(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The config and tensors ``save`` writes (a resumable run adds its own to both)."""
        config = {
            "space": self.space.name,
            "node_types": list(self.space.node_types),
            "autoencoder": asdict(self.autoencoder_config),
            "transformer": self._transformer_options(),
            "condition_fields": [list(f) for f in self.condition_layout.fields],
            "metadata": self.metadata,
        }
        tensors = {f"autoencoder.{k}": v for k, v in self.autoencoder.state_dict().items()}
        tensors.update({f"transformer.{k}": v for k, v in self.transformer.state_dict().items()})
        if self.surrogate is not None:
            config["surrogate"] = self.surrogate.config_dict()
            tensors.update(self.surrogate.tensors("surrogate"))
        return config, tensors

    @classmethod
    def load(cls, path: str | os.PathLike, space: str | None = None) -> PNAG:
        """Load a checkpoint folder; ``space`` (a name) makes a checkpoint of another space fail."""
        config, tensors = load_checkpoint(path, expected_space=space)
        model = cls.from_config(config, path)
        model.fingerprint = checkpoint_fingerprint(path)
        load_state(model.autoencoder, tensors, "autoencoder", path)
        load_state(model.transformer, tensors, "transformer", path)
        if model.surrogate is not None:
            for index, member in enumerate(model.surrogate.members):
                load_state(member, tensors, f"surrogate.{index}", path)
        return model.eval()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], source: str | os.PathLike) -> PNAG:
        """An untrained model shaped as a checkpoint's ``config.json`` says (``source`` names
        the checkpoint in errors)."""
        require_sizes(config, source)
        try:
            search_space = get_space(config["space"])
            if list(search_space.node_types) != config["node_types"]:
                raise CheckpointError(f"{source}: node types {config['node_types']} differ from space '{search_space.name}'")
            model = cls(
                search_space,
                autoencoder_config=AutoencoderConfig(**config["autoencoder"]),
                transformer_options=config["transformer"],
                condition_layout=ConditionLayout(tuple((name, int(width)) for name, width in config["condition_fields"])),
                metadata=config.get("metadata", {}),
                surrogate=(
                    MetaSurrogate(search_space, PredictorConfig(**config["surrogate"]["predictor"]), members=config["surrogate"]["members"])
                    if "surrogate" in config
                    else None
                ),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, CheckpointError):
                raise
            raise CheckpointError(f"{source}: config.json is incomplete or malformed ({error!r})") from None
        return model

    @classmethod
    def from_weights(cls, space: str, weights: str | os.PathLike | None = None) -> PNAG:
        """The checkpoint folder ``weights`` (refused if it is of another space), else the
        weights shipped for ``space``."""
        return cls.load(weights, space=get_space(space).name) if weights else cls.pretrained(space)

    @classmethod
    def pretrained(cls, space: str) -> PNAG:
        """The weights shipped inside the package for a built-in space."""
        folder = resources.files("pnag_sampler") / "weights" / get_space(space).name
        if not folder.is_dir():
            raise CheckpointError(f"no shipped weights for space '{space}'; train them with `pnag train --space {space}`")
        return cls.load(Path(str(folder)), space=get_space(space).name)
