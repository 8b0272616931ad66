"""The PNAG generator: encoder -> multi-scale quantizer -> decoder, and the scale transformer."""
