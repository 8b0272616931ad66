"""The errors a user of pnag-sampler can see.

Every bad input (unknown names, malformed architectures, corrupt or foreign checkpoints,
non-finite scores) raises one of these with a message that says what was wrong, so that no
traceback from deep inside torch or numpy reaches the user.
"""


class PNAGError(Exception):
    """Base class of every error raised on purpose by pnag-sampler."""


class UnknownNameError(PNAGError, KeyError):
    """A space, task, device or other name that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidArchitectureError(PNAGError, ValueError):
    """A string, DAG or parameter dict that is not an architecture of the space."""


class CheckpointError(PNAGError, ValueError):
    """A weights folder that is missing, truncated, not a checkpoint, or for another space."""


class InvalidScoreError(PNAGError, ValueError):
    """A NaN or infinite score where a finite one is needed."""


class UnsupportedParameterError(PNAGError, ValueError):
    """A search-space entry PNAG cannot model (e.g. a normal distribution), named in the message."""


class BenchmarkResultError(PNAGError, ValueError):
    """A stored benchmark result that cannot be resumed: not one of ours, or of another budget."""
