"""The job worker of one server process: a thread that takes queued jobs and runs them.

Every process has one (JOB_WORKER=false turns it off); a queued job goes to whichever claims
it first (services/jobs.claim). A job started in this process wakes it at once; others look
every JOB_POLL_SECONDS. Stopping the server lets the chunk in progress finish (a second or
so), then marks the job `interrupted`: the rows done so far stay done, and Resume goes on.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from admin_app.resources import Registry
from admin_app.services import jobs

log = logging.getLogger(__name__)


class JobWorker:
    def __init__(
        self, factory: sessionmaker[Session], registry: Registry, *, chunk_rows: int,
        poll_seconds: float, passwords: Any = None,
    ) -> None:
        self.factory, self.registry, self.passwords = factory, registry, passwords
        self.chunk_rows, self.poll_seconds = chunk_rows, poll_seconds
        self.owner = jobs.this_process()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            jobs.interrupt(self.factory, self.owner)
        except Exception:  # the database went first: the heartbeat tells the rest
            log.exception("could not mark this process's jobs interrupted")

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job_id = jobs.claim(self.factory, self.owner)
                if job_id is not None:
                    status = jobs.run(
                        self.factory, self.registry, job_id, owner=self.owner, chunk_rows=self.chunk_rows,
                        passwords=self.passwords, stop=self._stopping.is_set,
                    )
                    log.info("job %s: %s", job_id, status)
                    continue  # another may be waiting
            except Exception:
                log.exception("job worker")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
