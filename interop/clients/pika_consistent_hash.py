"""pika against an x-consistent-hash exchange hashing a header: where each message lands.
Usage: pika_consistent_hash.py URL ID; prints one JSON document."""
import json
import sys

import pika


def main(url, qid):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ex = qid + ".chx"
    ch.exchange_declare(ex, "x-consistent-hash", arguments={"hash-header": "user"})
    queues = [qid + ".q" + str(i) for i in range(3)]
    for q, weight in zip(queues, ["1", "2", "3"]):
        ch.queue_declare(q, exclusive=True)
        ch.queue_bind(q, ex, routing_key=weight)
    ch.confirm_delivery()
    for i in range(60):
        ch.basic_publish(ex, "", ("m" + str(i)).encode(), pika.BasicProperties(headers={"user": "user-" + str(i % 20)}))
    placed = {}
    for q in queues:
        bodies = []
        while True:
            method, _props, body = ch.basic_get(q, auto_ack=True)
            if method is None:
                break
            bodies.append(body.decode())
        placed[q[len(qid) + 1:]] = bodies
    ch.exchange_delete(ex)
    conn.close()
    return placed


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), sort_keys=True))
