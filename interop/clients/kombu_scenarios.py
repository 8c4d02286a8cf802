"""Scenarios for kombu (Celery's messaging library; Debian's python3-kombu with
py-amqp underneath, transport 'pyamqp'), run against a broker URL; prints one
JSON document.  Usage: kombu_scenarios.py SCENARIO URL ID
"""
import json
import socket
import sys
import time

import amqp
import amqp.exceptions
import kombu
from kombu import Connection, Consumer, Exchange, Producer, Queue


def connect(url, **kw):
    conn = Connection(url, transport="pyamqp", connect_timeout=5, **kw)
    conn.ensure_connection(max_retries=1)
    return conn


def drain(conn, until, timeout=5.0):
    """drain_events until until() is true or timeout seconds pass."""
    deadline = time.time() + timeout
    while not until() and time.time() < deadline:
        try:
            conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass


def drain_quiet(conn, seconds):
    """drain_events for a fixed time (to see that nothing more arrives)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn.drain_events(timeout=0.1)
        except socket.timeout:
            pass


def msg_view(message):
    p = message.properties
    di = message.delivery_info
    return {
        "payload": message.payload,
        "content_type": message.content_type,
        "content_encoding": message.content_encoding,
        "headers": message.headers,
        "priority": p.get("priority"),
        "expiration": p.get("expiration"),
        "delivery_mode": p.get("delivery_mode"),
        "exchange": di.get("exchange"),
        "routing_key": di.get("routing_key"),
        "redelivered": di.get("redelivered"),
    }


def strip_id(v, qid):
    """Names carry the per-run id; drop it so the checks can name them."""
    if isinstance(v, str):
        return v.replace(qid, "ID")
    if isinstance(v, dict):
        return {k: strip_id(x, qid) for k, x in v.items()}
    if isinstance(v, list):
        return [strip_id(x, qid) for x in v]
    return v


def routing(url, qid):
    """Exchange types direct/topic/fanout with bound Queues; Producer.publish
    with serializer json and headers/priority/expiration."""
    conn = connect(url)
    ch = conn.channel()
    direct = Exchange(qid + ".direct", type="direct", durable=False)
    topic = Exchange(qid + ".topic", type="topic", durable=False)
    fanout = Exchange(qid + ".fanout", type="fanout", durable=False)
    queues = {
        "d_red": Queue(qid + ".d-red", direct, routing_key="red", durable=False),
        "d_blue": Queue(qid + ".d-blue", direct, routing_key="blue", durable=False),
        "t_star": Queue(qid + ".t-star", topic, routing_key="stock.*.nyse", durable=False),
        "t_hash": Queue(qid + ".t-hash", topic, routing_key="stock.#", durable=False),
        "f_1": Queue(qid + ".f-1", fanout, durable=False),
        "f_2": Queue(qid + ".f-2", fanout, routing_key="ignored", durable=False),
    }
    for q in queues.values():
        q(ch).declare()
    producer = Producer(ch, serializer="json")
    producer.publish({"n": 1, "colour": "red"}, exchange=direct, routing_key="red",
                     headers={"task": "tasks.add", "id": "t-1", "retries": 0}, priority=5, expiration=60)
    producer.publish({"n": 2, "colour": "green"}, exchange=direct, routing_key="green")  # unroutable, dropped
    producer.publish([1, "two", None, True], exchange=direct, routing_key="blue", priority=0)
    producer.publish({"sym": "ACME"}, exchange=topic, routing_key="stock.acme.nyse")
    producer.publish({"sym": "BETA"}, exchange=topic, routing_key="stock.beta.lse")
    producer.publish({"sym": "X"}, exchange=topic, routing_key="stock")
    producer.publish("broadcast", exchange=fanout, routing_key="whatever", expiration=30.5)
    got = {}
    for key, q in queues.items():
        msgs = []
        while True:
            m = q(ch).get(no_ack=False, accept=["json"])
            if m is None:
                break
            msgs.append(msg_view(m))
            m.ack()
        got[key] = msgs
    for q in queues.values():
        q(ch).delete()
    for x in (direct, topic, fanout):
        x(ch).delete()
    conn.release()
    return strip_id({"received": got}, qid)


def consumer_prefetch(url, qid):
    """A Consumer with prefetch_count=2 and manual ack: 2 in flight until acked."""
    conn = connect(url)
    ch = conn.channel()
    ex = Exchange(qid + ".work", type="direct", durable=False)
    q = Queue(qid + ".work", ex, routing_key="work", durable=False)
    q(ch).declare()
    producer = Producer(ch, exchange=ex, routing_key="work", serializer="json")
    for i in range(5):
        producer.publish({"i": i}, headers={"seq": i})
    pending = []
    seen = []

    def on_message(body, message):
        seen.append({"body": body, "tag": message.delivery_tag, "seq": message.headers.get("seq"),
                     "redelivered": message.delivery_info.get("redelivered")})
        pending.append(message)

    cch = conn.channel()
    consumer = Consumer(cch, queues=[q], callbacks=[on_message], accept=["json"], prefetch_count=2, tag_prefix="kombu-")
    consumer.consume()
    drain(conn, lambda: len(seen) >= 2)
    drain_quiet(conn, 0.5)
    in_flight_before_ack = len(seen)
    _, ready_before_ack, consumers = q(ch).queue_declare(passive=True)
    # ack one: exactly one more may arrive
    pending.pop(0).ack()
    drain(conn, lambda: len(seen) >= 3)
    drain_quiet(conn, 0.3)
    after_one_ack = len(seen)
    while len(seen) < 5:
        while pending:
            pending.pop(0).ack()
        before = len(seen)
        drain(conn, lambda: len(seen) > before, timeout=3)
        if len(seen) == before:
            break
    while pending:
        pending.pop(0).ack()
    consumer.cancel()
    _, ready_after, consumers_after = q(ch).queue_declare(passive=True)
    q(ch).delete()
    ex(ch).delete()
    conn.release()
    return {
        "in_flight_before_ack": in_flight_before_ack,
        "ready_before_ack": ready_before_ack,
        "consumers_while_consuming": consumers,
        "after_one_ack": after_one_ack,
        "seen": [{"body": s["body"], "seq": s["seq"], "redelivered": s["redelivered"]} for s in seen],
        "tags": [s["tag"] for s in seen],
        "ready_after": ready_after,
        "consumers_after": consumers_after,
    }


def simple_queue(url, qid):
    """SimpleQueue put/get, and Celery-style queue_arguments (x-expires)."""
    conn = connect(url)
    out = {}
    sq = conn.SimpleQueue(qid + ".simple", queue_args={"x-expires": 60000}, serializer="json")
    sq.put({"hello": "kombu"})
    sq.put("second", headers={"h": 1})
    sq.put([1, 2, 3], priority=9)
    # basic.publish is asynchronous (RabbitMQ enqueues via other processes): wait for the count to settle
    deadline = time.time() + 3
    while sq.qsize() < 3 and time.time() < deadline:
        time.sleep(0.05)
    out["qsize_after_put"] = sq.qsize()
    got = []
    for _ in range(3):
        m = sq.get(block=True, timeout=3)
        got.append({"payload": m.payload, "headers": m.headers, "priority": m.properties.get("priority"),
                    "content_type": m.content_type})
        m.ack()
    out["got"] = got
    try:
        sq.get_nowait()
        out["empty"] = "no exception"
    except sq.Empty:
        out["empty"] = "Empty"
    out["qsize_after_get"] = sq.qsize()
    sq.close()
    # a fresh SimpleQueue on the same queue (same arguments): no consumer yet, so clear() purges both
    sq = conn.SimpleQueue(qid + ".simple", queue_args={"x-expires": 60000}, serializer="json")
    sq.put("to be cleared")
    sq.put("this too")
    deadline = time.time() + 3
    while sq.qsize() < 2 and time.time() < deadline:
        time.sleep(0.05)
    out["cleared"] = sq.clear()
    out["qsize_after_clear"] = sq.qsize()
    sq.close()
    ch = conn.channel()
    out["simple_deleted"] = Queue(qid + ".simple", channel=ch).delete()
    Exchange(qid + ".simple", channel=ch).delete()

    # Celery declares its queues with queue_arguments; redeclaring with the same arguments is fine
    ch = conn.channel()
    celery_ex = Exchange(qid + ".celery", type="direct", durable=True)
    celery_q = Queue(qid + ".celery", celery_ex, routing_key=qid + ".celery", durable=True,
                     queue_arguments={"x-expires": 60000})
    bound = celery_q(ch)
    declared_name = bound.declare()  # exchange, queue (with its arguments) and binding
    again = bound.queue_declare()
    out["celery_declare"] = {"returned_name_is_ours": declared_name == qid + ".celery"}
    out["celery_redeclare"] = {"message_count": again[1], "consumer_count": again[2]}
    Producer(ch, serializer="json").publish({"task": "add", "args": [2, 2]}, exchange=celery_ex,
                                           routing_key=qid + ".celery", headers={"task": "tasks.add"})
    m = celery_q(ch).get(no_ack=False, accept=["json"])
    out["celery_message"] = None if m is None else {"payload": m.payload, "headers": m.headers}
    if m is not None:
        m.ack()
    out["celery_deleted"] = celery_q(ch).delete()
    celery_ex(ch).delete()
    conn.release()
    return out


def channel_error(url, qid):
    """A passive declare of a missing queue: kombu re-raises py-amqp's NotFound."""
    conn = connect(url)
    out = {}
    ch = conn.channel()
    try:
        Queue(qid + ".missing", channel=ch).queue_declare(passive=True)
        out["passive_queue"] = "no error"
    except conn.channel_errors as e:
        out["passive_queue"] = {
            "exception": type(e).__module__ + "." + type(e).__name__,
            "code": e.code, "reply_code": e.reply_code, "reply_text": e.reply_text, "method_name": e.method_name,
            "is_channel_error": isinstance(e, amqp.exceptions.ChannelError),
            "is_connection_error": isinstance(e, conn.connection_errors),
            "str": str(e),
        }
    out["channel_is_open"] = bool(ch.is_open)
    ch = conn.channel()
    try:
        Exchange(qid + ".missing-ex", type="direct", passive=True)(ch).declare()
        out["passive_exchange"] = "no error"
    except conn.channel_errors as e:
        out["passive_exchange"] = {"exception": type(e).__name__, "code": e.code, "reply_text": e.reply_text,
                                   "method_name": e.method_name}
    # the connection survives; a new channel works
    ch = conn.channel()
    q = Queue(qid + ".ok", channel=ch, durable=False)
    q.declare()
    q.delete()
    out["connection_usable"] = conn.connected
    conn.release()
    return strip_id(out, qid)


def heartbeat(url, qid):
    """heartbeat=10 negotiated against the broker's proposal; heartbeat=0 disables."""
    out = {}
    conn = connect(url, heartbeat=10)
    c = conn.connection
    out["asked_10"] = {"kombu_heartbeat": conn.heartbeat, "negotiated": conn.get_heartbeat_interval(),
                       "server_heartbeat": c.server_heartbeat, "frame_max": c.frame_max, "channel_max": c.channel_max}
    # heartbeats flow: a few checks over ~1.2 s must not raise
    errors = []
    for _ in range(4):
        try:
            conn.heartbeat_check(rate=2)
        except Exception as e:  # noqa: BLE001 -- reported
            errors.append(type(e).__name__)
        try:
            conn.drain_events(timeout=0.3)
        except socket.timeout:
            pass
    out["heartbeat_check_errors"] = errors
    out["still_connected"] = conn.connected
    conn.release()
    conn = connect(url, heartbeat=0)
    out["asked_0"] = {"negotiated": conn.get_heartbeat_interval(), "server_heartbeat": conn.connection.server_heartbeat}
    conn.release()
    conn = connect(url, heartbeat=120)
    out["asked_120"] = {"negotiated": conn.get_heartbeat_interval()}
    conn.release()
    return out


SCENARIOS = {"routing": routing, "consumer-prefetch": consumer_prefetch, "simple-queue": simple_queue,
             "channel-error": channel_error, "heartbeat": heartbeat}

if __name__ == "__main__":
    scenario, url = sys.argv[1], sys.argv[2]
    qid = sys.argv[3] if len(sys.argv) > 3 else "kombu"
    print(json.dumps(SCENARIOS[scenario](url, qid), sort_keys=True))
