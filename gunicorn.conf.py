"""The web server's settings, shared by every way of starting it: the README's gunicorn line,
``manage.py serve`` (``make run``), the Docker image and Docker Compose.

    gunicorn -c gunicorn.conf.py -b 127.0.0.1:8000 zhuozhou_civic.wsgi

Threaded workers (gthread): two processes of four threads each, so one slow request never stalls
the rest, and idle keep-alive connections wait in each worker's poller without holding a thread.

Keep-alive is 65 s, longer than any client or proxy keeps an idle connection for reuse (browsers,
HTTP client pools and reverse proxies such as nginx wait 60 s or less). The side that closes an
idle connection must be the one that would otherwise reuse it: if the server closed first, a
request the client sends on the connection at that moment would be met by a reset. gunicorn's own
default (2 s) is shorter than a client's pause between two requests.

The address comes from the command line (``-b``): it is the only setting that differs between a
machine (127.0.0.1) and a container (0.0.0.0).
"""

import os

wsgi_app = "zhuozhou_civic.wsgi:application"
bind = ["127.0.0.1:8000"]

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
keepalive = 65
timeout = 30
graceful_timeout = 10

accesslog = "-"
# Otherwise every instance on the machine shares one control socket in the user's home.
control_socket_disable = True
