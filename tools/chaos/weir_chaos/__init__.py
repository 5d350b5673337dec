"""weir-chaos: break a Weir deployment on purpose and get an exactly-once
verdict. See docs/chaos.md."""


class UsageError(Exception):
    """A command line or setup the tool cannot run with (exit status 2)."""
