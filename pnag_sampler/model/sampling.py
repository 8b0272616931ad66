"""Scale-by-scale generation: transformer -> code indices -> codebook lookup -> next scale.

One forward step per scale: the key/value cache holds the coarser scales, so each step only
processes the new scale's n*n tokens. Between steps no network runs: the sampled codes are
looked up in the codebook, interpolated and accumulated (MSQ's network-free path).
"""

from __future__ import annotations

import torch

from pnag_sampler.model.quantizer import MultiScaleQuantizer
from pnag_sampler.model.transformer import ScaleTransformer, filter_logits


@torch.no_grad()
def sample_indices(
    transformer: ScaleTransformer,
    quantizer: MultiScaleQuantizer,
    condition: torch.Tensor | None,
    *,
    batch: int | None = None,
    cfg_scale: float = 1.0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """Sample code indices for every scale, one (B, n, n) tensor per scale.

    ``condition`` None generates unconditionally from the learned null condition (``batch``
    rows), the same embedding that classifier-free guidance contrasts against.

    ``cfg_scale`` is the classifier-free guidance weight w in ``u + w (c - u)``: 1 uses the
    conditional logits alone, larger values push harder towards the condition.
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
    if guided:
        null = transformer.null_condition.expand(batch, -1)
        condition_embedding = torch.cat([condition_embedding, null], dim=0)
    rows = condition_embedding.shape[0]
    inputs = transformer.start_tokens.expand(rows, -1, -1)
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
            logits = filter_logits(logits / temperature, top_k, top_p)
            probabilities = logits.softmax(-1).flatten(0, 1)
            codes = torch.multinomial(probabilities, 1, generator=generator).view(batch, n, n)
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
