"""Tasks registered for the job queue's tests: they record what ran, in this process."""

from celery import shared_task

ran: list[int] = []


class Clock:
    """A monotonic clock the tests move by hand; each run of ``tests.jobs.record`` moves it on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.step = 0.0

    def __call__(self) -> float:
        return self.now


clock = Clock()


@shared_task(name="tests.jobs.record", time_limit=10)
def record(subject_id: int) -> None:
    ran.append(subject_id)
    clock.now += clock.step


@shared_task(name="tests.jobs.fail", time_limit=10)
def fail(subject_id: int) -> None:
    ran.append(subject_id)
    raise ConnectionRefusedError(f"the mail server refused #{subject_id}")


@shared_task(name="tests.jobs.long", time_limit=100)
def long(subject_id: int) -> None:
    ran.append(subject_id)
