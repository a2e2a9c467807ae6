"""The scripted agents of one serving process: they answer consumers in the background, after the consumer's
change has committed.

The consumer's Send API call never waits for an agent and never fails because of one: the route hands the
committed event over (``heard``) and answers at once. The agent then works through the same service functions as
the agent API (accept, publish), each step its own transaction with its own notifications, so a connector hears
an agent that behaves like one on the platform. Answers in one conversation run one after another, in the order
this process heard of the messages. Every task is tracked: a failure is logged, and a graceful stop
lets answers in progress finish for a moment, then cancels and reports what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from appinstall.errors import DomainError
from appinstall.sandbox import service
from appinstall.sandbox.echo import Accept, Step, answer
from appinstall.sandbox.models import AgentMode, Appended
from appinstall.store import Store
from appinstall.tokens.errors import PlatformError

log = logging.getLogger("appinstall.sandbox")

SHUTDOWN_GRACE_SECONDS: Final = 5.0


class SandboxAgents:
    """Runs the echo agent for the accounts that have it on (their own choice when the message committed, else
    ``server_mode``). Each step publishes its notifications, which wake the webhook worker once committed.
    """

    def __init__(
        self,
        store: Store,
        server_mode: AgentMode,
        *,
        shutdown_grace: float = SHUTDOWN_GRACE_SECONDS,
    ) -> None:
        self.store = store
        self.server_mode = server_mode
        self._shutdown_grace = shutdown_grace
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[str, asyncio.Task[None]] = {}  # per conversation, the answer the next one waits for
        self._stopping = False

    def heard(self, appended: Appended) -> None:
        """A consumer's event has committed: answer it in the background, if the account's agent would. Returns at
        once, without I/O."""
        steps = answer(appended, self.server_mode)
        if not steps:
            return
        if self._stopping:
            log.warning("not answering in conversation %s: the server is stopping", appended.conversation_id)
            return
        previous = self._latest.get(appended.conversation_id)
        task = asyncio.create_task(self._answer(appended, steps, previous), name=f"echo {appended.conversation_id}")
        self._tasks.add(task)
        self._latest[appended.conversation_id] = task
        task.add_done_callback(lambda done: self._forget(appended.conversation_id, done))

    def _forget(self, conversation_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._latest.get(conversation_id) is task:
            del self._latest[conversation_id]

    async def _answer(self, appended: Appended, steps: tuple[Step, ...], previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # never raises: the previous answer logs its own failure
        conversation = appended.conversation_id
        try:
            for step in steps:
                if not await self._perform(appended, step):
                    log.info("echo agent leaves conversation %s to the agent who accepted it", conversation)
                    return
        except (PlatformError, DomainError) as error:
            # The conversation closed (or was never the agent's to speak in) between the message and the answer:
            # what a human agent would meet too, not a fault.
            reason = error.details if isinstance(error, PlatformError) else error.detail
            log.info("echo agent stopped answering in conversation %s: %s", conversation, reason)
        except Exception:
            log.exception("echo agent failed to answer in conversation %s", conversation)

    async def _perform(self, appended: Appended, step: Step) -> bool:
        """One step; False when another agent holds the conversation, whose words the echo agent must not speak."""
        if isinstance(step, Accept):
            return await service.accept(
                self.store, appended.account_id, appended.conversation_id, step.agent_id, if_unassigned=True
            )
        await service.agent_event(self.store, appended.account_id, appended.conversation_id, step.event)
        return True

    async def stop(self) -> None:
        """Take no more work; let answers in progress finish for a moment, then cancel the rest and say so."""
        self._stopping = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._shutdown_grace)
        for task in pending:
            log.warning("stopping: cancelled the echo agent's unfinished answer (%s)", task.get_name())
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
