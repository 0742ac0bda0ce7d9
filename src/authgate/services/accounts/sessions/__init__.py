"""Browser sessions: starting, resuming and ending them, the ones a person or an administrator sees, when each was
last seen and from which browser."""
