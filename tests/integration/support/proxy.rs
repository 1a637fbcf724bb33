//! A TCP proxy between tflock and moto that can be told to fail: the way
//! tests make the lock service unreachable, slow, lossy or throttling.
//! Every request is its own connection (moto closes after each answer).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Mode {
    Forward,
    /// Accept, then close at once: the client sees a reset/EOF.
    Refuse,
    /// Accept and never answer: the client sees a timeout.
    Blackhole,
    /// Forward after holding the connection this long (a slow network).
    Delay(Duration),
    /// Forward at once, and hold the service's answer this long: the
    /// client acts on what was true when the service answered.
    DelayAnswer(Duration),
    /// Forward the request, let the service act on it, and drop the answer:
    /// the client sees a broken connection after the write landed.
    DropResponse,
    /// Answer for the service with this HTTP status and DynamoDB error type
    /// (throttling, a server error), without forwarding.
    Answer(u16, &'static str),
}

struct State {
    mode: Mode,
    /// `Some(n)`: `mode` applies to the next n connections only.
    remaining: Option<u32>,
    failed: u32,
    /// Answers held back (`DelayAnswer`) so far.
    held: u32,
    /// Drop the answer to the next forwarded request that contains this.
    drop_next: Option<&'static str>,
    /// Answer 500 for the service to requests that contain this, this many
    /// times (an SDK's retries included).
    fail_matching: Option<(&'static str, u32)>,
    /// Hold the next requests that contain this so long before forwarding
    /// them, this many times (a slow acquisition, while other requests go
    /// on).
    hold_next: Option<(&'static str, Duration, u32)>,
    /// Requests being held so.
    holding: u32,
    /// The first line of each request forwarded and answered.
    answered: Vec<String>,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub fn start(target_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Forward,
            remaining: None,
            failed: 0,
            held: 0,
            drop_next: None,
            fail_matching: None,
            hold_next: None,
            holding: 0,
            answered: Vec::new(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                let mode = {
                    let mut s = shared.lock().unwrap();
                    let mode = s.mode.clone();
                    if let Some(n) = s.remaining.as_mut() {
                        *n -= 1;
                        if *n == 0 {
                            s.mode = Mode::Forward;
                            s.remaining = None;
                        }
                    }
                    if mode != Mode::Forward {
                        s.failed += 1;
                    }
                    mode
                };
                let state = shared.clone();
                std::thread::spawn(move || serve(client, target_port, mode, &state));
            }
        });
        Proxy { port, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on.
    pub fn set(&self, mode: Mode) {
        let mut s = self.state.lock().unwrap();
        s.mode = mode;
        s.remaining = None;
    }

    /// For the next `n` connections, then forward again.
    pub fn next(&self, n: u32, mode: Mode) {
        let mut s = self.state.lock().unwrap();
        s.mode = mode;
        s.remaining = Some(n);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.set(Mode::Delay(delay));
    }

    /// Forwards the next request whose text contains `needle` (a value
    /// placeholder only one kind of write uses) and drops the service's
    /// answer to it: that write lands, the client never learns it, and its
    /// SDK sends it again. Other requests go on as before.
    pub fn drop_answer_to_next(&self, needle: &'static str) {
        self.state.lock().unwrap().drop_next = Some(needle);
    }

    /// Answers the next `times` requests whose text contains `needle`
    /// (`DELETE /`: an S3 delete) with a server error, without forwarding
    /// them. Other requests go on as before.
    pub fn fail_requests_containing(&self, needle: &'static str, times: u32) {
        self.state.lock().unwrap().fail_matching = Some((needle, times));
    }

    /// Holds the next request whose text contains `needle` for `delay`
    /// before forwarding it; other requests go on as before.
    pub fn hold_next_containing(&self, needle: &'static str, delay: Duration) {
        self.hold_requests_containing(needle, delay, 1);
    }

    /// As [`Proxy::hold_next_containing`], for the next `times` such
    /// requests (an SDK's retries included).
    pub fn hold_requests_containing(&self, needle: &'static str, delay: Duration, times: u32) {
        self.state.lock().unwrap().hold_next = Some((needle, delay, times));
    }

    /// Requests held by [`Proxy::hold_next_containing`] now.
    pub fn holding(&self) -> u32 {
        self.state.lock().unwrap().holding
    }

    /// Requests forwarded and answered whose first line contains `needle`
    /// (`GET /bucket/`).
    pub fn answered(&self, needle: &str) -> usize {
        let s = self.state.lock().unwrap();
        s.answered.iter().filter(|l| l.contains(needle)).count()
    }

    /// Connections not simply forwarded so far.
    pub fn failed_connections(&self) -> u32 {
        self.state.lock().unwrap().failed
    }

    /// Answers the service gave that are being held back (`DelayAnswer`),
    /// or were.
    pub fn held_answers(&self) -> u32 {
        self.state.lock().unwrap().held
    }
}

fn serve(client: TcpStream, target_port: u16, mode: Mode, state: &Mutex<State>) {
    match mode {
        Mode::Forward => {
            let mut client = client;
            let request = read_request(&mut client);
            let fail = {
                let mut s = state.lock().unwrap();
                match s.fail_matching {
                    Some((needle, n)) if n > 0 && contains(&request, needle) => {
                        s.fail_matching = Some((needle, n - 1));
                        s.failed += 1;
                        true
                    }
                    _ => false,
                }
            };
            if fail {
                let body = "<Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>";
                let _ = write!(
                    client,
                    "HTTP/1.1 500 Injected\r\nContent-Type: application/xml\r\nx-amzn-RequestId: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            let hold = {
                let mut s = state.lock().unwrap();
                match s.hold_next {
                    Some((needle, delay, n)) if n > 0 && contains(&request, needle) => {
                        s.hold_next = Some((needle, delay, n - 1));
                        s.holding += 1;
                        Some(delay)
                    }
                    _ => None,
                }
            };
            if let Some(delay) = hold {
                std::thread::sleep(delay);
                state.lock().unwrap().holding -= 1;
            }
            let Some(response) = send(&request, target_port) else {
                return;
            };
            let dropped = {
                let mut s = state.lock().unwrap();
                let hit = s.drop_next.is_some_and(|needle| contains(&request, needle));
                if hit {
                    s.drop_next = None;
                    s.failed += 1;
                }
                hit
            };
            if !dropped {
                let _ = client.write_all(&response);
                let line = request.split(|b| *b == b'\n').next().unwrap_or_default();
                let line = String::from_utf8_lossy(line).into_owned();
                state.lock().unwrap().answered.push(line);
            }
            let _ = client.shutdown(Shutdown::Both);
        }
        Mode::DelayAnswer(d) => {
            let Some((mut client, _, response)) = exchange(client, target_port) else {
                return;
            };
            state.lock().unwrap().held += 1;
            std::thread::sleep(d);
            let _ = client.write_all(&response);
            let _ = client.shutdown(Shutdown::Both);
        }
        Mode::Refuse => {
            let _ = client.shutdown(Shutdown::Both);
        }
        Mode::Blackhole => {
            std::thread::sleep(Duration::from_secs(120));
            drop(client);
        }
        Mode::Delay(d) => {
            std::thread::sleep(d);
            forward(client, target_port, true);
        }
        Mode::DropResponse => forward(client, target_port, false),
        Mode::Answer(status, error) => {
            let mut client = client;
            let _ = read_request(&mut client);
            let body = format!(
                r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error}","message":"injected by the test proxy"}}"#
            );
            let _ = write!(
                client,
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

/// Reads one HTTP request (headers, then Content-Length bytes of body).
fn read_request(client: &mut TcpStream) -> Vec<u8> {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    while let Ok(n) = client.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    buf
}

/// Copies the request to the service and, if `answer`, the answer back;
/// otherwise the answer is read and dropped, and the client's connection
/// closed: the write landed, the client never learns it.
fn forward(client: TcpStream, target_port: u16, answer: bool) {
    let Some((mut client, _, response)) = exchange(client, target_port) else {
        return;
    };
    if answer {
        let _ = client.write_all(&response);
    }
    let _ = client.shutdown(Shutdown::Both);
}

/// The client's request, sent to the service, and the service's answer.
fn exchange(mut client: TcpStream, target_port: u16) -> Option<(TcpStream, Vec<u8>, Vec<u8>)> {
    let request = read_request(&mut client);
    let response = send(&request, target_port)?;
    Some((client, request, response))
}

/// Sends a request to the service; its answer.
fn send(request: &[u8], target_port: u16) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", target_port)).ok()?;
    server.write_all(request).ok()?;
    let mut response = Vec::new();
    let _ = server.read_to_end(&mut response);
    Some(response)
}

fn contains(request: &[u8], needle: &str) -> bool {
    request
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
