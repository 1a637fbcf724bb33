//! A real moto server (DynamoDB + S3) on a free loopback port, one per test
//! process, shared by all tests (each uses its own table and bucket).
//! Started through scripts/moto_server.py, which makes each request atomic as
//! DynamoDB's conditional writes are (plain moto lets them interleave).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Moto {
    pub port: u16,
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The interpreter with moto installed: `TFLOCK_TEST_PYTHON` (set by
/// scripts/test) or `python3`.
pub fn python() -> String {
    std::env::var("TFLOCK_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

pub fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        for _ in 0..3 {
            if let Some(moto) = start() {
                return moto;
            }
        }
        panic!(
            "could not start moto with `{} scripts/moto_server.py`: run the tests with scripts/test, \
             which installs moto[server] when it is missing",
            python()
        );
    })
}

fn start() -> Option<Moto> {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("tflock-test-moto-{port}.log"));
    let (tx, rx) = std::sync::mpsc::channel();
    // The server must die with the test process. PR_SET_PDEATHSIG fires when
    // the spawning *thread* exits, so spawn from a thread that never does.
    std::thread::spawn(move || {
        let log = std::fs::File::create(&log).expect("moto log file");
        let launcher =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_server.py");
        let mut cmd = Command::new(python());
        cmd.arg(launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
                Ok(())
            });
        }
        let child = cmd.spawn();
        let ok = child.is_ok();
        tx.send(ok).ok();
        if let Ok(mut child) = child {
            let _ = child.wait();
        }
        loop {
            std::thread::park();
        }
    });
    if !rx.recv().ok()? {
        return None;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http_ok(port) {
            return Some(Moto { port });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// One raw HTTP request to moto; returns the status code.
pub fn http(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

fn http_ok(port: u16) -> bool {
    http(port, "GET", "/moto-api/").is_some()
}

/// Creates an S3 bucket (moto accepts unsigned path-style requests).
pub fn create_bucket(moto: &Moto, bucket: &str) {
    let status = http(moto.port, "PUT", &format!("/{bucket}"));
    assert_eq!(status, Some(200), "create bucket {bucket}");
}

/// A moto server of one test's own, which it may stop and restart (empty:
/// moto keeps everything in memory). Stopped when dropped.
pub struct OwnMoto {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl OwnMoto {
    pub fn start() -> OwnMoto {
        let mut own = OwnMoto {
            port: free_port(),
            child: None,
        };
        own.launch();
        own
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        let launcher =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_server.py");
        let child = Command::new(python())
            .arg(launcher)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http_ok(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not start on port {}", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server and starts a fresh, empty one on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An S3 request as an account's (moto checks no signature, but serves
/// anonymous reads only for public objects): (status, body).
pub fn s3(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let (status, _, body) = s3_with(port, method, path, &[], body);
    (status, body)
}

/// [`s3`] with extra request headers; the answer's status, headers (one
/// `name: value` per line, as sent) and body.
pub fn s3_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\
         {extra}Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (answer_head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, answer_head.to_string(), body.to_string())
}
