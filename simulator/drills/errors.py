"""The one error of a drill run: the drill could not be carried out."""


class DrillError(Exception):
    """The drill could not be carried out (setup refused, sandbox unreachable, ...)."""
