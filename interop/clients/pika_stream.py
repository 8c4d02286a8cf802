"""A stream through pika (Debian's python3-pika): declare, publish three
messages with confirms, consume from x-stream-offset "first" with a prefetch
and manual acks; reports each delivery's body and x-stream-offset header.
Usage: pika_stream.py URL ID; prints one JSON document.
"""
import json
import sys

from pika_connect import connect


def main(url, qid):
    conn = connect(url)
    ch = conn.channel()
    queue = qid + ".pika-stream"
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "stream"})
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish("", queue, ("p%d" % i).encode())
    ch.basic_qos(prefetch_count=10)
    got = []

    def on_message(channel, method, props, body):
        got.append({"body": body.decode(), "offset": (props.headers or {}).get("x-stream-offset"),
                    "redelivered": method.redelivered})
        channel.basic_ack(method.delivery_tag)
        if len(got) == 3:
            channel.stop_consuming()

    ch.basic_consume(queue, on_message, arguments={"x-stream-offset": "first"})
    conn.call_later(5, ch.stop_consuming)
    ch.start_consuming()
    ch.queue_delete(queue)
    conn.close()
    print(json.dumps({"deliveries": got}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
