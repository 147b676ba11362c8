"""RQ jobs: shift-end handovers, the deadline sweep, waking waiting cases, catch-up, planning."""
