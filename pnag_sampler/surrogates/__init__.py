"""Surrogates that rank candidates: the meta-learned task-aware one shipped with the weights
(``meta``) and a few-shot bootstrap ridge ensemble for spaces without one (``ridge``)."""
