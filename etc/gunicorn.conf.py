# gunicorn settings for serving imageapi with plain gunicorn:
#
#     OS_IMAGEAPI_CONFIG_FILE=/etc/imageapi/imageapi.conf \
#         gunicorn -c /etc/imageapi/gunicorn.conf.py imageapi.wsgi:application
#
# The values match imageapi-api's [wsgi] defaults; --bind, --workers and
# the other command line options override them. imageapi.wsgi:application
# builds the app in each worker on its first request and gives image bodies
# the same readers as imageapi-api (imageapi/cmd/gunicorn_input.py):
# Content-Length bodies straight from the socket, chunked framing errors
# answered 400, and [upload] body_idle_timeout for a client that stops
# sending.

wsgi_app = 'imageapi.wsgi:application'
bind = ['127.0.0.1:9292']

# gthread workers heartbeat from their main loop: a long or slow upload
# holds one thread and never trips `timeout`. gunicorn's default "sync"
# workers would be killed `timeout` seconds into any upload.
worker_class = 'gthread'
workers = 2
threads = 8
# Seconds without a heartbeat before a stuck worker is restarted.
timeout = 120
# Seconds an idle keep-alive connection stays open.
keepalive = 5
# Seconds a worker gets after SIGTERM to finish uploads in flight.
graceful_timeout = 30

# Image and metadata-definition URLs with long query strings (filters,
# markers) fit; gunicorn's default is 4094 bytes.
limit_request_line = 16384
# Request bodies are never capped here: [DEFAULT] image_size_cap and the
# quotas apply while the body streams.

proc_name = 'imageapi'
# gunicorn >= 25.1 opens a control socket at one fixed path per user, which
# two servers on a host would fight over (older releases ignore this).
control_socket_disable = True
