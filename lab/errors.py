"""The one exception type the CLI turns into a one-line error."""


class LabError(Exception):
    """A failure the user can act on; printed as ``lab: error: <message>``."""
