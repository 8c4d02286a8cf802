"""A quorum queue through pika (Debian's python3-pika): basic.get with reject
(requeue) until x-delivery-limit drops the message, then its dead letter.
Usage: pika_quorum.py URL ID; prints one JSON document.
"""
import json
import sys
import time

import pika
from pika_connect import connect


def main(url, qid):
    conn = connect(url)
    ch = conn.channel()
    queue, dead = qid + ".pq", qid + ".pqdead"
    ch.queue_declare(dead, durable=False)
    ch.queue_declare(queue, durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": 2,
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead})
    ch.confirm_delivery()
    ch.basic_publish("", queue, b"poison", pika.BasicProperties(headers={"k": "v"}))
    gets = []
    for _ in range(4):
        method, props, body = ch.basic_get(queue)
        if method is None:
            gets.append(None)
            continue
        headers = props.headers or {}
        gets.append({"body": body.decode(), "redelivered": method.redelivered, "count": headers.get("x-delivery-count")})
        ch.basic_reject(method.delivery_tag, requeue=True)
    letter = None
    deadline = time.time() + 5
    while letter is None and time.time() < deadline:
        method, props, body = ch.basic_get(dead, auto_ack=True)
        if method is not None:
            headers = props.headers or {}
            letter = {"body": body.decode(), "reason": headers["x-death"][0]["reason"],
                      "first_death_reason": headers.get("x-first-death-reason"), "count": headers.get("x-delivery-count")}
        else:
            time.sleep(0.02)
    ch.queue_delete(queue)
    ch.queue_delete(dead)
    conn.close()
    return {"gets": gets, "dead": letter}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), sort_keys=True))
