//! The server as a process, the way operators run it: configuration from `application.conf`, `PORT` and the
//! command line, logs on stdout, one clear line and a non-zero exit for a bad configuration, exit 0 after
//! SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const SERVER: &str = env!("CARGO_BIN_EXE_rotor-tests-server");
const PATIENCE: Duration = Duration::from_secs(20);

/// A directory with `application.conf` holding `conf`.
fn workdir(name: &str, conf: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rotor-process-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("application.conf"), conf).unwrap();
    dir
}

fn command(dir: &Path, args: &[&str], port_env: Option<&str>) -> Command {
    let mut command = Command::new(SERVER);
    command.current_dir(dir).args(args).env("RUST_LOG", "info").env_remove("PORT");
    if let Some(port) = port_env {
        command.env("PORT", port);
    }
    command
}

/// A running server process and the lines of its stdout.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    port: u16,
}

impl Running {
    /// Starts the process and waits for the log line with its loopback URL.
    fn start(mut command: Command) -> Running {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let port = loop {
            let line = lines.recv_timeout(PATIENCE).expect("the server logs where it listens");
            if let Some(url) = line.split("Responding at http://127.0.0.1:").nth(1) {
                break url.trim().parse().unwrap();
            }
        };
        Running { child, lines, port }
    }

    fn wait_for_line(&self, needle: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("no log line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
        self.wait_for_line("Server stopped");
        self.child.wait().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on 127.0.0.1:`port` with a plain blocking socket; the status line and body.
fn get(port: u16, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

/// Runs a process that must fail, and returns its exit code and stderr; one still running after `PATIENCE`
/// is killed and fails the test.
fn fails(command: &mut Command) -> (i32, String) {
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).ok();
        text
    });
    let (sender, done) = mpsc::channel();
    let pid = child.id();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = sender.send(());
        status
    });
    if done.recv_timeout(PATIENCE).is_err() {
        let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        panic!("the server was expected to fail at startup, but it kept running");
    }
    let status = waiter.join().unwrap().unwrap();
    (status.code().unwrap_or(-1), reader.join().unwrap())
}

/// A port on 127.0.0.1 that is taken for as long as the returned listener lives.
fn taken_port() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    (listener, port)
}

const CONF: &str = "rotor {\n  deployment {\n    host = 127.0.0.1\n    port = ${?PORT}\n  }\n  application.modules = [ hello, slow ]\n}\n";

#[test]
fn port_comes_from_the_environment_and_sigterm_stops_with_exit_0() {
    let dir = workdir("port-env", CONF);
    let server = Running::start(command(&dir, &[], Some("0")));
    let (status, body) = get(server.port, "/");
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "Hello, world!");
    let exit = server.terminate();
    assert_eq!(exit.code(), Some(0), "a graceful stop exits 0");
}

#[test]
fn the_port_flag_beats_the_port_variable() {
    // PORT names a port that is taken: starting on it would fail. -port=0 wins, so the server starts.
    let (_taken, port) = taken_port();
    let dir = workdir("port-flag", CONF);
    let (code, stderr) = fails(&mut command(&dir, &[], Some(&port)));
    assert_eq!(code, 1, "PORT is used when no flag is given: {stderr}");
    assert!(stderr.contains(&port), "{stderr}");
    let server = Running::start(command(&dir, &["-port=0"], Some(&port)));
    assert_eq!(get(server.port, "/").1, "Hello, world!");
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn a_config_property_beats_the_file_and_a_flag_beats_the_property() {
    let (_taken, port) = taken_port();
    let dir = workdir(
        "precedence",
        "rotor.deployment { host = 127.0.0.1, port = 0 }\nrotor.application.modules = [ hello ]\n",
    );
    // -P: beats the file: the taken port from -P: is used, and fails.
    let (code, stderr) = fails(&mut command(&dir, &[&format!("-P:rotor.deployment.port={port}")], None));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
    // A flag beats -P:.
    let server = Running::start(command(&dir, &[&format!("-P:rotor.deployment.port={port}"), "-port=0"], None));
    assert_eq!(get(server.port, "/").1, "Hello, world!");
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn sigterm_lets_a_call_in_flight_finish() {
    let dir = workdir("in-flight", CONF);
    let server = Running::start(command(&dir, &[], Some("0")));
    let port = server.port;
    let call = std::thread::spawn(move || get(port, "/slow?ms=500"));
    // The handler logs when it starts; the stop begins while it sleeps (500 ms, within the 1 s grace period).
    server.wait_for_line("slow call started");
    let exit = server.terminate();
    let (status, body) = call.join().unwrap();
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "slept 500 ms");
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn a_malformed_config_names_file_line_and_column_and_exits_1() {
    let dir = workdir("malformed", "rotor {\n  deployment {\n    port = = 8080\n  }\n}\n");
    let (code, stderr) = fails(&mut command(&dir, &[], None));
    assert_eq!(code, 1);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line: {stderr}");
    assert!(lines[0].contains("application.conf:3:"), "{stderr}");
}

#[test]
fn a_value_of_the_wrong_type_names_the_key() {
    let dir = workdir("wrong-type", "rotor.deployment.port = eighty\nrotor.application.modules = [ hello ]\n");
    let (code, stderr) = fails(&mut command(&dir, &[], None));
    assert_eq!(code, 1);
    assert!(stderr.contains("rotor.deployment.port"), "{stderr}");
    assert!(stderr.contains("eighty"), "{stderr}");
}

#[test]
fn an_unknown_module_lists_the_registered_ones() {
    let dir = workdir(
        "unknown-module",
        "rotor.deployment { host = 127.0.0.1, port = 0 }\nrotor.application.modules = [ helo ]\n",
    );
    let (code, stderr) = fails(&mut command(&dir, &[], None));
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown module `helo`"), "{stderr}");
    assert!(stderr.contains("hello, slow"), "{stderr}");
}

#[test]
fn a_port_in_use_says_so_and_suggests_port_or_the_flag() {
    let (_taken, port) = taken_port();
    let dir = workdir("in-use", "rotor.deployment.host = 127.0.0.1\nrotor.application.modules = [ hello ]\n");
    let (code, stderr) = fails(&mut command(&dir, &[&format!("-port={port}")], None));
    assert_eq!(code, 1);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("PORT") && stderr.contains("-port="), "{stderr}");
}

#[test]
fn an_unknown_flag_lists_the_known_ones() {
    let dir = workdir("flag", CONF);
    let (code, stderr) = fails(&mut command(&dir, &["-prot=8080"], None));
    assert_eq!(code, 1);
    assert!(stderr.contains("-prot"), "{stderr}");
    assert!(stderr.contains("-port="), "{stderr}");
}

#[test]
fn ktor_keys_are_read_as_well() {
    let dir = workdir(
        "ktor",
        "ktor {\n  deployment { host = 127.0.0.1, port = 0 }\n  application { modules = [ hello ] }\n}\n",
    );
    let server = Running::start(command(&dir, &[], None));
    assert_eq!(get(server.port, "/").1, "Hello, world!");
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn thread_per_core_serves_on_the_port_and_sigterm_lets_a_call_in_flight_finish() {
    let dir = workdir(
        "thread-per-core",
        "rotor {\n  deployment {\n    host = 127.0.0.1\n    port = 0\n    runtime = thread-per-core\n    workers = 2\n  }\n  \
         application.modules = [ hello, slow ]\n}\n",
    );
    let server = Running::start(command(&dir, &[], None));
    let port = server.port;
    for _ in 0..10 {
        let (status, body) = get(port, "/");
        assert!(status.contains("200"), "{status}");
        assert_eq!(body, "Hello, world!");
    }
    let call = std::thread::spawn(move || get(port, "/slow?ms=500"));
    server.wait_for_line("slow call started");
    let exit = server.terminate();
    let (status, body) = call.join().unwrap();
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "slept 500 ms");
    assert_eq!(exit.code(), Some(0), "a graceful stop exits 0");
}

#[test]
fn an_unknown_runtime_names_the_key_and_the_choices() {
    let dir = workdir(
        "bad-runtime",
        "rotor.deployment { host = 127.0.0.1, port = 0, runtime = fast }\nrotor.application.modules = [ hello ]\n",
    );
    let (code, stderr) = fails(&mut command(&dir, &[], None));
    assert_eq!(code, 1);
    assert!(stderr.contains("rotor.deployment.runtime") && stderr.contains("thread-per-core"), "{stderr}");
}
