//! The e2e tests' add-on app: a small Python app on the debian-12 stack that reads and
//! writes its add-ons the way apps do, through the URLs in its environment (it shells out to
//! `psql` and `redis-cli`, installed from Debian's archive).

use anyhow::Result;

use crate::AppRepo;

/// An app on the debian-12 stack that reads and writes the add-ons the way apps do: through
/// the URLs in its environment. `/pg/add?v=X` inserts a row, `/pg/rows` lists them;
/// `/redis/set?k=K&v=V`, `/redis/get?k=K`. A failing client answers 500 with its error.
pub fn notes_app(version: &str) -> Result<AppRepo> {
    let server_py = r#""""doppel e2e: rows through DATABASE_URL, keys through REDIS_URL."""
import http.server
import os
import subprocess
import urllib.parse

VERSION = open("/srv/VERSION").read().strip()


def run(args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return r.returncode == 0 and "ERR" not in r.stdout, (r.stdout + r.stderr).strip()


def psql(sql):
    return run(["psql", os.environ["DATABASE_URL"], "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-c", sql])


def redis(*args):
    return run(["redis-cli", "-u", os.environ["REDIS_URL"], "--no-auth-warning", *args])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path == "/pg/add":
            ok, out = psql("CREATE TABLE IF NOT EXISTS notes (v text); "
                           f"INSERT INTO notes VALUES ('{q['v']}')")
        elif url.path == "/pg/rows":
            ok, out = psql("SELECT coalesce(string_agg(v, ',' ORDER BY v), '') FROM notes")
            out = f"rows=[{out}]"
        elif url.path == "/redis/set":
            ok, out = redis("SET", q["k"], q["v"])
        elif url.path == "/redis/get":
            ok, out = redis("GET", q["k"])
            out = f"value=[{out}]"
        else:
            ok, out = True, f"notes {VERSION}"
        body = (out + "\n").encode()
        self.send_response(200 if ok else 500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer.request_queue_size = 1024  # Python's default backlog of 5 drops SYNs under load
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"#;
    let dockerfile = "FROM doppel/heroku-24\n\
        USER root\n\
        RUN apt-get -o Acquire::Check-Valid-Until=false update \\\n \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client redis-tools \\\n \
        && rm -rf /var/lib/apt/lists/*\n\
        USER heroku\n\
        COPY server.py VERSION /srv/\n\
        CMD [\"sh\", \"-c\", \"exec python3 /srv/server.py\"]\n";
    AppRepo::from_files(&[
        ("Dockerfile", dockerfile.as_bytes()),
        ("server.py", server_py.as_bytes()),
        ("VERSION", version.as_bytes()),
    ])
}
