"""The Redis broker transport: kombu's, except that a consumer cannot lose a message it takes.

kombu takes a message with BRPOP and records it as unacknowledged in a second round trip. A worker
killed between the two (or whose BRPOP reply is lost with its connection) loses that message, and
the visibility timeout cannot bring back what was never recorded. Here a consumer first waits
without taking anything (BLMOVE of the queue's tail onto itself, which leaves the list as it was),
then takes the message and records it as unacknowledged in one script, which Redis runs atomically.
From there kombu's own machinery (ack, reject, restore after the visibility timeout) applies as is.

Used for a consumer of a single queue key that acknowledges (Celery's workers: one queue, one
priority step); anything else (no-ack reply queues, several queues) keeps kombu's BRPOP.
"""

from time import monotonic, time
from typing import Any

import redis
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

# KEYS: queue, unacked index, unacked hash (prefixed); ARGV: the time to index the message by.
# allow-oom: at maxmemory (noeviction) taking a message must go on, it is what frees memory.
# The unacked entry is kombu's own format, [message, exchange, routing key], with the message kept
# verbatim (spliced in, not re-encoded) so that a restore puts back exactly what was published.
CLAIM_SCRIPT = """#!lua flags=allow-oom
local message = redis.call('RPOP', KEYS[1])
if not message then
  return false
end
local properties = cjson.decode(message)['properties']
local delivery = properties['delivery_info']
local tag = properties['delivery_tag']
redis.call('ZADD', KEYS[2], ARGV[1], tag)
redis.call('HSET', KEYS[3], tag,
  '[' .. message .. ',' .. cjson.encode(delivery['exchange']) .. ',' .. cjson.encode(delivery['routing_key']) .. ']')
return message
"""


# A key nothing writes: at maxmemory Redis refuses BLMOVE (it may grow a list), so a consumer that
# found its queue empty there waits on this instead, taking nothing, before it tries again.
MEMORY_PAUSE_SUFFIX = ":memory-pause"


class Channel(kombu_redis.Channel):
    """A kombu Redis channel whose acknowledging single-queue consumer takes messages atomically."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._acked_queues: set[str] = set()
        self._waiting_on: str | None = None  # the queue a wait was sent for
        self._pausing = False  # the wait sent is the pause on MEMORY_PAUSE_SUFFIX
        self._memory_full = False  # Redis refused the last wait at maxmemory and the queue was empty
        self._claim_script: Any = None  # redis-py Script on an unprefixed client; loaded again if Redis lost it
        super().__init__(*args, **kwargs)

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if not no_ack:
            self._acked_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def _basic_cancel(self, consumer_tag: str) -> Any:
        self._acked_queues.discard(self._tag_to_queue.get(consumer_tag))
        return super()._basic_cancel(consumer_tag)

    def _atomic_queue_key(self, queues: list[str]) -> str | None:
        """The one prefixed key to wait on, when the atomic path applies."""
        if len(queues) != 1 or queues[0] not in self._acked_queues or len(self.priority_steps) != 1:
            return None
        return self.global_keyprefix + self._q_for_pri(queues[0], self.priority_steps[0])

    def _brpop_start(self, timeout: float | None = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        key = self._atomic_queue_key(queues)
        if key is None:
            self._waiting_on = None
            return super()._brpop_start(timeout)
        self._waiting_on = queues[0]
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()
        wait = (self.brpop_timeout if timeout is None else timeout) or 0
        self._pausing, self._memory_full = self._memory_full, False
        if self._pausing:
            self.client.connection.send_command("BRPOP", key + MEMORY_PAUSE_SUFFIX, wait)
        else:
            self.client.connection.send_command("BLMOVE", key, key, "RIGHT", "RIGHT", wait)

    def _brpop_read(self, **options: Any) -> bool:
        if self._waiting_on is None:
            return super()._brpop_read(**options)
        queue, self._waiting_on = self._waiting_on, None
        out_of_memory = False
        try:
            try:
                woken = self.client.parse_response(
                    self.client.connection, "BRPOP" if self._pausing else "BLMOVE", **options)
            except redis.exceptions.OutOfMemoryError:
                woken = out_of_memory = True  # the wait was refused, not the claim: try it
            except self.connection_errors:
                self.client.connection.disconnect()  # the next poll reconnects
                raise
            if self._pausing or woken is None or self._closing:  # nothing was taken
                raise kombu_redis.Empty()
            message = self._claim_one(queue)
            if message is None:  # another consumer took it first, or full and empty
                self._memory_full = out_of_memory
                raise kombu_redis.Empty()
            self._queue_cycle.rotate(queue)
            self.connection._deliver(loads(bytes_to_str(message)), queue)
            return True
        finally:
            self._in_poll = None
            self._pausing = False
            self._flush_brpop_reauth()

    def _claim_one(self, queue: str) -> bytes | None:
        keys = [self.global_keyprefix + name for name in
                (self._q_for_pri(queue, self.priority_steps[0]), self.unacked_index_key, self.unacked_key)]
        if self._claim_script is None:
            # The keys are prefixed already: a client on the channel's pool that prefixes nothing.
            self._claim_script = redis.Redis(connection_pool=self.pool).register_script(CLAIM_SCRIPT)
        return self._claim_script(keys=keys, args=[time()])


class Transport(kombu_redis.Transport):
    Channel = Channel
