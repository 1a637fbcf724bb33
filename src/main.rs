//! The `tflock` binary: everything lives in the library; this only maps the
//! outcome to a process exit code.

fn main() -> std::process::ExitCode {
    tflock::main()
}
