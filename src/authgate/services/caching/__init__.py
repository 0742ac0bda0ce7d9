"""What every worker keeps in memory, and the one invalidation bus that keeps it true (``bus.py``)."""
