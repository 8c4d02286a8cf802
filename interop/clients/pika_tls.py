"""pika over TLS (interop/tls.test.ts); prints one JSON document.  Usage:
  pika_tls.py PORT CA_FILE CERT_FILE KEY_FILE LOGIN QUEUE
LOGIN is "guest" (PLAIN guest/guest) or "external" (EXTERNAL: the certificate names the user).
Publishes one message to QUEUE (declared) and gets it back: {"body": ..., "protocol": ...},
or {"error": exception class, "text": ...} when the broker refuses.
"""
import json
import ssl
import sys

import pika
import pika.credentials
import pika.exceptions


def main():
    port, ca, cert, key, login, queue = sys.argv[1:7]
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    credentials = pika.credentials.ExternalCredentials() if login == "external" else pika.PlainCredentials("guest", "guest")
    params = pika.ConnectionParameters(
        host="127.0.0.1",
        port=int(port),
        ssl_options=pika.SSLOptions(context, "localhost"),
        credentials=credentials,
        socket_timeout=5,
        connection_attempts=1,
    )
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.AMQPError as error:
        print(json.dumps({"error": type(error).__name__, "text": str(error)}))
        return
    ch = connection.channel()
    ch.queue_declare(queue, durable=False)
    ch.basic_publish("", queue, b"over tls from pika", pika.BasicProperties(content_type="text/plain"))
    method, props, body = None, None, None
    for _ in range(50):
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is not None:
            break
        connection.sleep(0.05)
    ch.queue_delete(queue)
    connection.close()
    print(json.dumps({"body": body.decode() if body is not None else None, "contentType": props.content_type if props else None}))


main()
