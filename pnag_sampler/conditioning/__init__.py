"""What the generator is conditioned on beyond performance: costs as condition fields
(``costs``), budgets turned into quantiles (``budgets``) and tasks (``tasks``)."""
