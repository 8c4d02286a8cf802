"""pika against an x-delayed-message exchange (fanout underneath): bodies in the order they arrive, and
whether each arrived no earlier than its x-delay. Usage: pika_delayed.py URL ID; prints one JSON document."""
import json
import sys
import time

import pika


def main(url, qid):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ex = qid + ".dx"
    ch.exchange_declare(ex, "x-delayed-message", arguments={"x-delayed-type": "fanout"})
    q = qid + ".q"
    ch.queue_declare(q, exclusive=True)
    ch.queue_bind(q, ex)
    ch.confirm_delivery()
    delays = {"d300": 300, "d100": 100, "d200": 200, "now": None}
    started = time.monotonic()
    for body, delay in delays.items():
        headers = {} if delay is None else {"x-delay": delay}
        ch.basic_publish(ex, "", body.encode(), pika.BasicProperties(headers=headers))
    order = []
    on_time = True
    deadline = started + 5
    while len(order) < len(delays) and time.monotonic() < deadline:
        method, _props, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            time.sleep(0.01)
            continue
        name = body.decode()
        delay = delays[name] or 0
        if (time.monotonic() - started) * 1000 < delay:
            on_time = False
        order.append(name)
    ch.exchange_delete(ex)
    conn.close()
    return {"order": order, "neverEarly": on_time}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), sort_keys=True))
