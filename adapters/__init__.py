"""Framework adapters, installed as ``pnag_sampler.adapters`` (never as a top-level ``adapters``)."""
