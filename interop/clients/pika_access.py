"""The access-control case table (interop/access-control.test.ts) run with pika;
prints one JSON document.  Usage:
  pika_access.py cases GUEST_URL USER_URL CASES_JSON   each case: "ok" or [code, text]
  pika_access.py login URL                             "ok" or the exception's name and text
"""
import json
import sys

import pika
import pika.exceptions


def connect(url):
    p = pika.URLParameters(url)
    p.socket_timeout = 5
    p.connection_attempts = 1
    return pika.BlockingConnection(p)


def table(args):
    return args if args else None


def step(ch, op, a):
    if op == "declareExchange":
        ch.exchange_declare(a[0], exchange_type=a[1], durable=False, arguments=table(a[2] if len(a) > 2 else None))
    elif op == "deleteExchange":
        ch.exchange_delete(a[0])
    elif op == "declareQueue":
        ch.queue_declare(a[0], durable=False, arguments=table(a[1] if len(a) > 1 else None))
    elif op == "declareQueuePassive":
        ch.queue_declare(a[0], passive=True)
    elif op == "declareExchangePassive":
        ch.exchange_declare(a[0], passive=True)
    elif op == "deleteQueue":
        ch.queue_delete(a[0])
    elif op == "bindQueue":
        ch.queue_bind(a[0], a[1], routing_key=a[2])
    elif op == "unbindQueue":
        ch.queue_unbind(a[0], a[1], routing_key=a[2])
    elif op == "bindExchange":
        ch.exchange_bind(a[0], a[1], routing_key=a[2])
    elif op == "unbindExchange":
        ch.exchange_unbind(a[0], a[1], routing_key=a[2])
    elif op == "publish":
        props = pika.BasicProperties(user_id=a[2]) if len(a) > 2 and a[2] is not None else None
        ch.basic_publish(a[0], a[1], b"m", properties=props)
    elif op == "get":
        ch.basic_get(a[0], auto_ack=True)
    elif op == "consume":
        ch.basic_consume(a[0], lambda *x: None, auto_ack=True)
    elif op == "purge":
        ch.queue_purge(a[0])
    else:
        raise ValueError("unknown op " + op)


def run_case(guest_url, user_url, case):
    if case.get("setup"):
        conn = connect(guest_url)
        ch = conn.channel()
        for s in case["setup"]:
            step(ch, s[0], s[1:])
        conn.close()
    conn = connect(user_url)
    try:
        ch = conn.channel()
        try:
            for s in case["steps"]:
                step(ch, s[0], s[1:])
            # A round trip: a refused publish closes the channel before it answers.
            ch.exchange_declare("amq.direct", passive=True)
            return "ok"
        except pika.exceptions.ChannelClosedByBroker as e:
            return [e.reply_code, e.reply_text]
    finally:
        if conn.is_open:
            conn.close()


def login(url):
    try:
        conn = connect(url)
        conn.close()
        return "ok"
    except pika.exceptions.ProbableAccessDeniedError as e:
        return ["ProbableAccessDeniedError", str(e)]
    except pika.exceptions.ProbableAuthenticationError as e:
        return ["ProbableAuthenticationError", str(e)]
    except pika.exceptions.ConnectionClosedByBroker as e:
        return ["ConnectionClosedByBroker", e.reply_code, e.reply_text]
    except pika.exceptions.AMQPConnectionError as e:
        return [type(e).__name__, str(e)]


def main():
    if sys.argv[1] == "cases":
        cases = json.loads(sys.argv[4])
        print(json.dumps({c["name"]: run_case(sys.argv[2], sys.argv[3], c) for c in cases}))
    elif sys.argv[1] == "login":
        print(json.dumps(login(sys.argv[2])))


main()
