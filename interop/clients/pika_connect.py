"""The connection the pika clients here open: one attempt and a 5 s socket
timeout, so a broker that does not answer fails the scenario rather than
hanging it. Imported from the script's own directory (python3 puts it first
on sys.path)."""
import pika


def connect(url):
    params = pika.URLParameters(url)
    params.socket_timeout = 5
    params.connection_attempts = 1
    return pika.BlockingConnection(params)
