"""Scenarios for the Python client pika (Debian's python3-pika), run against a
broker URL; prints one JSON document.  Usage: pika_scenarios.py SCENARIO URL ID
"""
import decimal
import json
import sys
import time

import pika
import pika.exceptions


def connect(url, **params):
    p = pika.URLParameters(url)
    p.socket_timeout = 5
    p.blocked_connection_timeout = 5
    p.connection_attempts = 1
    for k, v in params.items():
        setattr(p, k, v)
    return pika.BlockingConnection(p)


def jsonable(v):
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, "__dict__") and not isinstance(v, (int, float, str, bool)):
        return {"type": type(v).__name__, **{k: jsonable(x) for k, x in vars(v).items()}}
    if hasattr(v, "as_tuple"):  # decimal.Decimal
        return {"decimal": str(v)}
    return v


def props(p):
    return jsonable({
        "content_type": p.content_type, "content_encoding": p.content_encoding,
        "headers": p.headers, "delivery_mode": p.delivery_mode, "priority": p.priority,
        "correlation_id": p.correlation_id, "reply_to": p.reply_to, "expiration": p.expiration,
        "message_id": p.message_id, "timestamp": p.timestamp, "type": p.type,
        "user_id": p.user_id, "app_id": p.app_id, "cluster_id": p.cluster_id,
    })


def publish_consume(url, qid):
    conn = connect(url)
    ch = conn.channel()
    q = qid + ".q"
    declared = ch.queue_declare(q, durable=False)
    ch.confirm_delivery()
    full = pika.BasicProperties(
        content_type="text/plain", content_encoding="utf-8",
        headers={"s": "str", "i": 7, "neg": -1, "big": 2 ** 40, "dec": decimal.Decimal("1.25"), "bytes": b"\x00\xff", "t": True, "n": None,
                 "list": [1, "a", False], "tbl": {"x": 1}},
        delivery_mode=2, priority=3, correlation_id="c-1", reply_to="r.q", expiration="60000",
        message_id="m-1", timestamp=1700000000, type="kind", user_id="guest", app_id="pika-app")
    ch.basic_publish("", q, b"hello pika", properties=full)
    ch.basic_publish("", q, b"second", properties=pika.BasicProperties())
    ch.basic_publish("", q, b"third")
    counts = ch.queue_declare(q, passive=True).method
    method, header, body = ch.basic_get(q, auto_ack=False)
    got = {"delivery_tag": method.delivery_tag, "redelivered": method.redelivered, "exchange": method.exchange,
           "routing_key": method.routing_key == q, "message_count": method.message_count,
           "body": body.decode(), "props": props(header)}
    ch.basic_ack(method.delivery_tag)
    received = []

    def on_msg(chan, deliver, properties, body):
        received.append({"tag": deliver.delivery_tag, "redelivered": deliver.redelivered,
                         "body": body.decode(), "props": props(properties)})
        chan.basic_ack(deliver.delivery_tag)

    ch.basic_qos(prefetch_count=10)
    tag = ch.basic_consume(q, on_msg, consumer_tag="pika-ctag")
    deadline = time.time() + 5
    while len(received) < 2 and time.time() < deadline:
        conn.process_data_events(time_limit=0.1)
    with_consumer = ch.queue_declare(q, passive=True).method
    ch.basic_cancel(tag)
    empty = ch.basic_get(q, auto_ack=True)
    purged = ch.queue_purge(q).method.message_count
    deleted = ch.queue_delete(q).method.message_count
    conn.close()
    return {
        "declared": {"message_count": declared.method.message_count, "consumer_count": declared.method.consumer_count},
        "counts_after_publish": {"message_count": counts.message_count, "consumer_count": counts.consumer_count},
        "get": got, "consumed": received, "consumer_tag": tag,
        "with_consumer": {"message_count": with_consumer.message_count, "consumer_count": with_consumer.consumer_count},
        "get_empty": list(empty) == [None, None, None], "purged": purged, "deleted": deleted,
    }


def channel_error(url, qid):
    conn = connect(url)
    out = {}
    ch = conn.channel()
    try:
        ch.queue_declare(qid + ".missing", passive=True)
        out["passive_queue"] = "no error"
    except pika.exceptions.ChannelClosedByBroker as e:
        out["passive_queue"] = {"exception": type(e).__name__, "reply_code": e.reply_code, "reply_text": e.reply_text}
    out["channel_is_closed"] = ch.is_closed
    ch = conn.channel()
    try:
        ch.exchange_declare(qid + ".missing-ex", passive=True)
        out["passive_exchange"] = "no error"
    except pika.exceptions.ChannelClosedByBroker as e:
        out["passive_exchange"] = {"reply_code": e.reply_code, "reply_text": e.reply_text}
    ch = conn.channel()
    try:
        ch.basic_get(qid + ".missing", auto_ack=True)
        out["get_missing"] = "no error"
    except pika.exceptions.ChannelClosedByBroker as e:
        out["get_missing"] = {"reply_code": e.reply_code, "reply_text": e.reply_text}
    # the connection survives channel errors
    ch = conn.channel()
    ch.queue_declare(qid + ".ok")
    ch.queue_delete(qid + ".ok")
    out["connection_open"] = conn.is_open
    conn.close()
    return out


def tune(url, qid):
    out = {}
    # heartbeat=None: pika takes the broker's proposal
    conn = connect(url)
    impl = conn._impl
    out["server_default"] = {"heartbeat": impl.params.heartbeat, "frame_max": impl.params.frame_max,
                             "channel_max": impl.params.channel_max}
    sp = impl.server_properties or {}
    out["capabilities"] = jsonable(sp.get("capabilities"))
    out["server_property_keys"] = sorted(k for k in sp.keys())
    conn.close()

    def cb(conn_impl, server_value):
        seen["server"] = server_value
        return 7
    seen = {}
    conn = connect(url, heartbeat=cb)
    out["heartbeat_callback"] = {"server_proposed": seen.get("server"), "negotiated": conn._impl.params.heartbeat}
    conn.close()
    conn = connect(url, heartbeat=0, frame_max=8192, channel_max=64)
    out["client_asks"] = {"heartbeat": conn._impl.params.heartbeat, "frame_max": conn._impl.params.frame_max,
                          "channel_max": conn._impl.params.channel_max}
    conn.close()
    return out


SCENARIOS = {"publish-consume": publish_consume, "channel-error": channel_error, "tune": tune}

if __name__ == "__main__":
    scenario, url = sys.argv[1], sys.argv[2]
    qid = sys.argv[3] if len(sys.argv) > 3 else "pika"
    print(json.dumps(SCENARIOS[scenario](url, qid), sort_keys=True))
