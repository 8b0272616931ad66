"""Scale-by-scale generation: transformer -> code indices -> codebook lookup -> next scale.

One forward step per scale: the key/value cache holds the coarser scales, so each step only
processes the new scale's n*n tokens. Between steps no network runs: the sampled codes are
looked up in the codebook, interpolated and accumulated (MSQ's network-free path).

A batch can be generated in row chunks, one chunk through every scale before the next, so that
memory holds one chunk's cache instead of the whole batch's. The result does not depend on the
chunking: a categorical draw is ``argmax(p / E)`` with exponential noise ``E`` (how
``torch.multinomial`` draws one sample), and the noise of every scale is drawn for the whole
batch up front, in the order the unchunked loop would draw it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from pnag_sampler.model.quantizer import MultiScaleQuantizer
from pnag_sampler.model.transformer import ScaleTransformer, filter_logits


@torch.no_grad()
def sample_index_chunks(
    transformer: ScaleTransformer,
    quantizer: MultiScaleQuantizer,
    condition: torch.Tensor | None,
    *,
    batch: int | None = None,
    chunk_rows: int | None = None,
    first_row: int = 0,
    cfg_scale: float = 1.0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> Iterator[list[torch.Tensor]]:
    """Sample code indices for every scale, in consecutive row chunks of one batch: each chunk
    is one (rows, n, n) tensor per scale, computed when the iterator reaches it. ``chunk_rows``
    None: the whole batch at once; the codes do not depend on it. Rows before ``first_row``
    (a multiple of ``chunk_rows``) are skipped, not computed.

    ``condition`` None generates unconditionally from the learned null condition (``batch``
    rows), the same embedding that classifier-free guidance contrasts against.

    ``cfg_scale`` is the classifier-free guidance weight w in ``u + w (c - u)``: 1 uses the
    conditional logits alone, larger values push harder towards the condition.

    Arguments are checked and the noise is drawn on the call, before any chunk is asked for.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if condition is None:
        if batch is None:
            raise ValueError("give a condition or the batch size of an unconditional sample")
        condition_embedding = transformer.null_condition.expand(batch, -1)
        guided = False
    else:
        batch = condition.shape[0]
        condition_embedding = transformer.embed_condition(condition)
        guided = cfg_scale != 1.0
    codebook = transformer.config.codebook_size
    # (batch, n*n, codebook) per scale, drawn in the order an unchunked loop consumes the generator
    noise = [
        torch.empty(batch * n * n, codebook).exponential_(1, generator=generator).view(batch, n * n, codebook) for n in quantizer.scales
    ]
    step_rows = chunk_rows or batch
    chunks = [slice(first, min(first + step_rows, batch)) for first in range(first_row, batch, step_rows)]
    return (
        _sample_chunk(
            transformer,
            quantizer,
            condition_embedding[rows],
            [scale_noise[rows] for scale_noise in noise],
            guided,
            cfg_scale,
            temperature,
            top_k,
            top_p,
        )
        for rows in chunks
    )


@torch.no_grad()
def _sample_chunk(
    transformer: ScaleTransformer,
    quantizer: MultiScaleQuantizer,
    condition_embedding: torch.Tensor,
    noise: list[torch.Tensor],
    guided: bool,
    cfg_scale: float,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
) -> list[torch.Tensor]:
    """One chunk of rows through every scale; ``noise[t]`` is its (rows, n*n, codebook) noise."""
    rows = condition_embedding.shape[0]
    if guided:
        null = transformer.null_condition.expand(rows, -1)
        condition_embedding = torch.cat([condition_embedding, null], dim=0)
    inputs = transformer.start_tokens.expand(condition_embedding.shape[0], -1, -1)
    position = 0
    e_hat = None
    indices = []
    transformer.set_caching(True)
    try:
        for step, n in enumerate(quantizer.scales):
            logits = transformer.step_logits(inputs, position, condition_embedding)
            if guided:
                conditional, unconditional = logits.chunk(2, dim=0)
                logits = unconditional + cfg_scale * (conditional - unconditional)
            probabilities = filter_logits(logits / temperature, top_k, top_p).softmax(-1)
            codes = (probabilities / noise[step]).argmax(-1).view(rows, n, n)
            indices.append(codes)
            upsampled = quantizer.upsampled_codes(codes)
            e_hat = upsampled if e_hat is None else e_hat + upsampled
            position += n * n
            if step + 1 < len(quantizer.scales):
                next_map = quantizer.pool(e_hat, quantizer.scales[step + 1])
                inputs = transformer.input_projection(next_map.flatten(2).transpose(1, 2))
                if guided:
                    inputs = torch.cat([inputs, inputs], dim=0)
    finally:
        transformer.set_caching(False)
    return indices
