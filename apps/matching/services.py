"""The matching queue's engine (placeholder: filled in by the engine's work)."""


def matching_advance(*, request_id: int) -> None:
    """Take the next step for one request, by its dispatch mode. Idempotent."""
