//! A network namespace of its own for the test browser, so that Docker's interfaces coming
//! and going on the host (every container start adds a veth) are not seen by Chromium, which
//! answers each such change by failing its open requests with `ERR_NETWORK_CHANGED` — live
//! streams included. A user's browser runs on another machine and never sees them either.
//!
//! Namespaces belong to threads: one thread here calls `unshare(CLONE_NEWNET)` and from then
//! on creates, on request, the sockets and processes that must live inside (a process
//! started from it, like chromedriver, inherits the namespace). Sockets keep the namespace
//! they were made in whichever thread uses them, so plain threads copy bytes between a
//! socket inside and one outside: [`Netns::forward_in`] makes a host port reachable inside,
//! [`Netns::forward_out`] makes an inside port reachable from the host.

use anyhow::{bail, Context, Result};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A network namespace holding only its loopback interface; ends when dropped.
pub struct Netns {
    jobs: Mutex<mpsc::Sender<Job>>,
    stop: Arc<AtomicBool>,
    /// Listeners to wake when stopping (their accept loops then see `stop`), and whether
    /// each is inside (else on the host).
    listeners: Mutex<Vec<(SocketAddr, bool)>>,
}

impl Netns {
    /// Makes a new namespace with its loopback up. Fails without the right to (not root).
    pub fn new() -> Result<Netns> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel::<Result<()>>();
        std::thread::Builder::new()
            .name("netns".into())
            .spawn(move || {
                let entered = enter();
                let ok = entered.is_ok();
                let _ = ready.send(entered);
                if ok {
                    for job in queue {
                        job();
                    }
                }
            })?;
        started
            .recv()
            .context("the namespace thread ended at start")??;
        Ok(Netns {
            jobs: Mutex::new(jobs),
            stop: Arc::new(AtomicBool::new(false)),
            listeners: Mutex::new(Vec::new()),
        })
    }

    /// Runs `f` inside the namespace (sockets it makes and processes it starts live there).
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let jobs = self
            .jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("namespace queue poisoned"))?
            .clone();
        run_in(&jobs, f)
    }

    /// Makes the host's `127.0.0.1:port` reachable as `127.0.0.1:port` inside.
    pub fn forward_in(&self, port: u16) -> Result<()> {
        let inside = self.run(move || TcpListener::bind(("127.0.0.1", port)))??;
        self.serve(inside, true, move || {
            TcpStream::connect(("127.0.0.1", port))
        })
    }

    /// Makes `127.0.0.1:port` inside reachable on the host; returns the host port.
    pub fn forward_out(&self, port: u16) -> Result<u16> {
        let outside = TcpListener::bind("127.0.0.1:0")?;
        let host_port = outside.local_addr()?.port();
        let jobs = self
            .jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("namespace queue poisoned"))?
            .clone();
        let jobs = Mutex::new(jobs);
        self.serve(outside, false, move || {
            let jobs = jobs
                .lock()
                .map_err(|_| io::Error::other("namespace queue poisoned"))?
                .clone();
            run_in(&jobs, move || TcpStream::connect(("127.0.0.1", port)))
                .map_err(io::Error::other)?
        })?;
        Ok(host_port)
    }

    /// Accepts on `listener` (`inside` the namespace or on the host) until stopped; each
    /// connection is joined to one `connect` makes.
    fn serve(
        &self,
        listener: TcpListener,
        inside: bool,
        connect: impl Fn() -> io::Result<TcpStream> + Send + Sync + 'static,
    ) -> Result<()> {
        self.listeners
            .lock()
            .map_err(|_| anyhow::anyhow!("listener list poisoned"))?
            .push((listener.local_addr()?, inside));
        let stop = self.stop.clone();
        let connect = Arc::new(connect);
        std::thread::spawn(move || {
            for accepted in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(from) = accepted else { continue };
                let connect = connect.clone();
                std::thread::spawn(move || match connect() {
                    Ok(to) => pipe(from, to),
                    Err(_) => {
                        let _ = from.shutdown(Shutdown::Both);
                    }
                });
            }
        });
        Ok(())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let listeners = self.listeners.lock().map(|l| l.clone()).unwrap_or_default();
        for (addr, inside) in listeners {
            // Wakes the accept loop, which then sees `stop`, from the listener's own side (the
            // same address on the other side may be the server itself). The namespace thread
            // ends once the queue's sender is gone.
            if inside {
                let _ = self.run(move || TcpStream::connect(addr));
            } else {
                let _ = TcpStream::connect(addr);
            }
        }
    }
}

/// Enters a new network namespace (this thread only) and brings its loopback up.
fn enter() -> Result<()> {
    // SAFETY: unshare only changes this thread's namespaces; no memory is involved.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 {
        bail!(
            "unshare(CLONE_NEWNET): {} (a namespace of its own needs root)",
            io::Error::last_os_error()
        );
    }
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .output()
        .context("running ip (package iproute2)")?;
    if !up.status.success() {
        bail!(
            "ip link set lo up: {}",
            String::from_utf8_lossy(&up.stderr).trim()
        );
    }
    Ok(())
}

/// Runs `f` on the namespace thread behind `jobs` and waits for its answer.
fn run_in<T: Send + 'static>(
    jobs: &mpsc::Sender<Job>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (answer, answered) = mpsc::channel();
    jobs.send(Box::new(move || {
        let _ = answer.send(f());
    }))
    .map_err(|_| anyhow::anyhow!("the namespace thread is gone"))?;
    answered
        .recv()
        .map_err(|_| anyhow::anyhow!("the namespace thread dropped a job"))
}

/// Copies both ways until each side has closed its half.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let there = std::thread::spawn(move || copy_then_close(a2, b2));
    copy_then_close(b, a);
    let _ = there.join();
}

fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn ports_are_forwarded_both_ways_and_the_host_is_otherwise_out_of_reach() {
        let Ok(ns) = Netns::new() else {
            eprintln!("skipped: no network namespace without root");
            return;
        };
        // A host server, reached from inside through forward_in.
        let host = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = host.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for s in host.incoming().flatten() {
                let mut s = s;
                let _ = s.write_all(b"host");
            }
        });
        let before = ns
            .run(move || TcpStream::connect(("127.0.0.1", port)).is_ok())
            .expect("run");
        assert!(!before, "the host's loopback is reachable from inside");
        ns.forward_in(port).expect("forward in");
        let got = ns
            .run(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port))?;
                let mut text = String::new();
                s.read_to_string(&mut text)?;
                Ok::<_, io::Error>(text)
            })
            .expect("run")
            .expect("read");
        assert_eq!(got, "host");

        // A server inside, reached from the host through forward_out.
        let inside = ns
            .run(|| TcpListener::bind("127.0.0.1:9515"))
            .expect("run")
            .expect("bind inside");
        std::thread::spawn(move || {
            for s in inside.incoming().flatten() {
                let mut s = s;
                let _ = s.write_all(b"inside");
            }
        });
        let out = ns.forward_out(9515).expect("forward out");
        let mut text = String::new();
        TcpStream::connect(("127.0.0.1", out))
            .expect("connect")
            .read_to_string(&mut text)
            .expect("read");
        assert_eq!(text, "inside");
    }
}
