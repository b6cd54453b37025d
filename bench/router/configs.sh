# Configurations of the backend and of the three reference proxies, as a user would write them
# to sit in front of one app: upstream keep-alive, HTTP/2 and TLS 1.2/1.3 on the HTTPS port,
# plain HTTP redirecting to HTTPS (as doppel's port 80 does), a public host and a private one
# that checks a fixed Basic credential (the cheapest check each offers: a header comparison).
# Sourced by run.sh and instructions.sh, with the names and credential both use.

TOKEN=bench-token-0123456789abcdef
AUTH="Basic $(printf ':%s' "$TOKEN" | base64 -w0)"
PUBLIC=bench.localhost
PRIVATE=bench-staging.localhost
BACKEND=127.0.0.1:19001

write_configs() {
    local dir=$1
    mkdir -p "$dir/caddy-data" "$dir/caddy-config"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/bench.key" -out "$dir/bench.crt" -days 7 -subj "/CN=$PUBLIC" \
        -addext "subjectAltName=DNS:$PUBLIC,DNS:$PRIVATE" 2>/dev/null
    cat "$dir/bench.crt" "$dir/bench.key" >"$dir/bench.pem"

    # The app: one nginx worker answering a short text.
    cat >"$dir/backend.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/backend.pid;
error_log $dir/backend-error.log;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen $BACKEND backlog=4096;
    location / { return 200 "hello from the backend\n"; }
  }
}
EOF

    cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream app { server $BACKEND; keepalive 256; }
  map \$http_authorization \$denied { "$AUTH" 0; default 1; }
  server {
    listen 127.0.0.1:18080 backlog=4096;
    return 301 https://\$host\$request_uri;
  }
  server {
    listen 127.0.0.1:18443 ssl http2 backlog=4096;
    ssl_certificate $dir/bench.crt;
    ssl_certificate_key $dir/bench.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    server_name $PUBLIC;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
  server {
    listen 127.0.0.1:18443 ssl http2;
    server_name $PRIVATE;
    ssl_certificate $dir/bench.crt;
    ssl_certificate_key $dir/bench.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      if (\$denied) { return 401; }
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header Authorization "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
EOF

    # nginx as Dokku writes it for an app (its nginx.conf.sigil: an access log in the combined
    # format, X-Forwarded-Port, X-Request-Start), with the upstream keep-alive above.
    nginx_variant "$dir" dokku "access_log $dir/nginx-dokku-access.log;" \
        'proxy_set_header X-Forwarded-Port $server_port; proxy_set_header X-Request-Start $msec;'
    # nginx doing the per-request work doppel's router does: a Heroku-format router line per
    # request, a request id sent to the app and back, X-Request-Start, X-Forwarded-Port, and Via
    # both ways.
    nginx_variant "$dir" heroku "log_format heroku 'at=info method=\$request_method path=\"\$request_uri\" host=\$host request_id=\$request_id fwd=\"\$proxy_add_x_forwarded_for\" dyno=web.1 connect=\${upstream_connect_time}s service=\${upstream_response_time}s status=\$status bytes=\$body_bytes_sent protocol=\$scheme'; access_log $dir/nginx-heroku-access.log heroku;" \
        'proxy_set_header X-Forwarded-Port $server_port; proxy_set_header X-Request-Id $request_id; proxy_set_header X-Request-Start "t=${msec}"; proxy_set_header Via "1.1 nginx"; add_header X-Request-Id $request_id; add_header Via "1.1 nginx";'

    cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 2
  # Each connection needs two descriptors: below a 20,000 descriptor limit.
  maxconn 9000
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend plain
  bind 127.0.0.1:18180
  http-request redirect scheme https code 301
frontend tls
  bind 127.0.0.1:18543 ssl crt $dir/bench.pem alpn h2,http/1.1
  option forwardfor
  acl private hdr(host) -m beg $PRIVATE
  acl authorized req.hdr(authorization) -m str "$AUTH"
  http-request return status 401 if private !authorized
  http-request del-header authorization if private
  default_backend app
backend app
  server app1 $BACKEND maxconn 1000
EOF

    cat >"$dir/Caddyfile" <<EOF
{
  admin off
  default_sni bench.localhost
  auto_https off
  http_port 18280
  https_port 18643
  servers {
    protocols h1 h2
  }
}
http://:18280 {
  redir https://{host}{uri} 301
}
# One site for every name on the port (wrk sends the IP address as SNI), hosts told apart by
# matchers as in the other proxies.
https://:18643 {
  tls $dir/bench.crt $dir/bench.key
  @denied {
    host $PRIVATE
    not header Authorization "$AUTH"
  }
  @private host $PRIVATE
  handle @denied {
    respond 401
  }
  handle @private {
    reverse_proxy $BACKEND {
      header_up -Authorization
    }
  }
  handle {
    reverse_proxy $BACKEND
  }
}
EOF
}

# nginx.conf with `access_log off;` replaced by $3 and the lines $4 added to every proxied
# location: $1/nginx-$2.conf.
nginx_variant() { # dir name http-lines location-lines
    local http=$3 location=$4
    python3 - "$1/nginx.conf" "$1/nginx-$2.conf" "$http" "$location" <<'PY'
import sys
src, dst, http, location = sys.argv[1:]
conf = open(src).read().replace("access_log off;", http)
conf = conf.replace("proxy_set_header X-Forwarded-Proto $scheme;",
                    "proxy_set_header X-Forwarded-Proto $scheme;\n      " + location)
open(dst, "w").write(conf)
PY
}
