//! A TCP proxy between tflock and moto that can be told to fail: the way
//! tests make the lock service unreachable mid-run.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Mode {
    Forward = 0,
    /// Accept, then close at once: the client sees a reset/EOF.
    Refuse = 1,
    /// Accept and never answer: the client sees a timeout.
    Blackhole = 2,
    /// Forward, but only after holding each new connection for
    /// [`Proxy::set_delay`] (a slow network: requests land late).
    Delay = 3,
}

pub struct Proxy {
    pub port: u16,
    mode: Arc<AtomicU8>,
    delay_ms: Arc<AtomicU32>,
    /// Connections refused or blackholed so far.
    failed: Arc<AtomicU32>,
}

impl Proxy {
    pub fn start(target_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(Mode::Forward as u8));
        let failed = Arc::new(AtomicU32::new(0));
        let delay_ms = Arc::new(AtomicU32::new(0));
        let (m, f, d) = (mode.clone(), failed.clone(), delay_ms.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                let mode = m.load(Ordering::SeqCst);
                if mode == Mode::Delay as u8 {
                    let delay = Duration::from_millis(u64::from(d.load(Ordering::SeqCst)));
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        forward(client, target_port)
                    });
                    continue;
                }
                if mode != Mode::Forward as u8 {
                    f.fetch_add(1, Ordering::SeqCst);
                }
                match mode {
                    0 => {
                        std::thread::spawn(move || forward(client, target_port));
                    }
                    1 => {
                        let _ = client.shutdown(Shutdown::Both);
                    }
                    _ => {
                        // Hold the connection open, silent, for a while.
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_secs(120));
                            drop(client);
                        });
                    }
                }
            }
        });
        Proxy {
            port,
            mode,
            delay_ms,
            failed,
        }
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u32, Ordering::SeqCst);
        self.set(Mode::Delay);
    }

    pub fn failed_connections(&self) -> u32 {
        self.failed.load(Ordering::SeqCst)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

fn forward(client: TcpStream, target_port: u16) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
        return;
    };
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        copy(&mut c2, &mut s2);
    });
    let (mut s3, mut c3) = (server, client);
    copy(&mut s3, &mut c3);
    let _ = up.join();
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
