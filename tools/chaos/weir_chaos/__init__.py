"""weir-chaos: break a Weir deployment on purpose and get an exactly-once
verdict. See docs/chaos.md."""
